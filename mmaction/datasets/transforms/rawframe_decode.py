"""RawFrameDecode: read sampled frames stored as image files (``img_00001.jpg`` ...)."""

import os.path as osp
import warnings

import numpy as np
import torch
from torchvision.io import ImageReadMode, decode_image, decode_jpeg

from mmaction.registry import TRANSFORMS

from ..video_io import VideoDecodeError, VideoFileMissingError
from .base import BaseTransform
from .failed_sample import black_frames, is_failed
from .video_tensor import set_video


def _read_bytes(path: str) -> torch.Tensor:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise VideoFileMissingError(path, "frame file missing") from None
    if not data:
        raise VideoDecodeError(path, "frame file is empty (0 bytes)")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


@TRANSFORMS.register_module()
class RawFrameDecode(BaseTransform):
    """Loads the frames ``frame_dir/filename_tmpl.format(i)`` for ``i`` in ``frame_inds``.

    JPEG files are decoded in one batched call (torchvision); other formats (PNG ...) one by
    one. Frames come out RGB uint8 as a (N, 3, H, W) video tensor; a grayscale file is expanded to
    three channels.

    Args:
        io_backend: only ``'disk'``.
        decoding_backend: MMAction2 argument (``'cv2'``, ``'pillow'``, ``'turbojpeg'``); accepted,
            torchvision decodes in every case.
    """

    def __init__(self, io_backend: str = "disk", decoding_backend: str = "cv2", **kwargs) -> None:
        if io_backend != "disk":
            raise ValueError(f"RawFrameDecode: io_backend={io_backend!r} is not supported; only 'disk'")
        if kwargs:
            warnings.warn(f"RawFrameDecode: ignoring unsupported arguments {sorted(kwargs)}")
        self.io_backend = io_backend
        self.decoding_backend = decoding_backend

    def transform(self, results: dict) -> dict:
        if results.get("modality", "RGB") != "RGB":
            raise ValueError(f"RawFrameDecode: only modality 'RGB' is supported, got {results.get('modality')!r}")
        inds = np.asarray(results["frame_inds"]).reshape(-1)
        if is_failed(results):
            set_video(results, black_frames(results, len(inds)))
            results["original_shape"] = results["img_shape"]
            return results
        frame_dir = results["frame_dir"]
        tmpl = results.get("filename_tmpl", "img_{:05d}.jpg")
        unique, inverse = np.unique(inds, return_inverse=True)
        paths = [osp.join(frame_dir, tmpl.format(int(i))) for i in unique]
        datas = [_read_bytes(p) for p in paths]
        try:
            if all(p.lower().endswith((".jpg", ".jpeg")) for p in paths):
                frames = decode_jpeg(datas, mode=ImageReadMode.RGB)
            else:
                frames = [decode_image(d, mode=ImageReadMode.RGB) for d in datas]
        except RuntimeError as e:
            raise VideoDecodeError(frame_dir, f"cannot decode a frame image ({e})") from e
        shapes = {tuple(f.shape) for f in frames}
        if len(shapes) != 1:
            raise VideoDecodeError(frame_dir, f"frames have different sizes {sorted(shapes)}")
        video = torch.stack(frames)[torch.from_numpy(inverse.reshape(-1))]
        set_video(results, video)
        results["original_shape"] = results["img_shape"]
        return results
