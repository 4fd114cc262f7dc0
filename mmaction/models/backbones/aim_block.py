"""One CLIP transformer block with AIM's temporal, spatial and joint adapters."""

from collections import OrderedDict
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import FrozenCastLinear, LayerNorm, QuickGELU, autocast_frozen
from .adapter import Adapter
from .clip_attention import CLIPAttention

#: QuickGELU(z) = z * sigmoid(1.702 z) = silu(1.702 z) / 1.702
QUICK_GELU_SCALE = 1.702


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

    Fast paths (same results up to rounding): with frozen MLP weights, QuickGELU's 1.702 is folded
    into cached copies of ``c_fc``/``c_proj`` so the activation is one fused ``silu``; drop-path,
    adapter scale and residual add are one ``addcmul``.

    Args:
        width: model width D.
        heads: attention heads.
        adapter_scale: scale of the joint (MLP) adapter's output.
        num_tadapter: 1 or 2 temporal adapters.
        adapter_ratio: bottleneck ratio of every adapter.
        drop_path: stochastic depth rate of this block.
        drop_path_mode: ``'token'`` (the original code's behaviour: its (L, B*T, D) layout makes
            timm's DropPath draw one keep/drop per token position, shared by every frame and video
            of the batch) or ``'sample'`` (one draw per video, all its frames and tokens).

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
        drop_path_mode: str = "token",
    ) -> None:
        super().__init__()
        if num_tadapter not in (1, 2):
            raise ValueError(f"num_tadapter must be 1 or 2, got {num_tadapter}")
        if drop_path_mode not in ("token", "sample"):
            raise ValueError(f"drop_path_mode must be 'token' or 'sample', got {drop_path_mode!r}")
        self.attn = CLIPAttention(width, heads)
        self.ln_1 = LayerNorm(width, autocast_output=True)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", FrozenCastLinear(width, width * 4)),
                    ("gelu", QuickGELU()),
                    ("c_proj", FrozenCastLinear(width * 4, width)),
                ]
            )
        )
        self.ln_2 = LayerNorm(width, autocast_output=True)
        self.scale = adapter_scale
        self.num_tadapter = num_tadapter
        self.MLP_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
        self.S_Adapter = Adapter(width, adapter_ratio, skip_connect=True)
        self.T_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
        if num_tadapter == 2:
            self.T_Adapter_in = Adapter(width, adapter_ratio, skip_connect=True)
        self.drop_path_rate = drop_path
        self.drop_path_mode = drop_path_mode

    def drop_path_mask(self, x: torch.Tensor, num_frames: int) -> Optional[torch.Tensor]:
        """Keep mask / keep-probability for a residual branch of x, or None when nothing drops.

        Returns a (1, L, 1) mask (``'token'``) or a (B*T, 1, 1) mask (``'sample'``), values 0 or
        1 / keep_prob.
        """
        if not self.training or self.drop_path_rate <= 0.0:
            return None
        keep = 1.0 - self.drop_path_rate
        if self.drop_path_mode == "token":
            shape = (1, x.shape[1], 1)
            mask = x.new_empty(shape).bernoulli_(keep)
        else:
            b = x.shape[0] // num_frames
            mask = x.new_empty(b, 1, 1, 1).bernoulli_(keep).expand(b, num_frames, 1, 1).reshape(-1, 1, 1)
        return mask.div_(keep)

    def residual_add(self, x: torch.Tensor, h: torch.Tensor, num_frames: int, scale: float = 1.0) -> torch.Tensor:
        """``x + drop_path(scale * h)`` in one fused operation."""
        mask = self.drop_path_mask(x, num_frames)
        if mask is None:
            return torch.add(x, h, alpha=scale)
        return torch.addcmul(x, h, mask if scale == 1.0 else mask * scale)

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

    def mlp_forward(self, xn: torch.Tensor) -> torch.Tensor:
        """CLIP's MLP ``c_proj(QuickGELU(c_fc(xn)))``, as one fused silu when its weights are frozen."""
        c_fc, c_proj = self.mlp.c_fc, self.mlp.c_proj
        if c_fc.weight.requires_grad or c_proj.weight.requires_grad or not isinstance(self.mlp.gelu, QuickGELU):
            return self.mlp(xn)
        s = QUICK_GELU_SCALE
        hidden = F.linear(xn, autocast_frozen(c_fc, "weight", c_fc.weight, s), autocast_frozen(c_fc, "bias", c_fc.bias, s))
        return F.linear(
            F.silu(hidden), autocast_frozen(c_proj, "weight", c_proj.weight, 1.0 / s), autocast_frozen(c_proj, "bias", c_proj.bias)
        )

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.residual_add(x, self.temporal_attention(x, num_frames), num_frames)
        x = x + self.S_Adapter(self.attn(self.ln_1(x)))
        xn = self.ln_2(x)
        return self.residual_add(x + self.mlp_forward(xn), self.MLP_Adapter(xn), num_frames, self.scale)
