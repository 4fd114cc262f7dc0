"""Both video readers return exactly the frames asked for.

The videos of ``video_factory`` encode their own frame index in their colour (lossless H.264
and GIF), so ``index_of_frame`` tells which frame a reader really returned. Lossy files (MPEG-4
in AVI) are compared with a plain sequential PyAV decode instead: frame ``i`` is the ``i``-th
frame the decoder outputs.
"""

from pathlib import Path
from typing import List

import av
import numpy as np
import pytest
import torch

from mmaction.datasets.video_io import DecordReader, PyAVReader, open_video
from mmaction.registry import TRANSFORMS

from .video_factory import index_of_frame

READERS = [DecordReader, PyAVReader]
LOSSLESS = {"v300.mp4": 300, "v64.mp4": 64, "v30.mkv": 30, "v1.mp4": 1, "odd.mp4": 12, "v16.gif": 16, "vfr.mp4": 12}
SIZES = {"odd.mp4": (35, 47)}

pytestmark = pytest.mark.timeout(60)


def indices_of(frames: np.ndarray) -> List[int]:
    return [index_of_frame(f) for f in frames]


def sequential_decode(path: Path) -> np.ndarray:
    """Every frame in decoder output order, with PyAV directly (the ground truth)."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_random_access_is_exact(video_dir, reader_cls, name):
    total = LOSSLESS[name]
    with reader_cls(str(video_dir / name)) as reader:
        assert reader.num_frames == total
        rng = np.random.default_rng(total)
        wanted = rng.integers(0, total, size=min(3 * total, 40)).tolist() + [total - 1, 0]
        frames = reader.read(wanted)
        h, w = SIZES.get(name, (48, 64))
        assert frames.shape == (len(wanted), h, w, 3) and frames.dtype == np.uint8
        assert indices_of(frames) == wanted


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
def test_gop_boundaries(video_dir, reader_cls):
    """v300.mp4 has a key frame every 30 frames and B-frames: frames next to key frames, in any order."""
    wanted = [29, 30, 31, 59, 60, 61, 299, 298, 270, 269, 0, 1, 150, 149, 151, 89, 90]
    with reader_cls(str(video_dir / "v300.mp4")) as reader:
        assert indices_of(reader.read(wanted)) == wanted
        # the same reader again, after seeking around: still exact
        again = sorted(wanted, reverse=True)
        assert indices_of(reader.read(again)) == again


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
def test_a_clip_like_sample_frames_makes_it(video_dir, reader_cls):
    """8 frames 16 apart, 3 clips: many repeats and wrap-around across GOPs."""
    wanted = [(s + 16 * j) % 300 for s in (28, 120, 250) for j in range(8)]
    with reader_cls(str(video_dir / "v300.mp4")) as reader:
        assert indices_of(reader.read(wanted)) == wanted


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
def test_variable_frame_rate(video_dir, reader_cls):
    """vfr.mp4: 12 frames with gaps of 20 to 200 ms; index i is the i-th frame, whatever its time."""
    with reader_cls(str(video_dir / "vfr.mp4")) as reader:
        assert reader.num_frames == 12
        wanted = [11, 3, 6, 7, 2, 0, 10, 6]
        assert indices_of(reader.read(wanted)) == wanted
        assert reader.fps > 0


@pytest.mark.parametrize("reader_cls", READERS, ids=lambda c: c.backend)
def test_lossy_avi_matches_sequential_decode(video_dir, reader_cls):
    """MPEG-4 Part 2 in AVI (the UCF101 format): random access equals the decoder's output order."""
    path = video_dir / "v20.avi"
    truth = sequential_decode(path).astype(np.int16)
    with reader_cls(str(path)) as reader:
        assert reader.num_frames == len(truth) == 20
        wanted = [19, 0, 7, 6, 12, 5, 18, 13, 13]
        got = reader.read(wanted).astype(np.int16)
    for i, frame in zip(wanted, got):
        errors = [np.abs(frame - t).mean() for t in truth]
        assert int(np.argmin(errors)) == i or errors[i] == min(errors)
        assert errors[i] < 1.0


def test_readers_agree_on_every_frame(video_dir):
    for name in ("v64.mp4", "v30.mkv", "vfr.mp4", "v16.gif"):
        a = DecordReader(str(video_dir / name))
        b = PyAVReader(str(video_dir / name))
        every = list(range(a.num_frames))
        np.testing.assert_array_equal(a.read(every), b.read(every))
        a.close()
        b.close()


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_out_of_range_index_is_an_error(video_dir, backend):
    with open_video(str(video_dir / "v64.mp4"), backend=backend) as reader:
        with pytest.raises(IndexError, match="v64.mp4"):
            reader.read([0, 64])
        with pytest.raises(IndexError):
            reader.read([-1])


@pytest.mark.parametrize("init,decode", [("DecordInit", "DecordDecode"), ("PyAVInit", "PyAVDecode")])
def test_pipeline_returns_the_sampled_frames(video_dir, init, decode):
    """Init + SampleFrames + Decode: imgs[k] is frame frame_inds[k] (test mode, 3 clips)."""
    steps = [TRANSFORMS.build(dict(type=init)),
             TRANSFORMS.build(dict(type="SampleFrames", clip_len=8, frame_interval=4, num_clips=3, test_mode=True)),
             TRANSFORMS.build(dict(type=decode))]
    results = dict(filename=str(video_dir / "v300.mp4"), start_index=0, label=0)
    for step in steps:
        results = step(results)
    imgs = results["imgs"]
    assert tuple(imgs.shape) == (24, 3, 48, 64) and imgs.dtype == torch.uint8
    assert [index_of_frame(f.numpy()) for f in imgs] == results["frame_inds"].tolist()
    assert results["total_frames"] == 300 and "video_reader" not in results
    assert results["img_shape"] == (48, 64) == results["original_shape"]
