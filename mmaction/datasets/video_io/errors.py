"""Errors raised when a video (or a folder of frames) cannot be read.

Every error names the file at fault, so a log line or a traceback says which video to look at.
They all derive from :class:`VideoDecodeError`, which is what the datasets catch to skip a
sample (training) or to replace it by black frames (testing).
"""


class VideoDecodeError(RuntimeError):
    """A video could not be opened or decoded.

    Args:
        filename: the file at fault.
        reason: what went wrong, in words.
    """

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = str(filename)
        self.reason = reason
        super().__init__(f"cannot read video {self.filename!r}: {reason}")

    def __reduce__(self):  # keep the two arguments when pickled across DataLoader workers
        return (type(self), (self.filename, self.reason))


class VideoFileMissingError(VideoDecodeError):
    """The video file does not exist."""


class EmptyVideoFileError(VideoDecodeError):
    """The video file exists but holds 0 bytes, or no video stream, or no frame."""


class DecodeTimeoutError(VideoDecodeError):
    """Loading one sample took longer than the configured time limit."""


class InexactSeekError(VideoDecodeError):
    """A backend cannot show that it returns frame ``i`` for index ``i`` on this file.

    Raised by :class:`DecordReader` on opening (open GOP, timestamps or frame count that decord
    reads differently from the container); :func:`open_video` then reads the file with PyAV.
    """
