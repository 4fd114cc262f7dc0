"""A video reader over frames already in memory, for inference on arrays."""

from typing import Sequence

import numpy as np

from mmaction.datasets.video_io.base_reader import VideoReader


class ArrayVideoReader(VideoReader):
    """Serves frames of a uint8 (T, H, W, 3) RGB array through the :class:`VideoReader` interface.

    Args:
        frames: the video, uint8 (T, H, W, 3), RGB.
        fps: frame rate to report (0.0: unknown).
    """

    backend = "array"

    def __init__(self, frames: np.ndarray, fps: float = 0.0) -> None:
        super().__init__("<array>")
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(
                f"frames must be a uint8 array of shape (T, H, W, 3), got {frames.dtype} {tuple(frames.shape)}"
            )
        if frames.shape[0] == 0:
            raise ValueError("frames must hold at least one frame")
        self.frames = frames
        self.num_frames = int(frames.shape[0])
        self.fps = float(fps)

    def read(self, indices: Sequence[int]) -> np.ndarray:
        return self.frames[self._check_indices(indices)]
