"""Opens a video with the chosen backend, falling back to PyAV when decord cannot read it exactly."""

import functools
import logging
import threading
from typing import Set

from mmengine.logging import print_log

from .base_reader import VideoReader, check_video_file
from .decord_reader import DecordReader
from .errors import VideoDecodeError
from .frame_index import CACHE_SIZE, file_key
from .pyav_reader import PyAVReader

BACKENDS = ("decord", "pyav")

_reported: Set[tuple] = set()
_reported_lock = threading.Lock()


def report_fallback_once(filename: str, reason: str) -> bool:
    """Logs (warning) that ``filename`` is read with PyAV instead of decord, once per file.

    Once per file version (path, mtime, size) and per process: each DataLoader worker that
    meets the file says it once.

    Args:
        filename: the video.
        reason: why decord is not used.

    Returns:
        bool: whether the message was logged now (False: said before).
    """
    try:
        key = file_key(filename)
    except OSError:
        key = (filename,)
    with _reported_lock:
        if key in _reported:
            return False
        if len(_reported) >= 4 * CACHE_SIZE:
            _reported.clear()  # bounded memory: a file may then be reported again
        _reported.add(key)
    print_log(f"{filename}: read with PyAV instead of decord: {reason}", logger="current", level=logging.WARNING)
    return True


def open_video(filename: str, backend: str = "decord", num_threads: int = 1, fallback: bool = True) -> VideoReader:
    """Opens ``filename`` for frame-exact reads.

    With ``backend='decord'`` and ``fallback=True``, a file that decord cannot open (broken
    metadata) or cannot be shown to read frame-exactly (:class:`InexactSeekError`: open GOP,
    timestamps, frame count or key frames that decord reads differently from the container) is
    opened with PyAV instead, which is logged once per file with the reason; a read that decord
    cannot decode (a corrupt packet) is retried with PyAV, which skips undecodable packets.
    Missing and empty files fail at once with :class:`VideoFileMissingError` /
    :class:`EmptyVideoFileError`.

    Args:
        filename: path of the video.
        backend: ``'decord'`` or ``'pyav'``.
        num_threads: decoder threads.
        fallback: allow the PyAV fallback for decord.

    Returns:
        VideoReader: a :class:`DecordReader` or a :class:`PyAVReader`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown video backend {backend!r}; choose one of {BACKENDS}")
    check_video_file(filename)
    if backend == "pyav":
        return PyAVReader(filename, num_threads=num_threads)
    make_pyav = functools.partial(PyAVReader, filename, num_threads=num_threads)
    try:
        return DecordReader(filename, num_threads=num_threads, fallback=make_pyav if fallback else None)
    except VideoDecodeError as e:
        if not fallback:
            raise
        try:
            reader = make_pyav()
        except VideoDecodeError as e2:
            raise VideoDecodeError(filename, f"{e.reason}; then {e2.reason}") from e2
        report_fallback_once(filename, e.reason)
        return reader


__all__ = ["open_video", "BACKENDS", "report_fallback_once"]
