"""Turns a batch of uint8 clips into normalised float tensors on the model's device."""

from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stacks, moves, normalises and (optionally) blends a batch of clips.

    The uint8 clips travel to the device as uint8 (4x fewer bytes than float32) and are converted
    and normalised there.

    Args:
        mean: per-channel mean on the 0-255 scale (RGB), or None: the backbone's own (a backbone with
            ``default_mean_std()``, e.g. ``AIMTimmViT``, set by the recognizer) or no normalisation.
        std: per-channel std on the 0-255 scale.
        format_shape: ``'NCTHW'`` (clips) or ``'NCHW'`` (frames).
        blending: optional mixup/cutmix config, applied in training only.
        to_float32: convert to float32 (always true for normalised inputs).

    Shapes:
        data['inputs']: list of B uint8 tensors (V, C, T, H, W) (or one stacked tensor)
        -> (B, V, C, T, H, W) float32 (NCHW: (B, V, C, H, W)).
    """

    def __init__(
        self,
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        format_shape: str = "NCTHW",
        blending: Optional[dict] = None,
        to_float32: bool = True,
    ) -> None:
        super().__init__()
        if format_shape not in ("NCTHW", "NCHW"):
            raise ValueError(f"format_shape must be 'NCTHW' or 'NCHW', got {format_shape!r}")
        if (mean is None) != (std is None):
            raise ValueError("give both mean and std, or neither")
        self.format_shape = format_shape
        self._normalize = False
        if mean is not None:
            self.set_mean_std(mean, std)
        self.blending = MODELS.build(blending) if isinstance(blending, dict) else blending
        self.to_float32 = to_float32

    @property
    def normalizes(self) -> bool:
        """Whether a mean/std is set."""
        return self._normalize

    def set_mean_std(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Normalise with this per-channel mean and std (0-255 scale) from now on.

        Raises:
            ValueError: not one positive std per mean.
        """
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ValueError(f"mean {list(mean)} and std {list(std)} must have one positive std per channel")
        shape = (-1, 1, 1, 1) if self.format_shape == "NCTHW" else (-1, 1, 1)
        device = self.mean.device if self._normalize else None
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32, device=device).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32, device=device).view(shape), persistent=False)
        self._normalize = True

    def forward(self, data: Dict, training: bool = False) -> Dict:
        inputs: Union[torch.Tensor, List[torch.Tensor]] = data["inputs"]
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError(f"clips of one batch must share a shape, got {sorted(shapes)}")
            inputs = torch.stack(list(inputs))
        inputs = inputs.to(self.device, non_blocking=True)
        if self._normalize or self.to_float32 or inputs.dtype == torch.uint8:
            inputs = inputs.float()
        if self._normalize:
            inputs = (inputs - self.mean) / self.std
        data_samples = data.get("data_samples")
        if training and self.blending is not None and data_samples is not None:
            # all views of a clip share the clip's mixing partner and coefficient
            inputs, data_samples = self.blending(inputs, list(data_samples))
        return {"inputs": inputs, "data_samples": data_samples}
