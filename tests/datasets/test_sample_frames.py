"""SampleFrames / UniformSample give MMAction2's (and AIM's) frame indices.

The reference functions below are written from the published algorithms, in plain Python, and
do not import our implementation:

- dense sampling, test mode, MMAction2 0.x ``SampleFrames._get_test_clips`` (the rule AIM's
  released numbers were measured with): ``avg = (n - clip_len * interval + 1) / num_clips``;
  if ``n > clip_len * interval - 1`` clip ``k`` starts at ``int(k * avg + avg / 2)`` (twice_sample
  also adds the clips at ``int(k * avg)``), else every clip starts at 0; frame ``j`` of a clip is
  ``start + j * interval``; indices past the end wrap (``'loop'``) or repeat the clip's largest
  in-range index (``'repeat_last'``, 0 when none is in range); ``start_index`` is added last.
- dense sampling, test mode, MMAction2 1.x (``test_clip_offsets='endpoints'``): with
  ``L = (clip_len - 1) * interval + 1`` and ``m = max(n - L, 0)``, clip ``k`` of ``c > 1`` starts at
  ``round(k * m / (c - 1))``; a single clip starts at ``m // 2``.
- uniform (TSN-style) sampling, test mode, Video Swin's / AIM's ``frame_uniform`` (PySlowFast's
  SSv2 rule, also MMAction2's ``UniformSampleFrames(out_of_bound_opt='repeat_frame')``):
  ``seg = (n - 1) / clip_len``; segment ``i`` spans ``[round(seg * i), round(seg * (i + 1))]``
  (round half to even) and the test frame is ``(start + end) // 2``.
"""

from typing import List

import numpy as np
import pytest

from mmaction.registry import TRANSFORMS

VIDEO_LENGTHS = (30, 64, 300)
DENSE_SETTINGS = [(8, 16, 3), (32, 4, 3), (8, 2, 1)]


# --------------------------------------------------------------------------- references
def ref_dense_test_indices(
    total: int,
    clip_len: int,
    interval: int,
    num_clips: int,
    start_index: int = 0,
    out_of_bound: str = "loop",
    twice_sample: bool = False,
) -> List[int]:
    """MMAction2 0.x test-mode dense sampling (see the module docstring)."""
    span = clip_len * interval
    if total > span - 1:
        avg = (total - span + 1) / float(num_clips)
        starts = [int(k * avg + avg / 2.0) for k in range(num_clips)]
        if twice_sample:
            starts += [int(k * avg) for k in range(num_clips)]
    else:
        starts = [0] * num_clips
    out: List[int] = []
    for s in starts:
        clip = [s + j * interval for j in range(clip_len)]
        if out_of_bound == "loop":
            clip = [i % total for i in clip]
        else:
            last = max([i for i in clip if i < total], default=0)
            clip = [i if i < total else last for i in clip]
        out += [i + start_index for i in clip]
    return out


def ref_dense_test_indices_v1(total: int, clip_len: int, interval: int, num_clips: int) -> List[int]:
    """MMAction2 1.x test-mode dense sampling ('endpoints'), 'loop' for out-of-range indices."""
    span = (clip_len - 1) * interval + 1
    max_offset = max(total - span, 0)
    if num_clips > 1:
        step = max_offset / float(num_clips - 1)
        starts = [int(round(k * step)) for k in range(num_clips)]
    else:
        starts = [max_offset // 2]
    return [(s + j * interval) % total for s in starts for j in range(clip_len)]


def ref_uniform_segments(total: int, clip_len: int) -> List[tuple]:
    """(start, end) of the clip_len segments of the PySlowFast rule, both ends included."""
    seg = float(total - 1) / clip_len
    return [(int(round(seg * i)), int(round(seg * (i + 1)))) for i in range(clip_len)]


def ref_uniform_test_indices(total: int, clip_len: int, start_index: int = 0) -> List[int]:
    """Video Swin / AIM ``frame_uniform`` test indices: the middle of every segment."""
    return [(a + b) // 2 + start_index for a, b in ref_uniform_segments(total, clip_len)]


def run(transform_cfg: dict, total: int, start_index: int = 0) -> dict:
    step = TRANSFORMS.build(transform_cfg)
    return step(dict(total_frames=total, start_index=start_index, filename="x.mp4"))


# --------------------------------------------------------------------------- dense, test mode
@pytest.mark.parametrize("total", VIDEO_LENGTHS)
@pytest.mark.parametrize("clip_len,interval,num_clips", DENSE_SETTINGS)
@pytest.mark.parametrize("out_of_bound", ["loop", "repeat_last"])
def test_dense_test_mode_matches_mmaction2(total, clip_len, interval, num_clips, out_of_bound):
    out = run(
        dict(type="SampleFrames", clip_len=clip_len, frame_interval=interval, num_clips=num_clips,
             test_mode=True, out_of_bound_opt=out_of_bound),
        total,
    )
    expected = ref_dense_test_indices(total, clip_len, interval, num_clips, out_of_bound=out_of_bound)
    assert out["frame_inds"].tolist() == expected
    assert out["frame_inds"].dtype.kind == "i"
    assert (out["clip_len"], out["frame_interval"], out["num_clips"]) == (clip_len, interval, num_clips)


@pytest.mark.parametrize("clip_len,interval,num_clips", DENSE_SETTINGS + [(16, 8, 3), (1, 1, 8), (4, 3, 10)])
def test_dense_test_mode_every_length(clip_len, interval, num_clips):
    """Every video length 1..400, so both branches and the boundary n = clip_len * interval are hit."""
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=clip_len, frame_interval=interval,
                                 num_clips=num_clips, test_mode=True))
    for total in range(1, 401):
        got = step(dict(total_frames=total, start_index=0))["frame_inds"].tolist()
        assert got == ref_dense_test_indices(total, clip_len, interval, num_clips), total


