from .activations import QuickGELU
from .blending import CutmixBlending, MixupBlending, RandomBatchAugment
from .frozen_cast import FrozenCastLinear, autocast_frozen, frozen_linear
from .layer_norm import LayerNorm
from .temporal_embedding import add_temporal_embedding, interpolate_temporal_embedding
from .tuning import TUNING_MODES, apply_tuning, check_tuning, mark_tunable

__all__ = [
    "FrozenCastLinear", "autocast_frozen", "frozen_linear", "LayerNorm", "QuickGELU", "MixupBlending", "CutmixBlending",
    "RandomBatchAugment", "add_temporal_embedding", "interpolate_temporal_embedding", "TUNING_MODES",
    "apply_tuning", "check_tuning", "mark_tunable",
]
