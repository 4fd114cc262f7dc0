"""SampleFrames: which frame indices make the clips of a video (dense sampling)."""

from typing import Optional

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .uniform_sample import segment_indices
from .unimplemented_args import warn_unimplemented

TEST_CLIP_OFFSETS = ("centered", "endpoints")


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Samples ``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart.

    Required keys: ``total_frames``, ``start_index``. Added: ``frame_inds`` (int64, shape
    ``(num_clips * clip_len,)``, clip-major), ``clip_len``, ``frame_interval``, ``num_clips``.

    Training offsets follow MMAction2: the video is cut into ``num_clips`` equal parts of length
    ``avg = (total - clip_len * frame_interval + 1) // num_clips`` and each clip starts at a random
    offset inside its part; shorter videos use sorted random offsets, or evenly spread ones, or 0.

    Test offsets are deterministic. ``test_clip_offsets='centered'`` (default) is MMAction2 0.x's
    documented rule that AIM's released numbers were measured with: with ``L = clip_len *
    frame_interval`` and ``avg = (total - L + 1) / num_clips`` (a float), clip ``k`` starts at
    ``int(k * avg + avg / 2)`` when ``total > L - 1``, else every clip starts at 0.
    ``'endpoints'`` is MMAction2 1.x's rule: with ``L = (clip_len - 1) * frame_interval + 1`` and
    ``m = max(total - L, 0)``, clip ``k`` starts at ``round(k * m / (num_clips - 1))`` (the clips
    span the video end to end), or at ``m // 2`` for a single clip.

    Indices past the end wrap around (``out_of_bound_opt='loop'``) or repeat the clip's last valid
    index (``'repeat_last'``).

    ``frame_uniform=True`` (the Video Swin / AIM extension, used by their SSv2 and Diving-48
    configs) ignores ``frame_interval`` and samples TSN-style: the video is split into
    ``clip_len`` segments and one frame is taken from each (random in training, the middle in
    testing); see :class:`UniformSample`.

    Args:
        clip_len: frames per clip.
        frame_interval: temporal stride between sampled frames.
        num_clips: clips per video.
        temporal_jitter: add a random offset in ``[0, frame_interval)`` to every index (training).
        twice_sample: at test time also take the clips at the unshifted offsets (TSM-style), which
            doubles ``num_clips`` in the output.
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: deterministic test-time offsets.
        keep_tail_frames: training offsets use float segment lengths so the tail can be sampled.
        frame_uniform: TSN-style segment sampling (see above).
        test_clip_offsets: ``'centered'`` (MMAction2 0.x, AIM) or ``'endpoints'`` (MMAction2 1.x).
        start_index: deprecated in MMAction2 (moved to the dataset); accepted and ignored.
    """

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        temporal_jitter: bool = False,
        twice_sample: bool = False,
        out_of_bound_opt: str = "loop",
        test_mode: bool = False,
        keep_tail_frames: bool = False,
        frame_uniform: bool = False,
        test_clip_offsets: str = "centered",
        start_index: Optional[int] = None,
    ) -> None:
        for name, value in (("clip_len", clip_len), ("frame_interval", frame_interval), ("num_clips", num_clips)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"SampleFrames: {name} must be a positive int, got {value!r}")
        if out_of_bound_opt not in ("loop", "repeat_last"):
            raise ValueError(f"SampleFrames: out_of_bound_opt must be 'loop' or 'repeat_last', got {out_of_bound_opt!r}")
        if test_clip_offsets not in TEST_CLIP_OFFSETS:
            raise ValueError(f"SampleFrames: test_clip_offsets must be one of {TEST_CLIP_OFFSETS}, got {test_clip_offsets!r}")
        self.clip_len = int(clip_len)
        self.frame_interval = int(frame_interval)
        self.num_clips = int(num_clips)
        self.temporal_jitter = temporal_jitter
        self.twice_sample = twice_sample
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = test_mode
        self.keep_tail_frames = keep_tail_frames
        self.frame_uniform = frame_uniform
        self.test_clip_offsets = test_clip_offsets
        warn_unimplemented(self, "start_index", start_index, None, "the dataset's start_index is used")

    # ------------------------------------------------------------------ offsets
    def _train_offsets(self, total: int) -> np.ndarray:
        span = self.clip_len * self.frame_interval
        n = self.num_clips
        if self.keep_tail_frames:
            avg = (total - span + 1) / float(n)
            if total > span - 1:
                return (np.arange(n) * avg + np.random.uniform(0, avg, n)).astype(np.int64)
            return np.zeros(n, dtype=np.int64)
        avg = (total - span + 1) // n
        if avg > 0:
            return np.arange(n) * avg + np.random.randint(avg, size=n)
        if total > max(n, span):
            return np.sort(np.random.randint(total - span + 1, size=n))
        if avg == 0:
            ratio = (total - span + 1.0) / n
            return np.around(np.arange(n) * ratio).astype(np.int64)
        return np.zeros(n, dtype=np.int64)

    def _test_offsets(self, total: int) -> np.ndarray:
        n = self.num_clips
        if self.test_clip_offsets == "endpoints":
            span = (self.clip_len - 1) * self.frame_interval + 1
            max_offset = max(total - span, 0)
            count = n * 2 if self.twice_sample else n
            if count > 1:
                return np.round(np.arange(count) * (max_offset / float(count - 1))).astype(np.int64)
            return np.array([max_offset // 2], dtype=np.int64)
        span = self.clip_len * self.frame_interval
        avg = (total - span + 1) / float(n)
        if total > span - 1:
            base = np.arange(n) * avg
            offsets = (base + avg / 2.0).astype(np.int64)
            if self.twice_sample:
                offsets = np.concatenate([offsets, base.astype(np.int64)])
            return offsets
        return np.zeros(n * (2 if self.twice_sample else 1), dtype=np.int64)

    # ------------------------------------------------------------------ transform
    def transform(self, results: dict) -> dict:
        total = int(results["total_frames"])
        if total < 1:
            raise ValueError(f"SampleFrames: video {results.get('filename', '?')!r} has total_frames={total}")
        start_index = int(results.get("start_index", 0))
        if self.frame_uniform:
            inds = segment_indices(total, self.clip_len, self.num_clips, self.test_mode)
            num_clips = self.num_clips
        else:
            offsets = self._test_offsets(total) if self.test_mode else self._train_offsets(total)
            num_clips = len(offsets)
            inds = offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval
            if self.temporal_jitter and not self.test_mode:
                inds = inds + np.random.randint(self.frame_interval, size=inds.shape)
            if self.out_of_bound_opt == "loop":
                inds = np.mod(inds, total)
            else:
                valid = inds < total
                last_valid = np.max(np.where(valid, inds, 0), axis=1, keepdims=True)
                inds = np.where(valid, inds, last_valid)
            inds = inds.reshape(-1)
        results["frame_inds"] = inds.astype(np.int64) + start_index
        results["clip_len"] = self.clip_len
        results["frame_interval"] = self.frame_interval
        results["num_clips"] = num_clips
        return results
