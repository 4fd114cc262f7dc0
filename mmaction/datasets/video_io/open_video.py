"""Opens a video with the chosen backend, falling back to PyAV when decord cannot read it."""

import functools

from .base_reader import VideoReader, check_video_file
from .decord_reader import DecordReader
from .errors import VideoDecodeError
from .pyav_reader import PyAVReader

BACKENDS = ("decord", "pyav")


def open_video(filename: str, backend: str = "decord", num_threads: int = 1, fallback: bool = True) -> VideoReader:
    """Opens ``filename`` for frame-exact reads.

    With ``backend='decord'`` and ``fallback=True``, a file that decord cannot open (broken
    metadata) is opened with PyAV instead, and a read that decord cannot decode (a corrupt
    packet) is retried with PyAV, which skips undecodable packets. Missing and empty files fail
    at once with :class:`VideoFileMissingError` / :class:`EmptyVideoFileError`.

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
            return make_pyav()
        except VideoDecodeError as e2:
            raise VideoDecodeError(filename, f"{e.reason}; then {e2.reason}") from e2


__all__ = ["open_video", "BACKENDS"]
