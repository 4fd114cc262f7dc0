"""FormatShape: arrange the frames into the model's input layout."""

import torch

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .video_tensor import get_video

INPUT_FORMATS = ("NCTHW", "NCHW")


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Turns ``imgs`` (V*N, C, H, W) into a contiguous uint8 tensor in ``input_format``.

    With ``num_clips`` clips of ``clip_len`` frames and ``num_crops`` = (frames in ``imgs``) /
    (``num_clips * clip_len``) spatial views (3 after ThreeCrop):

    - ``'NCTHW'``: shape ``(num_crops * num_clips, C, clip_len, H, W)``, views crop-major.
    - ``'NCHW'``: shape ``(num_crops * num_clips * clip_len, C, H, W)``.

    Sets ``imgs`` (a plain ``torch.Tensor``), ``input_shape`` and ``num_crops``.

    Args:
        input_format: ``'NCTHW'`` or ``'NCHW'``.
        collapse: drop the leading view axis (only when there is exactly one view).
    """

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in INPUT_FORMATS:
            raise ValueError(f"FormatShape: input_format must be one of {INPUT_FORMATS}, got {input_format!r}")
        self.input_format = input_format
        self.collapse = collapse

    def transform(self, results: dict) -> dict:
        video = get_video(results, "FormatShape").as_subclass(torch.Tensor)
        total, c, h, w = video.shape
        clip_len = int(results.get("clip_len") or 1)
        num_clips = int(results.get("num_clips") or 1)
        per_view = clip_len * num_clips
        if total % per_view:
            raise ValueError(
                f"FormatShape: {total} frames cannot be split into views of num_clips={num_clips} x "
                f"clip_len={clip_len} (file {results.get('filename', results.get('frame_dir', '?'))!r})"
            )
        num_crops = total // per_view
        if self.input_format == "NCTHW":
            out = video.reshape(num_crops * num_clips, clip_len, c, h, w).permute(0, 2, 1, 3, 4)
        else:
            out = video
        out = out.contiguous()
        if self.collapse:
            if out.shape[0] != 1:
                raise ValueError(f"FormatShape: collapse=True needs exactly one view, got {out.shape[0]}")
            out = out[0]
        results["imgs"] = out
        results["input_shape"] = tuple(out.shape)
        results["num_crops"] = num_crops
        return results
