"""Autocast copies of frozen weights, made once instead of at every call."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .frozen_cache import cached_frozen
from .packed_linear import frozen_linear


def autocast_frozen(owner: nn.Module, name: str, param: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``param`` (times ``scale``) in the active autocast dtype, cached on ``owner`` while it stays unchanged.

    ``torch.autocast`` caches its casts only for leaves that require grad, so the frozen CLIP
    weights (85 M for ViT-B/16) would otherwise be copied to bf16/fp16 at every call. The cache
    entry is keyed on the tensor's storage and version, so in-place updates (``load_state_dict``,
    ``.to()``) invalidate it; tensors made under ``inference_mode`` are kept apart from the others.

    Args:
        owner: module that holds the cache.
        name: the parameter's name in ``owner``.
        param: the parameter.
        scale: a constant folded into the copy (frozen weights only; trainable ones are scaled on
            the fly so that gradients stay right).

    Under ``torch.compile`` (:func:`torch.compiler.is_compiling`) there is no cache: the cast is
    written into the graph (``(param * scale).to(dtype)``, one fused pass over the weight per call),
    because the cache's bookkeeping (inference mode, storage pointer, version counter, a dict on
    the module) cannot be traced by Dynamo and would break the graph at every linear layer.

    Returns:
        The parameter itself when it trains (times ``scale``), or when autocast is off / the
        dtype already matches and ``scale`` is 1; else its cached (scaled) cast, or under
        ``torch.compile`` its cast computed in the graph.
    """
    if param.requires_grad:
        return param if scale == 1.0 else param * scale
    device_type = param.device.type
    dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else param.dtype
    if scale == 1.0 and (param.dtype == dtype or not param.is_floating_point()):
        return param
    if torch.compiler.is_compiling():
        frozen = param.detach()
        return (frozen * scale if scale != 1.0 else frozen).to(dtype)
    key = (name, dtype, scale, torch.is_inference_mode_enabled())
    return cached_frozen(owner, key, param,
                         lambda: (param.detach() * scale if scale != 1.0 else param.detach()).to(dtype))


class FrozenCastLinear(nn.Linear):
    """``nn.Linear`` whose frozen weights are cast for autocast once (see :func:`autocast_frozen`).

    Same parameters and state-dict names as ``nn.Linear``. :meth:`forward` can fold a constant into
    the (cached) weights: ``output_scale * linear(input_scale * x)``, which lets an owner such as
    :class:`~mmaction.models.backbones.clip_mlp.CLIPMLP` move a constant factor of its activation
    into the frozen weights instead of spending one pass over the activations on it. Frozen bf16 and float32
    layers on CPU run on oneDNN's prepacked weights (:func:`~mmaction.models.utils.packed_linear.frozen_linear`).
    """

    #: owners check this flag before calling :meth:`forward` with scales (a wrapper lacks it)
    supports_folded_scale = True

    def forward(self, x: torch.Tensor, output_scale: float = 1.0, input_scale: float = 1.0) -> torch.Tensor:
        """``output_scale * (W (input_scale * x) + b)``, the scales folded into W and b.

        Shapes:
            x: (..., in_features) -> (..., out_features).
        """
        def cast_bias() -> Optional[torch.Tensor]:
            return autocast_frozen(self, "bias", self.bias, output_scale) if self.bias is not None else None

        scale = output_scale * input_scale
        out = frozen_linear(self, x, "weight", self.weight, self.bias, scale, cast_bias)
        if out is not None:  # frozen, bf16 or float32, CPU: oneDNN's prepacked weights
            return out
        return F.linear(x, autocast_frozen(self, "weight", self.weight, scale), cast_bias())