@pytest.mark.parametrize("start_index", [0, 1, 7])
@pytest.mark.parametrize("total", VIDEO_LENGTHS)
def test_dense_start_index_is_added(total, start_index):
    out = run(dict(type="SampleFrames", clip_len=8, frame_interval=16, num_clips=3, test_mode=True), total, start_index)
    assert out["frame_inds"].tolist() == ref_dense_test_indices(total, 8, 16, 3, start_index=start_index)


@pytest.mark.parametrize("total", [300, 128, 1000])
def test_dense_twice_sample(total):
    out = run(dict(type="SampleFrames", clip_len=8, frame_interval=16, num_clips=3, test_mode=True,
                   twice_sample=True), total)
    assert out["frame_inds"].tolist() == ref_dense_test_indices(total, 8, 16, 3, twice_sample=True)
    assert out["num_clips"] == 6  # FormatShape then sees 6 clips of 8 frames


@pytest.mark.parametrize("total", VIDEO_LENGTHS + (127, 128, 129))
@pytest.mark.parametrize("clip_len,interval,num_clips", DENSE_SETTINGS)
def test_dense_endpoints_matches_mmaction2_v1(total, clip_len, interval, num_clips):
    out = run(dict(type="SampleFrames", clip_len=clip_len, frame_interval=interval, num_clips=num_clips,
                   test_mode=True, test_clip_offsets="endpoints"), total)
    assert out["frame_inds"].tolist() == ref_dense_test_indices_v1(total, clip_len, interval, num_clips)


def test_dense_test_mode_is_deterministic():
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=8, frame_interval=16, num_clips=3, test_mode=True))
    results = []
    for seed in range(5):
        np.random.seed(seed)
        results.append(step(dict(total_frames=300, start_index=0))["frame_inds"].tolist())
    assert all(r == results[0] for r in results)


# --------------------------------------------------------------------------- uniform, test mode
@pytest.mark.parametrize("total", VIDEO_LENGTHS + (8, 9, 17))
def test_frame_uniform_test_mode_matches_video_swin(total):
    """AIM's SSv2 / Diving-48 configs: SampleFrames(clip_len=8, frame_interval=2, frame_uniform=True)."""
    out = run(dict(type="SampleFrames", clip_len=8, frame_interval=2, num_clips=1, frame_uniform=True,
                   test_mode=True), total)
    assert out["frame_inds"].tolist() == ref_uniform_test_indices(total, 8)
    assert out["num_clips"] == 1 and out["clip_len"] == 8


@pytest.mark.parametrize("total", VIDEO_LENGTHS)
@pytest.mark.parametrize("clip_len", [8, 16, 32])
@pytest.mark.parametrize("name", ["UniformSample", "UniformSampleFrames"])
def test_uniform_sample_test_mode_matches_frame_uniform(name, clip_len, total):
    cfg = dict(type=name, clip_len=clip_len, num_clips=1, test_mode=True)
    if name == "UniformSampleFrames":
        cfg["out_of_bound_opt"] = "repeat_frame"  # MMAction2's switch to the PySlowFast rule
    out = run(cfg, total, start_index=1)
    assert out["frame_inds"].tolist() == ref_uniform_test_indices(total, clip_len, start_index=1)
    assert out["frame_interval"] is None


