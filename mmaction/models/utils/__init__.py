from .activations import QuickGELU
from .blending import CutmixBlending, MixupBlending, RandomBatchAugment
from .frozen_cast import FrozenCastLinear, autocast_frozen
from .layer_norm import LayerNorm

__all__ = ["FrozenCastLinear", "autocast_frozen", "LayerNorm", "QuickGELU", "MixupBlending", "CutmixBlending", "RandomBatchAugment"]
