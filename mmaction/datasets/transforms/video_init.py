"""DecordInit / PyAVInit: open the video and record its frame count."""

import warnings

from mmaction.registry import TRANSFORMS

from ..video_io import open_video
from .base import BaseTransform
from .failed_sample import is_failed, placeholder_total_frames


class VideoInit(BaseTransform):
    """Opens ``results['filename']`` and sets ``video_reader``, ``total_frames``, ``avg_fps``.

    Args:
        backend: ``'decord'`` or ``'pyav'``.
        io_backend: only ``'disk'`` is supported (MMAction2 argument).
        num_threads: decoder threads per video (1 suits DataLoader workers).
        fallback_to_pyav: (decord) open or decode with PyAV what decord cannot.
        kwargs: MMAction2 file-client arguments; ignored with a warning.
    """

    def __init__(
        self, backend: str, io_backend: str = "disk", num_threads: int = 1, fallback_to_pyav: bool = True, **kwargs
    ) -> None:
        if io_backend != "disk":
            raise ValueError(f"{type(self).__name__}: io_backend={io_backend!r} is not supported; only 'disk'")
        if kwargs:
            warnings.warn(f"{type(self).__name__}: ignoring unsupported arguments {sorted(kwargs)}")
        self.backend = backend
        self.io_backend = io_backend
        self.num_threads = num_threads
        self.fallback_to_pyav = fallback_to_pyav

    def transform(self, results: dict) -> dict:
        if is_failed(results):
            results["video_reader"] = None
            results["total_frames"] = placeholder_total_frames(results)
            results.setdefault("avg_fps", 0.0)
            return results
        if "filename" not in results:
            raise KeyError(f"{type(self).__name__}: results has no 'filename' (use it with VideoDataset)")
        reader = open_video(
            results["filename"], backend=self.backend, num_threads=self.num_threads, fallback=self.fallback_to_pyav
        )
        results["video_reader"] = reader
        results["total_frames"] = reader.num_frames
        results["avg_fps"] = reader.fps
        results["video_backend"] = reader.backend
        return results


@TRANSFORMS.register_module()
class DecordInit(VideoInit):
    """Opens the video with decord (falls back to PyAV on files decord cannot read).

    Args:
        io_backend: only ``'disk'``.
        num_threads: decord threads.
        fallback_to_pyav: use PyAV for what decord cannot open or decode.
    """

    def __init__(self, io_backend: str = "disk", num_threads: int = 1, fallback_to_pyav: bool = True, **kwargs) -> None:
        super().__init__("decord", io_backend, num_threads, fallback_to_pyav, **kwargs)


@TRANSFORMS.register_module()
class PyAVInit(VideoInit):
    """Opens the video with PyAV (frame-exact, see :class:`mmaction.datasets.video_io.PyAVReader`).

    Args:
        io_backend: only ``'disk'``.
        num_threads: decoder threads.
    """

    def __init__(self, io_backend: str = "disk", num_threads: int = 1, **kwargs) -> None:
        super().__init__("pyav", io_backend, num_threads, False, **kwargs)
