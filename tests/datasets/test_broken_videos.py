"""Damaged, empty and missing video files: a named error or usable frames, never a hang or a crash.

Every error must be a :class:`VideoDecodeError` (what the datasets catch) whose message names the
file. Files that can still be partly decoded must give frames of the right shape.
"""

import os
import time

import numpy as np
import pytest

from mmaction.datasets.video_io import (
    DecodeTimeoutError,
    DecordReader,
    EmptyVideoFileError,
    PyAVReader,
    VideoDecodeError,
    VideoFileMissingError,
    open_video,
    time_limit,
)
from mmaction.registry import TRANSFORMS

from .video_factory import index_of_frame

pytestmark = pytest.mark.timeout(60)
READERS = [DecordReader, PyAVReader]
BACKENDS = ["decord", "pyav"]


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
@pytest.mark.parametrize(
    "name,error",
    [("empty.mp4", EmptyVideoFileError), ("truncated.mp4", VideoDecodeError), ("garbage.mp4", VideoDecodeError),
     ("missing.mp4", VideoFileMissingError)],
)
def test_unreadable_file_raises_a_named_error(video_dir, reader_cls, name, error):
    path = str(video_dir / name)
    with pytest.raises(error) as info:
        reader_cls(path)
    assert info.value.filename == path
    assert path in str(info.value)
    assert info.value.reason


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fallback", [True, False])
@pytest.mark.parametrize("name", ["empty.mp4", "truncated.mp4", "garbage.mp4", "missing.mp4"])
def test_open_video_never_returns_a_broken_reader(video_dir, backend, fallback, name):
    path = str(video_dir / name)
    with pytest.raises(VideoDecodeError, match=name):
        open_video(path, backend=backend, fallback=fallback)


def test_folder_instead_of_file(video_dir):
    with pytest.raises(VideoFileMissingError, match="not a regular file"):
        open_video(str(video_dir), backend="pyav")


@pytest.mark.parametrize("backend", BACKENDS)
def test_file_without_video_stream(broken_dir, backend):
    path = str(broken_dir / "audio_only.mkv")
    with pytest.raises(VideoDecodeError, match="audio_only.mkv") as info:
        open_video(path, backend=backend)
    assert "no video stream" in str(info.value)


def test_failed_open_leaves_no_warning_behind(video_dir):
    """A reader whose __init__ raised is garbage collected without an 'Exception ignored' error."""
    import gc
    import sys

    errors = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: errors.append(u)
    try:
        for _ in range(3):
            with pytest.raises(VideoDecodeError):
                PyAVReader(str(video_dir / "empty.mp4"))
        gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert errors == []


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
def test_truncated_container_counts_only_the_frames_present(broken_dir, reader_cls):
    """cut.mkv: the header says 100 frames, 60 % of the file is there; indices cover what can be read."""
    with reader_cls(str(broken_dir / "cut.mkv")) as reader:
        n = reader.num_frames
        assert 0 < n < 100
        wanted = list(range(0, n, 7)) + [n - 1]
        frames = reader.read(wanted)
        assert frames.shape == (len(wanted), 48, 64, 3)
        assert [index_of_frame(f) for f in frames] == wanted


def test_corrupt_packet_decord_alone_fails_with_the_file_name(broken_dir):
    path = str(broken_dir / "corrupt.mp4")
    reader = DecordReader(path)  # decord opens it (its index is fine) ...
    with pytest.raises(VideoDecodeError, match="corrupt.mp4"):
        reader.read(list(range(reader.num_frames)))  # ... and fails on the damaged packet


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupt_packet_is_concealed(broken_dir, backend):
    """PyAV (and decord with its PyAV fallback) skip the damaged packet and return every frame."""
    with open_video(str(broken_dir / "corrupt.mp4"), backend=backend, fallback=True) as reader:
        n = reader.num_frames
        assert n == 100
        frames = reader.read(list(range(n)))
    assert frames.shape == (100, 48, 64, 3) and frames.dtype == np.uint8
    got = [index_of_frame(f) for f in frames]
    exact = sum(g == i for i, g in enumerate(got))
    assert exact >= 80  # only the frames that depend on the damaged bytes differ
    assert all(0 <= g < 100 for g in got)  # a stand-in is another frame of the video, not garbage


@pytest.mark.parametrize("init", ["DecordInit", "PyAVInit"])
@pytest.mark.parametrize("name", ["empty.mp4", "garbage.mp4", "missing.mp4"])
def test_init_transforms_raise_named_errors(video_dir, init, name):
    step = TRANSFORMS.build(dict(type=init))
    with pytest.raises(VideoDecodeError, match=name):
        step(dict(filename=str(video_dir / name), start_index=0))


def test_time_limit_interrupts_a_slow_load():
    start = time.monotonic()
    with pytest.raises(DecodeTimeoutError, match="slow.mp4"):
        with time_limit(0.3, "slow.mp4"):
            time.sleep(5)
    assert time.monotonic() - start < 2


def test_time_limit_keeps_an_earlier_outer_alarm():
    """pytest-timeout's (or any caller's) alarm survives our limit."""
    import signal

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with time_limit(5.0, "x.mp4"):
            time.sleep(0.4)
        assert fired
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        with time_limit(0.1, "x.mp4"):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 3.0 < remaining <= 5.0  # re-armed after our shorter limit
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_errors_pickle_for_dataloader_workers(video_dir):
    import pickle

    with pytest.raises(VideoDecodeError) as info:
        open_video(str(video_dir / "garbage.mp4"), backend="pyav")
    error = info.value
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.filename == error.filename and str(copy) == str(error)
    assert os.path.basename(copy.filename) == "garbage.mp4"
