"""Autocast copies of frozen weights, made once instead of at every call."""

from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn


def autocast_frozen(owner: nn.Module, name: str, param: torch.Tensor) -> torch.Tensor:
    """``param`` in the active autocast dtype, cached on ``owner`` while it stays unchanged.

    ``torch.autocast`` caches its casts only for leaves that require grad, so the frozen CLIP
    weights (85 M for ViT-B/16) would otherwise be copied to bf16/fp16 at every call. The cache
    entry is keyed on the tensor's storage and version, so in-place updates (``load_state_dict``,
    ``.to()``) invalidate it; tensors made under ``inference_mode`` are kept apart from the others.

    Args:
        owner: module that holds the cache.
        name: the parameter's name in ``owner``.
        param: the parameter.

    Returns:
        The parameter itself when it trains, autocast is off, or the dtype already matches;
        else its cached cast.
    """
    device_type = param.device.type
    if param.requires_grad or not torch.is_autocast_enabled(device_type):
        return param
    dtype = torch.get_autocast_dtype(device_type)
    if param.dtype == dtype or not param.is_floating_point():
        return param
    inference = torch.is_inference_mode_enabled()
    key: Tuple = (name, dtype, inference)
    stamp = (param.data_ptr(), param._version, param.device)
    cache: Dict = owner.__dict__.setdefault("_frozen_cast_cache", {})
    hit = cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with torch.no_grad():
        cast = param.detach().to(dtype)
    cache[key] = (stamp, cast)
    return cast


class FrozenCastLinear(nn.Linear):
    """``nn.Linear`` whose frozen weights are cast for autocast once (see :func:`autocast_frozen`).

    Same parameters and state-dict names as ``nn.Linear``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = autocast_frozen(self, "bias", self.bias) if self.bias is not None else None
        return F.linear(x, autocast_frozen(self, "weight", self.weight), bias)