def test_uniform_sample_multi_clip_test_mode_stays_in_segments():
    """num_clips > 1 (our extension): clip k takes a distinct point of every segment, clip-major."""
    total, clip_len, n = 300, 8, 3
    out = run(dict(type="UniformSample", clip_len=clip_len, num_clips=n, test_mode=True), total)
    inds = out["frame_inds"].reshape(n, clip_len)
    for i, (a, b) in enumerate(ref_uniform_segments(total, clip_len)):
        column = inds[:, i].tolist()
        assert all(a <= v <= b for v in column)
        assert column == sorted(column) and len(set(column)) == n
    # the middle clip of an odd count is the single-clip rule
    assert inds[n // 2].tolist() == ref_uniform_test_indices(total, clip_len)


# --------------------------------------------------------------------------- training mode
@pytest.mark.parametrize("total", VIDEO_LENGTHS)
@pytest.mark.parametrize("clip_len,interval,num_clips", DENSE_SETTINGS)
def test_dense_train_mode_stays_in_the_video(total, clip_len, interval, num_clips):
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=clip_len, frame_interval=interval,
                                 num_clips=num_clips))
    np.random.seed(0)
    span = clip_len * interval
    for _ in range(20):
        inds = step(dict(total_frames=total, start_index=0))["frame_inds"]
        assert inds.shape == (clip_len * num_clips,)
        assert inds.min() >= 0 and inds.max() < total
        clips = inds.reshape(num_clips, clip_len)
        if total >= span + num_clips:  # long enough: clip k starts inside its k-th part, no wrap
            avg = (total - span + 1) // num_clips
            starts = clips[:, 0]
            assert all(k * avg <= s < (k + 1) * avg for k, s in enumerate(starts))
            assert (np.diff(clips, axis=1) == interval).all()


def test_dense_train_mode_is_random_and_covers_the_range():
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=8, frame_interval=16, num_clips=1))
    np.random.seed(1)
    starts = {int(step(dict(total_frames=300, start_index=0))["frame_inds"][0]) for _ in range(200)}
    span = 8 * 16
    assert len(starts) > 50 and min(starts) >= 0 and max(starts) <= 300 - span


def test_keep_tail_frames_reaches_the_tail():
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=1, frame_interval=1, num_clips=4, keep_tail_frames=True))
    np.random.seed(0)
    seen = np.concatenate([step(dict(total_frames=30, start_index=0))["frame_inds"] for _ in range(300)])
    assert seen.max() == 29 and seen.min() == 0


@pytest.mark.parametrize("total", VIDEO_LENGTHS + (5,))
def test_frame_uniform_train_mode_one_frame_per_segment(total):
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=8, frame_interval=2, num_clips=1, frame_uniform=True))
    segments = ref_uniform_segments(total, 8)
    np.random.seed(0)
    draws = np.stack([step(dict(total_frames=total, start_index=0))["frame_inds"] for _ in range(100)])
    for i, (a, b) in enumerate(segments):
        assert draws[:, i].min() >= a and draws[:, i].max() <= b
        if b - a >= 2:
            assert len(set(draws[:, i].tolist())) > 1  # really random


def test_temporal_jitter_stays_within_the_interval():
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=4, frame_interval=8, num_clips=1, temporal_jitter=True))
    np.random.seed(0)
    for _ in range(20):
        inds = step(dict(total_frames=300, start_index=0))["frame_inds"]
        gaps = np.diff(inds)
        assert ((gaps > 0) & (gaps < 16)).all()


@pytest.mark.parametrize("bad", [dict(clip_len=0), dict(clip_len=8, frame_interval=0), dict(clip_len=8, num_clips=-1),
                                 dict(clip_len=8, out_of_bound_opt="clamp"), dict(clip_len=2.5)])
def test_invalid_arguments_are_rejected(bad):
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type="SampleFrames", **bad))


def test_zero_frames_is_a_named_error():
    step = TRANSFORMS.build(dict(type="SampleFrames", clip_len=8))
    with pytest.raises(ValueError, match="broken.mp4"):
        step(dict(total_frames=0, start_index=0, filename="broken.mp4"))


def test_reference_by_hand():
    """The reference itself, on cases worked out by hand: a 30-frame video is shorter than one
    8x16 clip, so every clip starts at 0 and wraps (loop) or repeats frame 16 (repeat_last)."""
    assert ref_dense_test_indices(30, 8, 16, 3)[:8] == [0, 16, 2, 18, 4, 20, 6, 22]
    assert ref_dense_test_indices(30, 8, 16, 1, out_of_bound="repeat_last") == [0, 16, 16, 16, 16, 16, 16, 16]
    assert ref_uniform_segments(9, 8)[0] == (0, 1) and ref_uniform_segments(9, 8)[-1] == (7, 8)
