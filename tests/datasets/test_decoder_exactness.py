"""Files on which decord's seeking is not frame-exact are read with PyAV, and every frame is right.

The files are written here with PyAV in the formats where decord was seen to return other frames
than asked (issue 13): MPEG-2 with B-frames in an MPEG program stream (open GOPs), MPEG-4 Part 2
with B-frames in AVI, and files whose first frames cannot be decoded (the first key frame cut
off). Their frames spell their own number in 16x16 blocks (``video_factory.frame_with_bits``),
which lossy coding keeps, so a wrong frame is told apart from codec noise. The ground truth is a
plain sequential PyAV decode: frame ``i`` is the ``i``-th frame the decoder outputs.
"""

import importlib
from pathlib import Path
from typing import List, Sequence

import av
import numpy as np
import pytest

from mmaction.datasets.video_io import (
    DecordReader,
    InexactSeekError,
    PyAVReader,
    VideoDecodeError,
    open_video,
    scan_frames,
)
from mmaction.registry import TRANSFORMS

from .video_factory import drop_leading_packets, frame_with_bits, index_of_bits, write_bits_video, write_video

pytestmark = pytest.mark.timeout(120)

PIPELINES = [("DecordInit", "DecordDecode"), ("PyAVInit", "PyAVDecode")]
SAMPLINGS = [
    dict(clip_len=8, frame_interval=4, num_clips=3, test_mode=True),
    dict(clip_len=16, frame_interval=1, num_clips=1, test_mode=True),
    dict(clip_len=8, frame_interval=2, num_clips=1),  # training: random offsets (seeded below)
]


@pytest.fixture(scope="module")
def hard_dir(tmp_path_factory) -> Path:
    """mpeg2_ps.mpg, mpeg4_b.avi (60 frames, key frame every 12, 2 B-frames), their copies without
    the first key frame (cut_*), and an H.264 MP4 without its first key frame (cut_h264.mp4)."""
    root = tmp_path_factory.mktemp("hard_videos")
    write_bits_video(root / "mpeg2_ps.mpg", 60, "mpeg2video", container_format="mpeg")
    write_bits_video(root / "mpeg4_b.avi", 60, "mpeg4")
    drop_leading_packets(root / "mpeg2_ps.mpg", root / "cut_mpeg2_ps.mpg", 1, container_format="mpeg")
    drop_leading_packets(root / "mpeg4_b.avi", root / "cut_mpeg4_b.avi", 1)
    write_video(root / "h264.mp4", 48, gop=12)
    drop_leading_packets(root / "h264.mp4", root / "cut_h264.mp4", 1)
    return root


HARD_FILES = ["mpeg2_ps.mpg", "mpeg4_b.avi", "cut_mpeg2_ps.mpg", "cut_mpeg4_b.avi", "cut_h264.mp4"]


