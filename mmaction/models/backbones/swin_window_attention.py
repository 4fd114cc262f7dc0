"""Swin's window attention, re-used by AIM across the frames of a video (temporal adaptation)."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .swin_windows import relative_position_index, temporal_position_index


class SwinWindowAttention(nn.Module):
    """Multi-head self-attention inside windows with an additive relative-position bias.

    The same weights (``qkv``, ``proj``) serve two groupings of the tokens:

    * spatial: the tokens of one (shifted) Ws x Ws window of one frame, biased by Swin's
      ``relative_position_bias_table`` (+ the shifted-window mask);
    * temporal (AIM): the T tubelet tokens of one spatial position, biased by
      ``temporal_position_bias_table`` indexed by the time difference (the original's
      ``t_relative`` option; present only when ``num_time_tokens`` is given).

    Args:
        dim: token width C.
        window_size: window side Ws.
        num_heads: attention heads.
        num_time_tokens: T0, the number of time steps the temporal table covers (None: no
            temporal table).
        qkv_bias: bias of the ``qkv`` projection.
        qk_scale: override of the head_dim ** -0.5 scale.
        attn_drop: dropout on the attention weights.
        proj_drop: dropout after ``proj``.
    """

    def __init__(self, dim: int, window_size: int, num_heads: int, num_time_tokens: Optional[int] = None,
                 qkv_bias: bool = True, qk_scale: Optional[float] = None, attn_drop: float = 0.0,
                 proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"width {dim} is not a multiple of num_heads {num_heads}")
        self.dim = dim
        self.window_size = window_size
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        # Deterministic: recomputed, not stored (files that hold it load all the same).
        self.register_buffer("relative_position_index", relative_position_index(window_size), persistent=False)
        self.num_time_tokens = num_time_tokens
        if num_time_tokens is not None:
            self.temporal_position_bias_table = nn.Parameter(torch.zeros(2 * num_time_tokens - 1, num_heads))
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def spatial_bias(self) -> torch.Tensor:
        """(nH, Ws*Ws, Ws*Ws) relative-position bias of one window."""
        n = self.window_size * self.window_size
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        return bias.view(n, n, self.num_heads).permute(2, 0, 1)

    def temporal_bias(self, num_tokens: int) -> torch.Tensor:
        """(nH, T, T) temporal relative-position bias for T <= T0 time steps."""
        if self.num_time_tokens is None:
            raise RuntimeError("this attention has no temporal_position_bias_table (a block without T_Adapter)")
        if num_tokens > self.num_time_tokens:
            raise ValueError(f"the clip has {num_tokens} time tokens but the temporal bias table covers "
                             f"{self.num_time_tokens} (num_frames / tubelet size of the model)")
        index = temporal_position_index(num_tokens, self.num_time_tokens).to(self.temporal_position_bias_table.device)
        return self.temporal_position_bias_table[index.reshape(-1)].view(num_tokens, num_tokens, -1).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Attention of the N tokens of every group with an additive bias.

        Args:
            x: (..., N, C) groups of N tokens (windows or time series).
            bias: broadcastable to (..., nH, N, N), added to the scaled q.k logits.

        Returns:
            (..., N, C).
        """
        *lead, n, c = x.shape
        qkv = self.qkv(x).view(*lead, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.movedim(-3, 0).transpose(-2, -3).unbind(0)  # each (..., nH, N, hd)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype),
                                             dropout_p=self.attn_drop if self.training else 0.0, scale=self.scale)
        out = out.transpose(-2, -3).reshape(*lead, n, c)
        return self.proj_drop(self.proj(out))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Files of the original layout hold the index buffers; they are recomputed here, so drop them."""
        for name in ("relative_position_index", "t_relative_coords"):
            state_dict.pop(prefix + name, None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, window_size={self.window_size}, num_heads={self.num_heads}, "
                f"num_time_tokens={self.num_time_tokens}")
