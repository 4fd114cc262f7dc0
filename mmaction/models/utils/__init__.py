from .activations import QuickGELU
from .blending import CutmixBlending, MixupBlending, RandomBatchAugment
from .layer_norm import LayerNorm

__all__ = ["LayerNorm", "QuickGELU", "MixupBlending", "CutmixBlending", "RandomBatchAugment"]
