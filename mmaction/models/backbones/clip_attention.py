"""CLIP's multi-head self-attention on fused scaled-dot-product attention."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import FrozenCastLinear, autocast_frozen


class CLIPAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names.

    Keeps the packed ``in_proj_weight`` (3D, D) / ``in_proj_bias`` (3D,) and ``out_proj`` of OpenAI
    CLIP checkpoints, but runs batch-first on :func:`torch.nn.functional.scaled_dot_product_attention`
    (flash / memory-efficient kernels where available) instead of a hand-written softmax.

    Args:
        width: model width D.
        heads: number of heads; D must be divisible by it.

    Shapes:
        x: (N, S, D) -> (N, S, D): attention over the S tokens of each of the N sequences.
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        if width % heads != 0:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, s, d = x.shape
        qkv = F.linear(
            x,
            autocast_frozen(self, "in_proj_weight", self.in_proj_weight),
            autocast_frozen(self, "in_proj_bias", self.in_proj_bias),
        )
        q, k, v = qkv.view(n, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v)  # (N, H, S, d_head)
        return self.out_proj(out.transpose(1, 2).reshape(n, s, d))
