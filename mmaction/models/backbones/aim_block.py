"""One CLIP transformer block with AIM's temporal, spatial and joint adapters."""

from collections import OrderedDict

import torch
from timm.layers import DropPath
from torch import nn

from ..utils import FrozenCastLinear, LayerNorm, QuickGELU
from .adapter import Adapter
from .clip_attention import CLIPAttention


class AIMBlock(nn.Module):
    """A frozen CLIP residual attention block adapted in time, space and jointly.

    Per block (x holds the L tokens of every one of the B*T frames):

    1. temporal: tokens at the same position attend across the T frames of their video, through the
       frozen attention, and ``T_Adapter`` (no skip) maps the result back: ``x + drop_path(h)``.
       With ``num_tadapter=2`` a ``T_Adapter_in`` (with skip) runs before the attention.
    2. spatial: ``x + S_Adapter(attn(ln_1(x)))`` with the same frozen attention (skip adapter).
    3. joint: ``x + mlp(ln_2(x)) + drop_path(scale * MLP_Adapter(ln_2(x)))`` (no-skip adapter).

    Parameter names equal the released AIM checkpoints' (``attn``, ``ln_1``, ``mlp.c_fc`` ...,
    ``S_Adapter.D_fc1`` ...).

    Args:
        width: model width D.
        heads: attention heads.
        adapter_scale: scale of the joint (MLP) adapter's output.
        num_tadapter: 1 or 2 temporal adapters.
        adapter_ratio: bottleneck ratio of every adapter.
        drop_path: stochastic depth rate of this block.

    Shapes:
        x: (B*T, L, D) -> (B*T, L, D), frames of one video contiguous.
    """

    def __init__(
        self,
        width: int,
        heads: int,
        adapter_scale: float = 0.5,
        num_tadapter: int = 1,
        adapter_ratio: float = 0.25,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        if num_tadapter not in (1, 2):
            raise ValueError(f"num_tadapter must be 1 or 2, got {num_tadapter}")
        self.attn = CLIPAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", FrozenCastLinear(width, width * 4)),
                    ("gelu", QuickGELU()),
                    ("c_proj", FrozenCastLinear(width * 4, width)),
                ]
            )
        )
        self.ln_2 = LayerNorm(width)
        self.scale = adapter_scale
        self.num_tadapter = num_tadapter
        self.MLP_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
        self.S_Adapter = Adapter(width, adapter_ratio, skip_connect=True)
        self.T_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
        if num_tadapter == 2:
            self.T_Adapter_in = Adapter(width, adapter_ratio, skip_connect=True)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def temporal_attention(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """The temporal branch h (before drop_path), shape (B*T, L, D)."""
        bt, n, d = x.shape
        b = bt // num_frames
        # LayerNorm is per token, so it runs before the regrouping. The regrouped tensor must be
        # contiguous: for B=1 reshape returns a strided view, and F.linear on a strided 3-D input
        # falls back to a batched matmul that copies the weight once per sequence.
        h = self.ln_1(x).view(b, num_frames, n, d).transpose(1, 2).contiguous().view(b * n, num_frames, d)
        if self.num_tadapter == 2:
            h = self.T_Adapter_in(h)
        h = self.T_Adapter(self.attn(h))
        return h.view(b, n, num_frames, d).transpose(1, 2).reshape(bt, n, d)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = x + self.drop_path(self.temporal_attention(x, num_frames))
        x = x + self.S_Adapter(self.attn(self.ln_1(x)))
        xn = self.ln_2(x)
        return x + self.mlp(xn) + self.drop_path(self.scale * self.MLP_Adapter(xn))
