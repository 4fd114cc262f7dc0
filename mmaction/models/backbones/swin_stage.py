"""One stage of a Swin backbone: its blocks, then the optional 2x2 patch merging."""

from typing import List, Optional

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .swin_adapter_block import SwinAdapterBlock


class SwinStage(nn.Module):
    """Blocks at one resolution followed by ``downsample`` (timm's ``PatchMerging``), named
    ``blocks.{j}`` and ``downsample`` as in Microsoft's and the original AIM checkpoints.

    Args:
        blocks: the stage's blocks, all at the same (H, W) token grid.
        downsample: merges 2x2 neighbouring tokens (C -> 2C), input (N, H, W, C), or None.
        with_cp: gradient checkpointing per block while training.

    Shapes:
        x: (B*T, H*W, C) -> (B*T, H*W/4, 2C) with ``downsample``, else unchanged.
    """

    def __init__(self, blocks: List[SwinAdapterBlock], downsample: Optional[nn.Module] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.resolution = blocks[0].resolution
        self.downsample = downsample
        self.with_cp = with_cp

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        for block in self.blocks:
            if self.with_cp and self.training and torch.is_grad_enabled():
                x = checkpoint(block, x, num_frames, use_reentrant=False)
            else:
                x = block(x, num_frames)
        if self.downsample is not None:
            height, width = self.resolution
            x = self.downsample(x.view(x.shape[0], height, width, -1)).flatten(1, 2)
        return x
