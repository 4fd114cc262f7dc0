"""UniformSample: TSN-style segment sampling (one frame per segment), used for SSv2 and Diving-48."""

from typing import Optional

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented


def segment_indices(total: int, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> np.ndarray:
    """Frame indices of ``num_clips`` clips, one frame from each of ``clip_len`` segments.

    The rule of PySlowFast's SSv2 loader (also Video Swin's and AIM's ``frame_uniform``): with
    ``seg = (total - 1) / clip_len``, segment ``i`` covers ``[round(seg * i), round(seg * (i + 1))]``
    (both ends included; ``round`` is numpy's round-half-to-even). Training takes a uniformly random
    frame of each segment. Testing takes ``(start + end) // 2``; with ``num_clips = n > 1``, clip
    ``k`` takes ``start + ((end - start) * (2k + 1)) // (2n)`` (for n = 1 that is the middle).

    Args:
        total: number of frames of the video (>= 1).
        clip_len: frames per clip (= number of segments).
        num_clips: clips.
        test_mode: deterministic middle frames.

    Returns:
        np.ndarray: int64, shape (num_clips * clip_len,), clip-major.
    """
    seg = float(total - 1) / clip_len
    i = np.arange(clip_len)
    starts = np.round(seg * i).astype(np.int64)
    ends = np.round(seg * (i + 1)).astype(np.int64)
    clips = []
    for k in range(num_clips):
        if test_mode:
            clips.append(starts + ((ends - starts) * (2 * k + 1)) // (2 * num_clips))
        else:
            clips.append(np.random.randint(starts, ends + 1))
    return np.concatenate(clips).astype(np.int64)


@TRANSFORMS.register_module()
class UniformSample(BaseTransform):
    """Samples ``clip_len`` frames spread over the whole video (see :func:`segment_indices`).

    Required keys: ``total_frames``, ``start_index``. Added: ``frame_inds``, ``clip_len``,
    ``frame_interval`` (None), ``num_clips``.

    Args:
        clip_len: frames per clip.
        num_clips: clips per video.
        test_mode: deterministic middle-of-segment frames.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> None:
        for name, value in (("clip_len", clip_len), ("num_clips", num_clips)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive int, got {value!r}")
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.test_mode = test_mode

    def transform(self, results: dict) -> dict:
        total = int(results["total_frames"])
        if total < 1:
            raise ValueError(f"{type(self).__name__}: video {results.get('filename', '?')!r} has total_frames={total}")
        inds = segment_indices(total, self.clip_len, self.num_clips, self.test_mode)
        results["frame_inds"] = inds + int(results.get("start_index", 0))
        results["clip_len"] = self.clip_len
        results["frame_interval"] = None
        results["num_clips"] = self.num_clips
        return results


@TRANSFORMS.register_module()
class UniformSampleFrames(UniformSample):
    """MMAction2's name and arguments for segment sampling; behaves as :class:`UniformSample`.

    Args:
        clip_len: frames per clip.
        num_clips: clips per video.
        test_mode: deterministic middle-of-segment frames.
        seed: accepted for config compatibility; unused (test mode is deterministic without it).
        out_of_bound_opt: accepted for config compatibility (``'loop'`` or ``'repeat_frame'``);
            segment sampling never leaves the video.
    """

    def __init__(
        self,
        clip_len: int,
        num_clips: int = 1,
        test_mode: bool = False,
        seed: Optional[int] = 255,
        out_of_bound_opt: str = "loop",
    ) -> None:
        super().__init__(clip_len, num_clips, test_mode)
        if out_of_bound_opt not in ("loop", "repeat_frame"):
            raise ValueError(f"UniformSampleFrames: out_of_bound_opt must be 'loop' or 'repeat_frame', got {out_of_bound_opt!r}")
        self.seed = seed
        warn_unimplemented(self, "seed", seed, 255, "test-mode sampling is deterministic without it")
        warn_unimplemented(self, "out_of_bound_opt", out_of_bound_opt, "loop", "segment sampling never leaves the video")
        self.out_of_bound_opt = out_of_bound_opt
