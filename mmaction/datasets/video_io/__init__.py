"""Reading frames out of video files: frame-exact, rotation-aware, with named errors."""

from .base_reader import VideoReader, check_video_file, rotate_frames
from .decord_reader import DecordReader
from .errors import DecodeTimeoutError, EmptyVideoFileError, InexactSeekError, VideoDecodeError, VideoFileMissingError
from .frame_index import FrameIndex, scan_frames
from .open_video import BACKENDS, open_video, report_fallback_once
from .pyav_reader import PyAVReader
from .time_limit import time_limit

__all__ = [
    "VideoReader",
    "DecordReader",
    "PyAVReader",
    "open_video",
    "report_fallback_once",
    "FrameIndex",
    "scan_frames",
    "InexactSeekError",
    "BACKENDS",
    "check_video_file",
    "rotate_frames",
    "time_limit",
    "VideoDecodeError",
    "VideoFileMissingError",
    "EmptyVideoFileError",
    "DecodeTimeoutError",
]
