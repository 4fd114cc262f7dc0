"""CLIP's feed-forward block: ``c_proj(QuickGELU(c_fc(x)))``."""

import torch
import torch.nn.functional as F
from torch import nn

from ..utils import FrozenCastLinear, QuickGELU

#: QuickGELU(z) = z * sigmoid(1.702 z) = silu(1.702 z) / 1.702
QUICK_GELU_SCALE = 1.702


class CLIPMLP(nn.Module):
    """CLIP's MLP with the state-dict names of OpenAI checkpoints (``c_fc``, ``c_proj``).

    When ``gelu`` is QuickGELU and both linears are frozen :class:`FrozenCastLinear`, QuickGELU's
    1.702 is folded into their cached weights: ``c_proj(silu(1.702 c_fc(x)) / 1.702)`` runs as
    ``c_proj'(silu(c_fc'(x)))``, one fused activation instead of three passes. The folding happens
    inside ``c_fc``'s and ``c_proj``'s own ``forward``; any other module put in their place (a LoRA
    wrapper, a trainable layer) is called plainly, so nothing bypasses a module's ``forward``.

    Args:
        width: model width D.
        hidden: hidden width (CLIP: 4 D).

    Shapes:
        x: (..., D) -> (..., D).
    """

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.c_fc = FrozenCastLinear(width, hidden)
        self.gelu = QuickGELU()
        self.c_proj = FrozenCastLinear(hidden, width)

    def can_fold(self) -> bool:
        """Whether the QuickGELU scale can be folded into the (frozen) linears' cached weights."""
        c_fc, c_proj = self.c_fc, self.c_proj
        return (
            type(self.gelu) is QuickGELU
            and getattr(c_fc, "supports_folded_scale", False)
            and getattr(c_proj, "supports_folded_scale", False)
            and not any(p.requires_grad for p in c_fc.parameters())
            and not any(p.requires_grad for p in c_proj.parameters())
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.can_fold():
            s = QUICK_GELU_SCALE
            return self.c_proj(F.silu(self.c_fc(x, output_scale=s)), input_scale=1.0 / s)
        return self.c_proj(self.gelu(self.c_fc(x)))
