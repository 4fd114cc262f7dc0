"""Random access to a video with decord (the ``decord2`` wheel, imported as ``decord``).

decord seeks to the key frame before a wanted frame and counts the frames the decoder outputs
from there, on its own index of the file. That is frame-exact only when its index is the
container's presentation order and every key frame is a clean cut. It is not on some files:
an MPEG-2 program stream gave frame i+12 for every index, MPEG-4 AVI with B-frames frame i-1
(and after a seek index 42 came back as frame 1), a header that promises more frames than the
file holds repeats the last picture. decord does not expose the timestamp of a decoded frame,
so a :class:`DecordReader` proves exactness when it opens a file instead, against the demuxer's
index (:func:`scan_frames`, one demux pass, cached): the file's key frames must be clean cuts
with increasing decode timestamps and decodable first frames (``FrameIndex.seek_problem``
empty), and decord's per-frame timestamps and key-frame indices must equal the container's.
Where decord counts more frames than the container holds (a header that promises more; decord
repeats the last picture for those), only the container's frames are indexed. Otherwise it raises :class:`InexactSeekError` naming the file and the reason, and
:func:`open_video` reads the file with :class:`PyAVReader`, which checks the timestamp of every
frame it returns.

decord applies rotation metadata itself. It raises on files whose metadata it cannot measure
(e.g. H.264 in WebM without duration) or on a packet it cannot decode; :func:`open_video` then
falls back to :class:`PyAVReader` too.
"""

from typing import Callable, Dict, Optional, Sequence

import numpy as np

from .base_reader import VideoReader, check_video_file, short_reason
from .errors import EmptyVideoFileError, InexactSeekError, VideoDecodeError
from .frame_index import FrameIndex, file_key, remember, scan_frames

# decord's verdict per file version (path, mtime, size): the check runs once per process and file
_verdicts: Dict[tuple, str] = {}


def decord_exactness_problem(vr, index: FrameIndex) -> str:
    """Why decord's reads of this file may not be frame-exact; ``''`` when they are.

    Args:
        vr: an open ``decord.VideoReader``.
        index: the container's frame index of the same file.
    """
    if index.seek_problem:
        return index.seek_problem
    if len(vr) < index.num_frames:
        return f"decord counts {len(vr)} frames where the container holds {index.num_frames}"
    # decord may count frames past the end that do not exist (a header that promises more: it
    # repeats the last picture); the reader then indexes only the container's frames
    n = index.num_frames
    try:
        decord_s = np.asarray(vr.get_frame_timestamp(np.arange(n)), dtype=np.float64).reshape(n, -1)[:, 0]
    except Exception as e:  # noqa: BLE001 - decord raises its own error types
        return f"decord cannot give its frame timestamps ({short_reason(e)})"
    container_s = index.seconds()
    # decord counts time from the first frame; a frame period apart is another frame
    gaps = np.diff(container_s)
    tolerance = 0.5 * float(gaps.min()) if gaps.size else 1e-3
    error = np.abs((decord_s - decord_s[0]) - (container_s - container_s[0]))
    if not np.isfinite(error).all() or float(error.max()) > tolerance:
        k = int(np.argmax(np.where(np.isfinite(error), error, np.inf)))
        return (
            f"decord's timestamp of frame {k} ({decord_s[k] - decord_s[0]:.4g} s from the first) is not "
            f"the container's ({container_s[k] - container_s[0]:.4g} s)"
        )
    keys = sorted(int(k) for k in vr.get_key_indices() if int(k) < n)
    if keys != list(index.key_indices):
        return f"decord's key frames {keys[:6]} are not the container's {list(index.key_indices)[:6]}"
    return ""


class DecordReader(VideoReader):
    """Reads frames of one video with decord.

    Args:
        filename: path of the video.
        num_threads: decoder threads (decord's ``num_threads``; 0 = auto).
        fallback: called with no argument when a read fails, returns another reader of the same
            file (a :class:`PyAVReader`) whose ``read`` is tried before giving up. ``None``
            disables it.
        verify: prove on opening that decord's reads are frame-exact on this file (see the
            module docstring). ``False`` gives decord's reads as they are (``check_videos.py``
            compares them with the other decoders).

    Raises:
        VideoFileMissingError, EmptyVideoFileError, VideoDecodeError: with the file name.
        InexactSeekError: ``verify`` is set and decord cannot be shown to be exact on the file.
    """

    backend = "decord"

    def __init__(
        self,
        filename: str,
        num_threads: int = 1,
        fallback: Optional[Callable[[], VideoReader]] = None,
        verify: bool = True,
    ) -> None:
        super().__init__(filename)
        check_video_file(self.filename)
        try:
            import decord
        except ImportError as e:  # pragma: no cover - decord2 is a requirement
            raise ImportError("decord is needed for DecordInit: pip install decord2") from e
        self._fallback = fallback
        self._fallback_reader: Optional[VideoReader] = None
        self._vr = None
        problem: Optional[str] = None
        if verify:
            # what is known without opening decord (opening decodes): a verdict given before, or
            # what the demux pass alone tells
            key = file_key(self.filename)
            problem = _verdicts.get(key)
            if problem is None:
                try:
                    seek_problem = scan_frames(self.filename).seek_problem
                except VideoDecodeError:
                    seek_problem = ""  # decord's own error (or verdict) comes below
                if seek_problem:
                    problem = seek_problem
                    remember(_verdicts, key, problem)
            if problem:
                raise InexactSeekError(self.filename, f"decord cannot read it frame-exactly: {problem}")
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
        if verify:
            if problem is None:
                problem = decord_exactness_problem(self._vr, scan_frames(self.filename))
                remember(_verdicts, file_key(self.filename), problem)
            if problem:
                self._vr = None
                raise InexactSeekError(self.filename, f"decord cannot read it frame-exactly: {problem}")
            # only the frames the container holds (decord may count more; see decord_exactness_problem)
            self.num_frames = min(self.num_frames, scan_frames(self.filename).num_frames)

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


__all__ = ["DecordReader", "decord_exactness_problem"]
