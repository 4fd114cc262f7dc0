"""Activation functions used by CLIP."""

import torch
from torch import nn


class QuickGELU(nn.Module):
    """CLIP's approximate GELU: ``x * sigmoid(1.702 * x)``.

    Plain GELU differs from it by ~1e-2 on CLIP activations, so pretrained CLIP towers need this one.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)
