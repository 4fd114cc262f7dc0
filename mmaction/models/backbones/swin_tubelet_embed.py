"""Tubelet embedding: a Conv3d over (t, p, p) patches of a clip, Swin's 2-D patch embedding inflated over time."""

from typing import Optional, Sequence, Tuple

import torch
from torch import nn


class TubeletEmbed(nn.Module):
    """Cuts a clip into (t, p, p) tubelets and projects each to C channels.

    Named as the original (``proj``, ``norm``), so a 2-D Swin ``patch_embed.proj.weight``
    (C, 3, p, p) becomes this ``proj.weight`` (C, 3, t, p, p) by repeating it t times over time
    and dividing by t (see :func:`inflate_patch_embed` in ``swin_checkpoint``).

    Args:
        img_size: (H, W) of the frames the model is built for.
        patch_size: (t, p, p) tubelet size.
        in_chans: input channels.
        embed_dim: output width C.
        norm: LayerNorm after the projection (Swin's ``patch_norm``), or None.

    Shapes:
        x: (B, 3, T, H, W) -> (B*T/t, (H/p)*(W/p), C), the time steps of a video consecutive.
    """

    def __init__(self, img_size: Tuple[int, int], patch_size: Sequence[int], in_chans: int, embed_dim: int,
                 norm: Optional[nn.Module] = None) -> None:
        super().__init__()
        if len(patch_size) != 3:
            raise ValueError(f"patch_size must be (t, p, p), got {patch_size!r}")
        self.patch_size = tuple(int(s) for s in patch_size)
        self.img_size = tuple(img_size)
        if self.img_size[0] % self.patch_size[1] or self.img_size[1] % self.patch_size[2]:
            raise ValueError(f"img_size {self.img_size} is not a multiple of the patch size {self.patch_size[1:]}")
        self.grid = (self.img_size[0] // self.patch_size[1], self.img_size[1] // self.patch_size[2])
        self.in_chans = in_chans
        self.embed_dim = embed_dim
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        if c != self.in_chans or (h, w) != self.img_size or t % self.patch_size[0]:
            raise ValueError(
                f"expected a clip (B, {self.in_chans}, T, {self.img_size[0]}, {self.img_size[1]}) with T a "
                f"multiple of {self.patch_size[0]} (img_size and tubelet size of the model), got {tuple(x.shape)}")
        x = self.proj(x)  # (B, C, T', H', W')
        x = x.permute(0, 2, 3, 4, 1).flatten(2, 3)  # (B, T', H'W', C)
        if self.norm is not None:
            x = self.norm(x)
        return x.flatten(0, 1)
