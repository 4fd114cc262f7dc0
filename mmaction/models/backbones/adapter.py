"""The AIM bottleneck adapter."""

import torch
from torch import nn


class Adapter(nn.Module):
    """Bottleneck adapter: ``Linear(D -> D*ratio) -> GELU -> Linear(D*ratio -> D)``.

    The second layer (``D_fc2``) starts at zero, so an adapter without skip outputs zeros and one
    with skip is the identity: the adapted model starts as the image model.

    Args:
        d_features: input and output width D.
        mlp_ratio: bottleneck width as a fraction of D (AIM: 0.25).
        skip_connect: return ``x + adapter(x)`` instead of ``adapter(x)``.

    Shapes:
        x: (..., D) -> (..., D).
    """

    #: adapters train under ``tuning='adapter'`` (see :mod:`mmaction.models.utils.tuning`)
    trains_with_adapters = True

    def __init__(self, d_features: int, mlp_ratio: float = 0.25, skip_connect: bool = True) -> None:
        super().__init__()
        hidden = int(d_features * mlp_ratio)
        if hidden < 1:
            raise ValueError(f"adapter_ratio={mlp_ratio} gives an empty bottleneck for width {d_features}")
        self.skip_connect = skip_connect
        self.D_fc1 = nn.Linear(d_features, hidden)
        self.act = nn.GELU()
        self.D_fc2 = nn.Linear(hidden, d_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.D_fc1.weight, std=0.02)
        nn.init.zeros_(self.D_fc1.bias)
        nn.init.zeros_(self.D_fc2.weight)
        nn.init.zeros_(self.D_fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.D_fc2(self.act(self.D_fc1(x)))
        return x + out if self.skip_connect else out
