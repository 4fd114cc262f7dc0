"""Datasets and the transforms of their pipelines."""

from . import transforms  # noqa: F401
from .base_action_dataset import BaseActionDataset
from .benchmark_pipeline import time_pipeline
from .list_file import AnnotationError, read_label_map, write_list_file
from .rawframe_dataset import RawframeDataset
from .video_dataset import VideoDataset
from .video_io import DecodeTimeoutError, VideoDecodeError, open_video

__all__ = [
    "BaseActionDataset",
    "VideoDataset",
    "RawframeDataset",
    "AnnotationError",
    "read_label_map",
    "write_list_file",
    "time_pipeline",
    "open_video",
    "VideoDecodeError",
    "DecodeTimeoutError",
]
