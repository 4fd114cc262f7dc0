"""How frames travel between transforms: ``results['imgs']`` is a uint8 video tensor.

After decoding, ``results['imgs']`` is a :class:`torchvision.tv_tensors.Video` of dtype uint8 and
shape ``(N, C, H, W)`` (N = num_clips * clip_len, times the number of crops after ThreeCrop /
TenCrop; RGB; usually a channels-last view of the decoded array). torchvision.transforms.v2 ops
applied to it use the same random parameters for every frame. ``results['img_shape']`` is
``(H, W)``.

Transforms written for MMAction2 that put a list of ``(H, W, C)`` numpy frames, or an ``(N, H, W,
C)`` array, in ``results['imgs']`` are accepted: :func:`get_video` converts them.
"""

from typing import Sequence, Tuple, Union

import numpy as np
import torch
from torchvision import tv_tensors


def frames_to_video(frames: np.ndarray) -> tv_tensors.Video:
    """Wraps decoded frames without copying.

    Args:
        frames: uint8 array (N, H, W, C).

    Returns:
        tv_tensors.Video: (N, C, H, W) view (channels-last in memory).
    """
    tensor = torch.from_numpy(np.ascontiguousarray(frames))
    return tv_tensors.Video(tensor.permute(0, 3, 1, 2))


def get_video(results: dict, who: str) -> tv_tensors.Video:
    """Returns ``results['imgs']`` as a Video tensor (N, C, H, W).

    Args:
        results: the pipeline's dict.
        who: the transform asking, named in errors.
    """
    if "imgs" not in results:
        raise KeyError(
            f"{who}: results has no 'imgs' (frames); put a decode step (DecordDecode, PyAVDecode, "
            "RawFrameDecode) before it"
        )
    imgs = results["imgs"]
    if isinstance(imgs, tv_tensors.Video):
        return imgs
    if isinstance(imgs, torch.Tensor):
        if imgs.ndim != 4:
            raise ValueError(f"{who}: expected imgs of shape (N, C, H, W), got {tuple(imgs.shape)}")
        return tv_tensors.Video(imgs)
    if isinstance(imgs, (list, tuple)):
        imgs = np.stack([np.asarray(im) for im in imgs])
    if isinstance(imgs, np.ndarray):
        if imgs.ndim == 3:
            imgs = imgs[..., None]
        if imgs.ndim != 4:
            raise ValueError(f"{who}: expected imgs of shape (N, H, W, C), got {imgs.shape}")
        return frames_to_video(imgs)
    raise TypeError(f"{who}: cannot use imgs of type {type(imgs).__name__}")


def set_video(results: dict, video: torch.Tensor) -> None:
    """Stores frames back and updates ``img_shape``.

    Args:
        results: the pipeline's dict.
        video: (N, C, H, W) tensor.
    """
    if not isinstance(video, tv_tensors.Video):
        video = tv_tensors.Video(video)
    results["imgs"] = video
    results["img_shape"] = (int(video.shape[-2]), int(video.shape[-1]))


def as_pair(value: Union[int, Sequence[int]], name: str, who: str) -> Tuple[int, int]:
    """``8 -> (8, 8)``; ``(w, h) -> (w, h)`` (MMAction2 sizes are (w, h)).

    Args:
        value: an int or a pair of ints.
        name: argument name, for the error.
        who: the transform, for the error.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, np.integer)) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{who}: {name} must be an int or a pair of ints (w, h), got {value!r}")


def crop_video(video: torch.Tensor, left: int, top: int, width: int, height: int) -> torch.Tensor:
    """Slices a crop out of every frame (no copy).

    Args:
        video: (N, C, H, W).
        left, top, width, height: the box, in pixels.

    Returns:
        torch.Tensor: (N, C, height, width) view.
    """
    return video[..., top : top + height, left : left + width]


def check_crop_fits(who: str, img_hw: Tuple[int, int], crop_wh: Tuple[int, int], results: dict) -> None:
    """Raises a clear error when a crop is larger than the frames."""
    h, w = img_hw
    cw, ch = crop_wh
    if cw > w or ch > h:
        raise ValueError(
            f"{who}: crop (w={cw}, h={ch}) is larger than the frames (w={w}, h={h}) of "
            f"{results.get('filename', results.get('frame_dir', '?'))!r}; resize first"
        )
