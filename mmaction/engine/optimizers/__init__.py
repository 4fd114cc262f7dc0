"""Optimizer wrappers (NaN-safe, mixed precision) and the trainable-parameter constructor."""

from .mixed_precision_optim_wrapper import MixedPrecisionOptimWrapper, parse_amp_dtype
from .safe_optim_wrapper import NonFiniteLossError, SafeOptimWrapper
from .tunable_params_constructor import TunableParamsOptimWrapperConstructor

__all__ = [
    "SafeOptimWrapper",
    "MixedPrecisionOptimWrapper",
    "NonFiniteLossError",
    "TunableParamsOptimWrapperConstructor",
    "parse_amp_dtype",
]
