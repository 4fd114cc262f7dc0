"""Autocast copies of frozen weights, made once instead of at every call."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .frozen_cache import cached_frozen, scaled_copy
from .packed_linear import packed_frozen_linear


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
        return scaled_copy(param, scale, dtype)
    key = (name, dtype, scale, torch.is_inference_mode_enabled())
    return cached_frozen(owner, key, param, lambda: scaled_copy(param, scale, dtype))


def frozen_linear(owner: nn.Module, x: torch.Tensor, weight_name: str, weight: torch.Tensor, bias_name: str,
                  bias: Optional[torch.Tensor], weight_scale: float = 1.0, bias_scale: float = 1.0) -> torch.Tensor:
    """``F.linear(x, weight_scale * W, bias_scale * b)`` with ``owner``'s cached copies of frozen weights.

    On CPU, frozen bf16/float32 layers run on oneDNN's prepacked weights
    (:func:`~mmaction.models.utils.packed_linear.packed_frozen_linear`); everywhere else
    ``F.linear`` with the autocast copies of :func:`autocast_frozen`.

    Args:
        owner: module holding the parameters and their caches.
        x: (..., in_features).
        weight_name, bias_name: the parameters' names in ``owner`` (cache keys).
        weight: (out_features, in_features).
        bias: (out_features,) or None.
        weight_scale, bias_scale: constants folded into the (cached) weight and bias.

    Shapes:
        x: (..., in_features) -> (..., out_features).
    """
    b = autocast_frozen(owner, bias_name, bias, bias_scale) if bias is not None else None
    out = packed_frozen_linear(owner, x, weight_name, weight, b, weight_scale)
    if out is not None:
        return out
    return F.linear(x, autocast_frozen(owner, weight_name, weight, weight_scale), b)


class FrozenCastLinear(nn.Linear):
    """``nn.Linear`` whose frozen weights are cast for autocast once (see :func:`autocast_frozen`).

    Same parameters and state-dict names as ``nn.Linear``. :meth:`forward` can fold a constant into
    the (cached) weights: ``output_scale * linear(input_scale * x)``, which lets an owner such as
    :class:`~mmaction.models.backbones.clip_mlp.CLIPMLP` move a constant factor of its activation
    into the frozen weights instead of spending one pass over the activations on it. Frozen bf16 and float32
    layers on CPU run on oneDNN's prepacked weights (:func:`frozen_linear`).
    """

    #: owners check this flag before calling :meth:`forward` with scales (a wrapper lacks it)
    supports_folded_scale = True

    def forward(self, x: torch.Tensor, output_scale: float = 1.0, input_scale: float = 1.0) -> torch.Tensor:
        """``output_scale * (W (input_scale * x) + b)``, the scales folded into W and b.

        Shapes:
            x: (..., in_features) -> (..., out_features).
        """
        return frozen_linear(self, x, "weight", self.weight, "bias", self.bias, output_scale * input_scale,
                             output_scale)