def sequential_frames(path: Path) -> List[np.ndarray]:
    """Every frame the decoder outputs, in order (single-threaded, as the readers decode)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)]


def run_pipeline(path: Path, init: str, decode: str, sampling: dict, seed: int) -> dict:
    np.random.seed(seed)
    steps = [TRANSFORMS.build(dict(type=init)), TRANSFORMS.build(dict(type="SampleFrames", **sampling)),
             TRANSFORMS.build(dict(type=decode))]
    results = dict(filename=str(path), start_index=0, label=0)
    for step in steps:
        results = step(results)
    return results


def assert_frames_equal_truth(frames: np.ndarray, inds: Sequence[int], truth: List[np.ndarray], name: str) -> None:
    for k, (frame, i) in enumerate(zip(frames, inds)):
        expected = truth[int(i)]
        diff = np.abs(frame.astype(np.int16) - expected.astype(np.int16)).mean()
        assert diff < 1.0, (
            f"{name}: sample {k} (frame {i}) differs from the sequential decode by {diff:.1f}; "
            f"it spells {index_of_bits(frame)}, frame {i} spells {index_of_bits(expected)}"
        )


def test_the_files_hold_what_the_tests_assume(hard_dir):
    """The written files really have the properties under test (guards the factory)."""
    truth = sequential_frames(hard_dir / "mpeg2_ps.mpg")
    assert [index_of_bits(f) for f in truth] == list(range(60))
    assert [index_of_bits(f) for f in sequential_frames(hard_dir / "mpeg4_b.avi")] == list(range(60))
    # without their first key frame, the decoder cannot show the first frames
    cut = sequential_frames(hard_dir / "cut_mpeg2_ps.mpg")
    assert index_of_bits(cut[0]) > 0 and len(cut) < 60
    assert index_of_bits(frame_with_bits(2730)) == 2730
    with av.open(str(hard_dir / "mpeg2_ps.mpg")) as c:
        packets = [(p.pts, p.is_keyframe) for p in c.demux(c.streams.video[0]) if p.size]
    # open GOP: a packet stored after a later key frame is shown before it
    later_keys = [k for k, (_, key) in enumerate(packets) if key and k > 0]
    assert any(packets[k + 1][0] < packets[k][0] for k in later_keys)


@pytest.mark.parametrize("name,kind", [
    ("mpeg2_ps.mpg", "open GOP"),
    ("mpeg4_b.avi", "B-frames in avi"),
    ("cut_mpeg2_ps.mpg", "first packet is not a key frame"),
    ("cut_mpeg4_b.avi", "B-frames in avi"),
    ("cut_h264.mp4", "first packet is not a key frame"),
    ("h264.mp4", ""),
])
def test_the_demux_pass_names_what_makes_seeking_inexact(hard_dir, name, kind):
    index = scan_frames(str(hard_dir / name))
    if kind:
        assert kind in index.seek_problem
    else:
        with av.open(str(hard_dir / name)) as c:
            packets = [(p.pts, p.is_keyframe) for p in c.demux(c.streams.video[0]) if p.size]
        order = sorted(pts for pts, _ in packets)
        keys = tuple(sorted(order.index(pts) for pts, key in packets if key))
        assert index.seek_problem == "" and index.num_frames == 48 == len(order)
        assert index.key_indices == keys and keys[0] == 0 and len(keys) >= 4
        assert index.pts.tolist() == order
    assert scan_frames(str(hard_dir / name)) is index  # cached


@pytest.mark.parametrize("name", HARD_FILES)
def test_decord_refuses_what_it_cannot_read_exactly(hard_dir, name):
    path = str(hard_dir / name)
    with pytest.raises(InexactSeekError, match=name) as info:
        DecordReader(path)
    assert info.value.filename == path and "frame-exactly" in info.value.reason
    with pytest.raises(InexactSeekError):
        open_video(path, backend="decord", fallback=False)
    with open_video(path, backend="decord") as reader:
        assert isinstance(reader, PyAVReader)


@pytest.mark.parametrize("init,decode", PIPELINES)
@pytest.mark.parametrize("name", HARD_FILES)
def test_every_sampled_frame_is_the_sequential_decodes(hard_dir, name, init, decode):
    path = hard_dir / name
    truth = sequential_frames(path)
    for s, sampling in enumerate(SAMPLINGS):
        for seed in range(2 if not sampling.get("test_mode") else 1):
            results = run_pipeline(path, init, decode, sampling, seed)
            assert results["total_frames"] == len(truth)
            frames = results["imgs"].numpy().transpose(0, 2, 3, 1)
            assert frames.shape[0] == len(results["frame_inds"])
            assert_frames_equal_truth(frames, results["frame_inds"], truth, f"{name} {init} sampling {s}")


@pytest.mark.parametrize("reader_cls", [PyAVReader])
@pytest.mark.parametrize("name", HARD_FILES)
def test_random_order_reads_with_repeats(hard_dir, name, reader_cls):
    """Reads across GOP boundaries, backwards and repeated, on one reader: still frame-exact."""
    path = hard_dir / name
    truth = sequential_frames(path)
    n = len(truth)
    wanted = [min(i, n - 1) for i in (n - 1, 0, 13, 12, 11, n // 2, 1, 24, 23, 36, n - 1, 0, 12)]
    with reader_cls(str(path)) as reader:
        assert reader.num_frames == n
        assert_frames_equal_truth(reader.read(wanted), wanted, truth, name)
        assert_frames_equal_truth(reader.read(wanted[::-1]), wanted[::-1], truth, name)


def test_the_fallback_is_logged_once_per_file(hard_dir, tmp_path, monkeypatch):
    said: List[str] = []
    # the package's ``open_video`` attribute is the function; the module holds print_log
    monkeypatch.setattr(importlib.import_module("mmaction.datasets.video_io.open_video"), "print_log", lambda msg, **kw: said.append(msg))
    copy = tmp_path / "again.mpg"
    copy.write_bytes((hard_dir / "mpeg2_ps.mpg").read_bytes())
    for _ in range(3):
        open_video(str(copy)).close()
    assert len(said) == 1
    assert str(copy) in said[0] and "PyAV instead of decord" in said[0] and "open GOP" in said[0]
    open_video(str(hard_dir / "h264.mp4")).close()  # decord is exact there: nothing said
    assert len(said) == 1


def test_check_videos_full_reports_disagreeing_decoders(hard_dir, tmp_path, capsys):
    """decord alone returns other frames on the MPEG-2 program stream; the tool says which and where."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "check_videos", Path(__file__).resolve().parents[2] / "tools" / "data" / "check_videos.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{hard_dir / 'mpeg2_ps.mpg'} 0\n{hard_dir / 'h264.mp4'} 1\n")
    assert tool.main([str(listing), "--mode", "full"]) == 0
    out = capsys.readouterr().out
    disagree = [ln for ln in out.splitlines() if ln.startswith("DISAGREE")]
    assert len(disagree) == 1 and "mpeg2_ps.mpg" in disagree[0] and "decord alone" in disagree[0]
    assert "2 readable, 0 unreadable" in out and "on 1 of them another decoder disagrees" in out
    # decord alone as the backend: refused (cannot be shown exact), so unreadable by name
    assert tool.main([str(listing), "--mode", "full", "--no-fallback"]) == 1
    out = capsys.readouterr().out
    assert "UNREADABLE" in out and "mpeg2_ps.mpg" in out and "frame-exactly" in out


