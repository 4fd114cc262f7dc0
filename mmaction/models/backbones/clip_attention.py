"""CLIP's multi-head self-attention on fused scaled-dot-product attention or an explicit math path,
and the rule that picks between them (``attn_impl='auto'``)."""

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import FrozenCastLinear, frozen_linear


ATTN_IMPLS = ("sdpa", "math", "auto")

#: ``attn_impl='auto'`` on CPU, bf16/fp16 queries: sequences of at most this many tokens take the
#: math path. PyTorch's CPU SDPA kernels work in small fp32 blocks; for reduced-precision inputs
#: the math path's bf16 matrix products are faster up to about a thousand tokens (measured on a
#: 2-thread AVX-512 CPU, forward + backward: 197 tokens 39 vs 60 ms, AIM's 8-frame temporal pass
#: 7 vs 27 ms, 16 frames 13 vs 137 ms, 1025 tokens 54 vs 93 ms, 2049 tokens 290 vs 340 ms with
#: 16x the memory; docs/benchmarks.md), and their attention matrices stay small there.
AUTO_CPU_MATH_MAX_TOKENS = 1024
#: ``attn_impl='auto'`` on CPU, float32 queries: sequences of at most this many tokens take the math
#: path (AIM's temporal pass over T frames: 8 frames 13 vs 25 ms, 32 frames 47 vs 66 ms); from
#: ViT's 197 tokens on, SDPA's fp32 kernel is as fast or faster (197: 32 vs 41 ms).
AUTO_CPU_MATH_MAX_TOKENS_FP32 = 64


def resolve_attn_impl(attn_impl: str, q: torch.Tensor) -> str:
    """The kernel (``'sdpa'`` or ``'math'``) that ``attn_impl`` selects for queries ``q``.

    ``'sdpa'`` and ``'math'`` are taken as given. ``'auto'`` decides per device, dtype and sequence
    length S, by which kernel was measured faster:

    - CPU, bf16/fp16 queries (autocast), S <= :data:`AUTO_CPU_MATH_MAX_TOKENS`: ``'math'``;
    - CPU, float32/float64 queries, S <= :data:`AUTO_CPU_MATH_MAX_TOKENS_FP32`: ``'math'`` (AIM's
      temporal pass over T frames);
    - CPU otherwise: ``'sdpa'``;
    - CUDA and other devices, deterministic algorithms requested: ``'math'`` (the fused backward
      kernels are not deterministic);
    - CUDA and other devices otherwise: ``'sdpa'`` (flash / memory-efficient kernels).

    Args:
        attn_impl: one of :data:`ATTN_IMPLS`.
        q: (N, H, S, d) queries.
    """
    if attn_impl != "auto":
        return attn_impl
    if q.device.type == "cpu":
        reduced = q.dtype in (torch.bfloat16, torch.float16)
        limit = AUTO_CPU_MATH_MAX_TOKENS if reduced else AUTO_CPU_MATH_MAX_TOKENS_FP32
        return "math" if q.shape[-2] <= limit else "sdpa"
    return "math" if torch.are_deterministic_algorithms_enabled() else "sdpa"


@contextlib.contextmanager
def math_attention_paths(model: nn.Module) -> Iterator[nn.Module]:
    """Runs every attention of ``model`` on its explicit math path, restoring the settings afterwards.

    :class:`CLIPAttention` gets ``attn_impl='math'`` and timm's attention ``fused_attn=False`` (timm's
    own switch). For counting FLOPs (``tools/analysis/get_flops.py``): fused kernels are single
    operators that :class:`torch.utils.flop_counter.FlopCounterMode` does not see on CPU.
    """
    saved = []
    for module in model.modules():
        if isinstance(module, CLIPAttention):
            saved.append((module, "attn_impl", module.attn_impl))
            module.attn_impl = "math"
        elif isinstance(getattr(module, "fused_attn", None), bool):
            saved.append((module, "fused_attn", module.fused_attn))
            module.fused_attn = False
    try:
        yield model
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) v`` as matrix products and a softmax: what SDPA computes.

    The scale multiplies q (S x d values) rather than the scores (S x S). The softmax is computed
    in float32 (PyTorch's softmax kernels accumulate bf16/fp16 inputs in float32: max, exp, sum
    and division) and its result is stored in the scores' dtype, the dtype the product with v
    takes under autocast anyway; the explicit ``dtype`` keeps CUDA autocast from storing it in
    float32. Stored that way it costs half the memory and a third less time than a float32 copy
    of the attention matrix, with the same output error (docs/benchmarks.md).

    Shapes:
        q, k, v: (N, H, S, d) -> (N, H, S, d).
    """
    scores = torch.matmul(q * (q.shape[-1] ** -0.5), k.transpose(-1, -2))
    return torch.matmul(scores.softmax(dim=-1, dtype=scores.dtype), v)


class CLIPAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names.

    Keeps the packed ``in_proj_weight`` (3D, D) / ``in_proj_bias`` (3D,) and ``out_proj`` of OpenAI
    CLIP checkpoints, but runs batch-first on :func:`torch.nn.functional.scaled_dot_product_attention`
    (flash / memory-efficient kernels where available) instead of a hand-written softmax.

    Args:
        width: model width D.
        heads: number of heads; D must be divisible by it.
        attn_impl: ``'sdpa'`` (fused kernels), ``'math'`` (:func:`math_attention`: matrix products
            and a softmax computed in float32) or ``'auto'`` (the kernel measured faster per device,
            dtype and sequence length, see :func:`resolve_attn_impl`: on CPU ``'math'`` for AIM's
            temporal pass and, under bf16 autocast, for sequences up to
            :data:`AUTO_CPU_MATH_MAX_TOKENS` tokens; on a GPU ``'sdpa'`` unless deterministic
            algorithms are requested).

    Shapes:
        x: (N, S, D) -> (N, S, D): attention over the S tokens of each of the N sequences.
    """

    def __init__(self, width: int, heads: int, attn_impl: str = "auto") -> None:
        super().__init__()
        if width % heads != 0:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        if attn_impl not in ATTN_IMPLS:
            raise ValueError(f"attn_impl must be one of {ATTN_IMPLS}, got {attn_impl!r}")
        self.attn_impl = attn_impl
        self.width = width
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = FrozenCastLinear(width, width)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.kaiming_uniform_(self.out_proj.weight, a=math.sqrt(5))
        nn.init.zeros_(self.out_proj.bias)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Attention of (N, H, S, d) queries, keys, values by ``attn_impl``."""
        if resolve_attn_impl(self.attn_impl, q) == "math":
            return math_attention(q, k, v)
        return F.scaled_dot_product_attention(q, k, v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, s, d = x.shape
        qkv = frozen_linear(self, x, "in_proj_weight", self.in_proj_weight, "in_proj_bias", self.in_proj_bias)
        q, k, v = qkv.view(n, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        out = self.attend(q, k, v)  # (N, H, S, d_head)
        return self.out_proj(out.transpose(1, 2).reshape(n, s, d))
