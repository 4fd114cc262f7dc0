"""Frozen linear layers on oneDNN's prepacked weights (CPU, bf16 and float32).

On CPU, ``F.linear`` hands the weight to its GEMM in PyTorch's plain layout at every call and adds
the bias in a separate pass (bf16: oneDNN re-lays the weight out for its kernel each time; float32:
MKL's GEMM). A frozen weight never changes, so oneDNN's kernel layout can be made once and kept:
measured on a 2-thread AVX-512 CPU, ViT-B/16's linear layers (1576 tokens) ran 5-17% faster in
bf16 and 40-80% faster in float32 (docs/benchmarks.md). The price is memory: the packed copies
of W and W^T (for the backward), e.g. 2 x 85 M values for ViT-B/16 (bf16: 340 MB instead of the
170 MB of the plain autocast copy; float32: 680 MB where there was no copy).
The backward of a frozen layer needs only the input gradient, ``grad @ W``, which is itself a
linear layer with weight ``W^T``; its packed copy is made the first time a gradient is asked for.

Used through :func:`~mmaction.models.utils.frozen_cast.frozen_linear` (by
:class:`~mmaction.models.utils.frozen_cast.FrozenCastLinear` and CLIP's attention input
projection); everything else (float64, fp16, GPUs, ``torch.compile``,
trainable weights, a PyTorch without oneDNN) takes ``F.linear``.
"""

import contextlib
from typing import Callable, Iterator, Optional, Tuple

import torch
from torch import nn

from .frozen_cache import cached_frozen, scaled_copy

#: dtypes whose frozen linears run on packed weights
PACKED_DTYPES = (torch.bfloat16, torch.float32)


def packing_available() -> bool:
    """Whether this PyTorch has oneDNN and the two operators the packed path uses."""
    ops = torch.ops.mkldnn
    return (torch.backends.mkldnn.is_available() and hasattr(ops, "_reorder_linear_weight")
            and hasattr(ops, "_linear_pointwise"))


_PACKING = packing_available()
#: switched off by :func:`plain_linears`
_ENABLED = [True]


@contextlib.contextmanager
def plain_linears() -> Iterator[None]:
    """Runs every frozen linear layer through ``F.linear`` for a while.

    For tools that watch the operators a model runs: ``FlopCounterMode`` (``get_flops.py``,
    ``benchmark.py``) counts ``aten::addmm`` / ``aten::mm`` but not oneDNN's packed linear.
    """
    saved = _ENABLED[0]
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = saved


def _pack(weight: torch.Tensor, rows_hint: int) -> torch.Tensor:
    """``weight`` (out, in) in oneDNN's layout for a linear layer with about ``rows_hint`` input rows."""
    return torch.ops.mkldnn._reorder_linear_weight(weight, rows_hint)


def _packed_linear(x: torch.Tensor, packed: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


class _FrozenPackedLinear(torch.autograd.Function):
    """``x W^T + b`` with W and b frozen: forward on packed W, backward (input gradient only) on packed W^T."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, packed: torch.Tensor, bias: Optional[torch.Tensor],
                packed_t: Callable[[], torch.Tensor]) -> torch.Tensor:
        ctx.packed_t = packed_t
        return _packed_linear(x, packed, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], None, None, None]:
        grad_x = _packed_linear(grad.contiguous(), ctx.packed_t(), None) if ctx.needs_input_grad[0] else None
        return grad_x, None, None, None


def packed_frozen_linear(owner: nn.Module, x: torch.Tensor, weight_name: str, weight: torch.Tensor,
                         bias: Optional[torch.Tensor], weight_scale: float = 1.0) -> Optional[torch.Tensor]:
    """``F.linear(x, weight_scale * W, bias)`` on packed weights, or None where the packed path does not apply.

    Applies on CPU, outside ``torch.compile``, when neither W nor the bias trains and the layer
    computes in bf16 (autocast, or bf16 weights) or float32; elsewhere the caller
    (:func:`~mmaction.models.utils.frozen_cast.frozen_linear`) takes ``F.linear``.

    Args:
        owner: module that keeps the packed copies (in its ``_frozen_cast_cache``, keyed on the
            weight's storage and version, like the autocast copies).
        x: (..., in_features); cast to the compute dtype here, as autocast would.
        weight_name: the weight's name in ``owner`` (the cache key).
        weight: (out_features, in_features).
        bias: (out_features,) as the layer adds it (scaled, in the compute dtype), or None.
        weight_scale: constant folded into the packed weight.

    Shapes:
        x: (..., in_features) -> (..., out_features).
    """
    if (not (_PACKING and _ENABLED[0]) or x.device.type != "cpu" or weight.requires_grad
            or torch.compiler.is_compiling()):
        return None
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else weight.dtype
    if dtype not in PACKED_DTYPES or (bias is not None and bias.requires_grad):
        return None
    inference = torch.is_inference_mode_enabled()
    rows = max(1, x.numel() // max(1, x.shape[-1]))

    def pack(transposed: bool) -> torch.Tensor:
        def build() -> torch.Tensor:
            w = scaled_copy(weight, weight_scale, dtype)
            return _pack(w.t().contiguous() if transposed else w, rows)
        key = (weight_name, dtype, weight_scale, inference, "packed_t" if transposed else "packed")
        return cached_frozen(owner, key, weight, build)

    packed = pack(False)
    x = x.to(dtype)
    if torch.is_grad_enabled() and x.requires_grad:
        return _FrozenPackedLinear.apply(x, packed, bias, lambda: pack(True))
    return _packed_linear(x, packed, bias)
