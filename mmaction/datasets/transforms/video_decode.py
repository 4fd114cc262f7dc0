"""DecordDecode / PyAVDecode: read the sampled frames into a uint8 video tensor."""


import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .failed_sample import black_frames, is_failed
from .video_tensor import frames_to_video, set_video

DECODE_MODES = ("accurate", "efficient")


class VideoDecode(BaseTransform):
    """Reads ``results['frame_inds']`` from ``results['video_reader']``.

    Sets ``imgs`` (:class:`torchvision.tv_tensors.Video`, uint8, (N, 3, H, W)),
    ``original_shape`` and ``img_shape`` (H, W); closes and removes the reader.

    Args:
        mode: ``'accurate'`` or ``'efficient'`` (MMAction2 argument); both are frame-exact here.
    """

    def __init__(self, mode: str = "accurate") -> None:
        if mode not in DECODE_MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {DECODE_MODES}, got {mode!r}")
        self.mode = mode

    def transform(self, results: dict) -> dict:
        if "frame_inds" not in results:
            raise KeyError(f"{type(self).__name__}: no 'frame_inds'; put SampleFrames/UniformSample before it")
        inds = np.asarray(results["frame_inds"]).reshape(-1)
        reader = results.pop("video_reader", None)
        if is_failed(results):
            video = black_frames(results, len(inds))
        else:
            if reader is None:
                raise KeyError(f"{type(self).__name__}: no 'video_reader'; put DecordInit/PyAVInit before it")
            try:
                video = frames_to_video(reader.read(inds))
            finally:
                reader.close()
        set_video(results, video)
        results["original_shape"] = results["img_shape"]
        return results


@TRANSFORMS.register_module()
class DecordDecode(VideoDecode):
    """Decodes the sampled frames of a video opened by :class:`DecordInit`."""


@TRANSFORMS.register_module()
class PyAVDecode(VideoDecode):
    """Decodes the sampled frames of a video opened by :class:`PyAVInit`.

    Args:
        multi_thread: accepted for config compatibility; set ``num_threads`` on PyAVInit instead.
        mode: ``'accurate'`` or ``'efficient'``; both are frame-exact here.
    """

    def __init__(self, multi_thread: bool = False, mode: str = "accurate") -> None:
        super().__init__(mode)
        self.multi_thread = multi_thread
