"""Random access to a video with decord (the ``decord2`` wheel, imported as ``decord``).

decord seeks frame-exactly on its own index and applies rotation metadata itself. It trusts
the frame count of the header and raises on files whose metadata it cannot measure (e.g. H.264
in WebM without duration) or on a packet it cannot decode; :func:`open_video` then falls back to
:class:`PyAVReader` (see there).
"""

from typing import Callable, Optional, Sequence

import numpy as np

from .base_reader import VideoReader, check_video_file, short_reason
from .errors import EmptyVideoFileError, VideoDecodeError


class DecordReader(VideoReader):
    """Reads frames of one video with decord.

    Args:
        filename: path of the video.
        num_threads: decoder threads (decord's ``num_threads``; 0 = auto).
        fallback: called with no argument when a read fails, returns another reader of the same
            file (a :class:`PyAVReader`) whose ``read`` is tried before giving up. ``None``
            disables it.

    Raises:
        VideoFileMissingError, EmptyVideoFileError, VideoDecodeError: with the file name.
    """

    backend = "decord"

    def __init__(
        self, filename: str, num_threads: int = 1, fallback: Optional[Callable[[], VideoReader]] = None
    ) -> None:
        super().__init__(filename)
        check_video_file(self.filename)
        try:
            import decord
        except ImportError as e:  # pragma: no cover - decord2 is a requirement
            raise ImportError("decord is needed for DecordInit: pip install decord2") from e
        self._fallback = fallback
        self._fallback_reader: Optional[VideoReader] = None
        try:
            self._vr = decord.VideoReader(self.filename, num_threads=num_threads)
        except Exception as e:  # DECORDError, RuntimeError, AssertionError (0 frames)
            raise VideoDecodeError(self.filename, f"decord cannot open it ({short_reason(e)})") from e
        self.num_frames = len(self._vr)
        if self.num_frames <= 0:
            raise EmptyVideoFileError(self.filename, "the video stream holds no frame")
        try:
            self.fps = float(self._vr.get_avg_fps())
        except Exception:
            self.fps = 0.0

    @staticmethod
    def _to_numpy(batch) -> np.ndarray:
        if hasattr(batch, "asnumpy"):
            return batch.asnumpy()
        if hasattr(batch, "numpy"):  # torch bridge
            return batch.numpy()
        return np.asarray(batch)

    def read(self, indices: Sequence[int]) -> np.ndarray:
        idx = self._check_indices(indices)
        try:
            frames = self._to_numpy(self._vr.get_batch(idx.tolist()))
        except Exception as e:
            if self._fallback is None:
                raise VideoDecodeError(self.filename, f"decord failed while decoding ({short_reason(e)})") from e
            return self._read_with_fallback(idx, e)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[0] != len(idx):
            raise VideoDecodeError(self.filename, f"decord returned an unexpected array {frames.shape} {frames.dtype}")
        return frames

    def _read_with_fallback(self, idx: np.ndarray, error: BaseException) -> np.ndarray:
        try:
            if self._fallback_reader is None:
                self._fallback_reader = self._fallback()
            other = self._fallback_reader
            return other.read(np.minimum(idx, other.num_frames - 1))
        except VideoDecodeError as e2:
            raise VideoDecodeError(
                self.filename, f"decord failed ({short_reason(error)}); then {e2.reason}"
            ) from e2

    def close(self) -> None:
        self._vr = None
        if self._fallback_reader is not None:
            self._fallback_reader.close()
            self._fallback_reader = None


__all__ = ["DecordReader"]
