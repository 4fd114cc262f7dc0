"""One Swin block with AIM's temporal, spatial and joint adapters (the original SwinTransformer2D_Adapter's
block)."""

from typing import Optional, Tuple

import torch
from torch import nn

from .adapter import Adapter
from .swin_window_attention import SwinWindowAttention
from .swin_windows import shifted_window_mask, window_merge, window_partition


class SwinAdapterBlock(nn.Module):
    """A frozen Swin block (``norm1``, ``attn``, ``norm2``, ``mlp``) with AIM's adapters around it.

    The block receives its parts. With x the (B*T, H*W, C) tubelet tokens of T time steps:

    1. temporal (only when ``T_Adapter`` is given, every other block in the original):
       regroup to (B*H*W, T, C), ``x = x + drop_path(T_Adapter(attn(norm1(x), temporal bias)))``;
    2. spatial: ``x = x + S_Adapter2(attn(norm1(x)))`` over (shifted) Ws x Ws windows of each frame,
       ``S_Adapter2`` with skip connection (no drop path here, as the original);
    3. joint: ``xn = norm2(x); x = x + mlp(xn) + drop_path(adapter_scale * S_Adapter(xn))``.

    Module names are those of the original checkpoints (``T_Adapter``, ``S_Adapter2`` = spatial,
    ``S_Adapter`` = joint).

    Args:
        norm1: LayerNorm before attention.
        attn: the window attention (with a temporal table when ``temporal_adapter`` is given).
        norm2: LayerNorm before the MLP.
        mlp: the Swin MLP.
        spatial_adapter: adapter WITH skip connection applied to the window attention's output.
        joint_adapter: adapter WITHOUT skip connection in parallel to the MLP.
        temporal_adapter: adapter WITHOUT skip connection on the temporal attention's output, or None.
        resolution: (H, W) token grid of the stage.
        shift_size: cyclic shift of the windows (0: regular windows).
        adapter_scale: scale of the joint adapter's output (0.5 in the original).
        drop_path: stochastic-depth module for the temporal and joint adapter branches.

    Shapes:
        x: (B*T, H*W, C) -> (B*T, H*W, C), frames of a video consecutive.
    """

    def __init__(self, norm1: nn.Module, attn: SwinWindowAttention, norm2: nn.Module, mlp: nn.Module,
                 spatial_adapter: Adapter, joint_adapter: Adapter, temporal_adapter: Optional[Adapter],
                 resolution: Tuple[int, int], shift_size: int = 0, adapter_scale: float = 0.5,
                 drop_path: Optional[nn.Module] = None) -> None:
        super().__init__()
        height, width = resolution
        window = attn.window_size
        if height % window or width % window:
            raise ValueError(f"token grid {height}x{width} is not a multiple of window_size {window}")
        if not 0 <= shift_size < window:
            raise ValueError(f"shift_size {shift_size} must be in [0, window_size={window})")
        if (temporal_adapter is None) != (attn.num_time_tokens is None):
            raise ValueError("a temporal adapter needs an attention with a temporal bias table and vice versa")
        self.resolution = (height, width)
        self.shift_size = shift_size
        self.adapter_scale = adapter_scale
        if temporal_adapter is not None:
            self.T_Adapter = temporal_adapter
        self.norm1 = norm1
        self.attn = attn
        self.drop_path = drop_path if drop_path is not None else nn.Identity()
        self.norm2 = norm2
        self.mlp = mlp
        self.S_Adapter = joint_adapter
        self.S_Adapter2 = spatial_adapter
        mask = shifted_window_mask(height, width, window, shift_size) if shift_size > 0 else None
        self.register_buffer("attn_mask", mask, persistent=False)

    @property
    def has_temporal(self) -> bool:
        return hasattr(self, "T_Adapter")

    def temporal(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Temporal adaptation: the frozen attention across the T time steps of each position."""
        bt, n, c = x.shape
        b = bt // num_frames
        xt = x.view(b, num_frames, n, c).transpose(1, 2).reshape(b * n, num_frames, c)
        res = self.T_Adapter(self.attn(self.norm1(xt), self.attn.temporal_bias(num_frames)))
        xt = xt + self.drop_path(res)
        return xt.view(b, n, num_frames, c).transpose(1, 2).reshape(bt, n, c)

    def spatial(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial adaptation: (shifted-)window attention of each frame, adapted with skip."""
        bt, n, c = x.shape
        height, width = self.resolution
        window, shift = self.attn.window_size, self.shift_size
        grid = self.norm1(x).view(bt, height, width, c)
        if shift:
            grid = torch.roll(grid, shifts=(-shift, -shift), dims=(1, 2))
        windows = window_partition(grid, window)  # (B*T, nW, Ws*Ws, C)
        bias = self.attn.spatial_bias()  # (nH, N, N)
        if self.attn_mask is not None:
            bias = bias + self.attn_mask[:, None]  # (nW, nH, N, N)
        windows = self.S_Adapter2(self.attn(windows, bias))
        grid = window_merge(windows, window, height, width)
        if shift:
            grid = torch.roll(grid, shifts=(shift, shift), dims=(1, 2))
        return x + grid.reshape(bt, n, c)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        if x.shape[1] != self.resolution[0] * self.resolution[1]:
            raise ValueError(f"block expects {self.resolution[0]}x{self.resolution[1]} tokens per frame, "
                             f"got {x.shape[1]}")
        if self.has_temporal:
            x = self.temporal(x, num_frames)
        x = self.spatial(x)
        xn = self.norm2(x)
        return x + self.mlp(xn) + self.drop_path(self.adapter_scale * self.S_Adapter(xn))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Files of the original layout hold ``attn_mask``; it is recomputed here, so drop it."""
        state_dict.pop(prefix + "attn_mask", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, shift_size={self.shift_size}, adapter_scale={self.adapter_scale}"
