"""The interface shared by the video readers: frame count, fps, and frame-exact reads."""

import abc
import os
from typing import Sequence

import numpy as np

from .errors import EmptyVideoFileError, VideoDecodeError, VideoFileMissingError


def check_video_file(filename: str) -> None:
    """Raises a named error when ``filename`` is missing, not a file, or empty.

    Args:
        filename: path of the video.
    """
    if not os.path.exists(filename):
        raise VideoFileMissingError(filename, "no such file")
    if not os.path.isfile(filename):
        raise VideoFileMissingError(filename, "not a regular file")
    if os.path.getsize(filename) == 0:
        raise EmptyVideoFileError(filename, "the file is empty (0 bytes)")


class VideoReader(abc.ABC):
    """An open video whose frames can be read by index.

    Frame ``i`` is the ``i``-th frame in presentation order. Frames come out as RGB uint8 in
    display orientation (rotation metadata applied), as an array ``(N, H, W, 3)``.

    Attributes:
        filename: the file.
        backend: ``'pyav'`` or ``'decord'``.
        num_frames: number of frames that can be indexed.
        fps: average frame rate (0.0 when the file does not say).
    """

    backend: str = ""

    def __init__(self, filename: str) -> None:
        self.filename = str(filename)
        self.num_frames = 0
        self.fps = 0.0

    @abc.abstractmethod
    def read(self, indices: Sequence[int]) -> np.ndarray:
        """Decodes the frames at ``indices`` (any order, repeats allowed).

        Args:
            indices: frame indices in ``[0, num_frames)``.

        Returns:
            np.ndarray: uint8 array of shape (len(indices), H, W, 3), RGB.
        """

    def close(self) -> None:
        """Releases the file (the reader cannot be used afterwards)."""

    def _check_indices(self, indices: Sequence[int]) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            raise ValueError(f"{type(self).__name__}.read: no frame index given for {self.filename!r}")
        bad = idx[(idx < 0) | (idx >= self.num_frames)]
        if bad.size:
            raise IndexError(
                f"frame indices {bad[:5].tolist()} out of range for {self.filename!r} "
                f"({self.num_frames} frames)"
            )
        return idx

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.filename!r}, num_frames={self.num_frames}, fps={self.fps:.3f})"


def short_reason(error: BaseException, limit: int = 300) -> str:
    """The last non-empty line of an error message, shortened (decord's carry C++ traces).

    Args:
        error: the exception.
        limit: maximum number of characters.
    """
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    text = lines[-1] if lines else type(error).__name__
    text = f"{type(error).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def rotate_frames(frames: np.ndarray, rotation: float) -> np.ndarray:
    """Turns decoded frames to display orientation.

    Args:
        frames: (N, H, W, C) array as stored in the file.
        rotation: the display-matrix angle in degrees, counter-clockwise (FFmpeg's and PyAV's
            ``frame.rotation``), e.g. -90 for a phone video that must be turned clockwise.

    Returns:
        np.ndarray: (N, H', W', C), contiguous; H' and W' swap for +-90 degrees.
    """
    quarter_turns = int(round(float(rotation) / 90.0)) % 4
    if quarter_turns == 0:
        return frames
    return np.ascontiguousarray(np.rot90(frames, k=quarter_turns, axes=(1, 2)))


__all__ = ["VideoReader", "VideoDecodeError", "check_video_file", "short_reason", "rotate_frames"]
