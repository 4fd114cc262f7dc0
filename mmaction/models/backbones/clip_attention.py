"""CLIP's multi-head self-attention on fused scaled-dot-product attention."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import FrozenCastLinear, autocast_frozen


ATTN_IMPLS = ("sdpa", "math", "auto")


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) v`` with the scores and softmax in float32 (at least).

    Shapes:
        q, k, v: (N, H, S, d) -> (N, H, S, d) in v's dtype.
    """
    compute = torch.promote_types(q.dtype, torch.float32)
    scores = torch.matmul(q, k.transpose(-1, -2)).to(compute) * (q.shape[-1] ** -0.5)
    return torch.matmul(scores.softmax(dim=-1).to(v.dtype), v)


class CLIPAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names.

    Keeps the packed ``in_proj_weight`` (3D, D) / ``in_proj_bias`` (3D,) and ``out_proj`` of OpenAI
    CLIP checkpoints, but runs batch-first on :func:`torch.nn.functional.scaled_dot_product_attention`
    (flash / memory-efficient kernels where available) instead of a hand-written softmax.

    Args:
        width: model width D.
        heads: number of heads; D must be divisible by it.
        attn_impl: ``'sdpa'`` (fused kernels), ``'math'`` (explicit ``softmax(q k^T / sqrt(d)) v``
            with the softmax in float32 even under bf16/fp16 autocast) or ``'auto'`` (``'math'`` when
            deterministic algorithms are requested on a GPU, whose fused backward kernels are not
            deterministic; else ``'sdpa'``).

    Shapes:
        x: (N, S, D) -> (N, S, D): attention over the S tokens of each of the N sequences.
    """

    def __init__(self, width: int, heads: int, attn_impl: str = "sdpa") -> None:
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
        impl = self.attn_impl
        if impl == "auto":
            impl = "math" if q.is_cuda and torch.are_deterministic_algorithms_enabled() else "sdpa"
        if impl == "math":
            return math_attention(q, k, v)
        return F.scaled_dot_product_attention(q, k, v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, s, d = x.shape
        qkv = F.linear(
            x,
            autocast_frozen(self, "in_proj_weight", self.in_proj_weight),
            autocast_frozen(self, "in_proj_bias", self.in_proj_bias),
        )
        q, k, v = qkv.view(n, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        out = self.attend(q, k, v)  # (N, H, S, d_head)
        return self.out_proj(out.transpose(1, 2).reshape(n, s, d))