def test_pyav_checks_the_timestamp_of_every_decoded_frame(shared_dir, monkeypatch):
    """mmaction2_test.avi (MPEG-4 with packed B-frames): the demuxer's timestamps are guesses and
    the decoded frames come out with timestamps out of order. With the scan-time AVI rule turned
    off, the reader must notice it from the decoded frames themselves, switch to decoder order,
    and still return the sequential decode's frames."""
    from mmaction.datasets.video_io import frame_index, pyav_reader

    path = shared_dir / "data" / "videos" / "real" / "mmaction2_test.avi"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    monkeypatch.setattr(frame_index, "NO_PTS_CONTAINERS", frozenset())
    monkeypatch.setattr(frame_index, "_cache", type(frame_index._cache)())
    monkeypatch.setattr(pyav_reader, "_sequential_files", {})
    truth = sequential_frames(path)
    wanted = [5, 4, 3, 40, 41, 42, 100, len(truth) - 1]
    with PyAVReader(str(path)) as reader:
        assert reader.sequential_reason == "" and reader.num_frames == len(truth)
        frames = reader.read(wanted)
        assert "contradict the container's timestamps" in reader.sequential_reason
    assert_frames_equal_truth(frames, wanted, truth, path.name)
    with PyAVReader(str(path)) as again:  # later readers of the file know it at once
        assert again.sequential_reason.startswith("decoded frames contradict")


def test_the_index_is_cached_per_file_version(tmp_path, monkeypatch):
    from mmaction.datasets.video_io import frame_index

    path = tmp_path / "v.mkv"
    write_video(path, 10, gop=5)
    first = scan_frames(str(path))
    assert first.num_frames == 10 and scan_frames(str(path)) is first
    write_video(path, 14, gop=5)  # rewritten: other size (and mtime)
    second = scan_frames(str(path))
    assert second is not first and second.num_frames == 14
    # bounded: past CACHE_FRAMES timestamps in all, the least recently used index is forgotten
    frame_index.clear_cache()
    monkeypatch.setattr(frame_index, "CACHE_FRAMES", 20)
    other = write_video(tmp_path / "w.mkv", 12, gop=5)
    kept = scan_frames(str(path))
    scan_frames(str(other))  # 14 + 12 > 20: the index of v.mkv goes
    assert scan_frames(str(other)) is scan_frames(str(other))
    assert scan_frames(str(path)) is not kept


@pytest.mark.parametrize("name", ["mpeg4_b.avi", "mpeg2_ps.mpg"])
def test_truncated_hard_files_read_what_decodes(hard_dir, tmp_path, name):
    """Cut at 60 %: both pipelines give the frames a sequential decode of the cut file gives, or
    (the AVI, whose index is at its end: FFmpeg cannot open it) an error naming the file."""
    cut = tmp_path / name
    data = (hard_dir / name).read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    try:
        truth = sequential_frames(cut)
    except av.error.FFmpegError:
        for init, decode in PIPELINES:
            with pytest.raises(VideoDecodeError, match=name):
                run_pipeline(cut, init, decode, SAMPLINGS[1], 0)
        return
    assert 0 < len(truth) < 60
    for init, decode in PIPELINES:
        results = run_pipeline(cut, init, decode, SAMPLINGS[1], 0)
        assert results["total_frames"] == len(truth)
        frames = results["imgs"].numpy().transpose(0, 2, 3, 1)
        assert_frames_equal_truth(frames, results["frame_inds"], truth, f"cut {name} {init}")
