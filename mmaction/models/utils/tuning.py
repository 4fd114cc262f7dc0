"""Which parameters train: declared by the modules themselves, not by name patterns.

A module declares that it trains under AIM's rule (``tuning='adapter'``) in one of two ways:

* its class sets ``trains_with_adapters = True`` (every AIM adapter does), or
* its owner calls :func:`mark_tunable` on it (a read-out norm, TimeSformer's temporal projection),
  optionally naming only some of its direct parameters (a backbone's ``temporal_embedding``).

:func:`apply_tuning` then sets ``requires_grad`` of every parameter of a backbone from the mode:
``'full'`` trains everything, ``'linear_probe'`` nothing, ``'adapter'`` exactly the declared
parameters. A module added later (a LoRA wrapper, a new adapter) trains when it declares itself,
whatever its name.
"""

from typing import Iterable, Iterator, Optional, Set, Tuple

from torch import nn

#: the backbone tuning modes
TUNING_MODES = ("adapter", "full", "linear_probe")

_MARK = "trains_with_adapters"
_MARKED_PARAMS = "_tunable_param_names"


def mark_tunable(module: nn.Module, param_names: Optional[Iterable[str]] = None) -> nn.Module:
    """Declare that ``module`` (or only its direct parameters ``param_names``) trains with the adapters.

    Args:
        module: the module.
        param_names: names of ``module``'s own (direct) parameters; None declares the whole
            module, its submodules included.

    Returns:
        ``module`` (for chaining in constructors).

    Raises:
        ValueError: a name is not a direct parameter of ``module``.
    """
    if param_names is None:
        setattr(module, _MARK, True)
        return module
    names = set(param_names)
    own = {name for name, _ in module.named_parameters(recurse=False)}
    unknown = sorted(names - own)
    if unknown:
        raise ValueError(f"mark_tunable: {type(module).__name__} has no direct parameter(s) {unknown}; it has {sorted(own)}")
    module.__dict__.setdefault(_MARKED_PARAMS, set()).update(names)
    return module


def is_marked_tunable(module: nn.Module) -> bool:
    """Whether ``module`` as a whole is declared tunable (by its class or by :func:`mark_tunable`)."""
    return bool(getattr(module, _MARK, False))


def tunable_parameter_names(model: nn.Module) -> Iterator[Tuple[str, bool]]:
    """``(name, declared)`` for every parameter of ``model``: whether it trains under ``'adapter'``."""
    yield from _walk(model, "", False)


def _walk(module: nn.Module, prefix: str, inherited: bool) -> Iterator[Tuple[str, bool]]:
    declared = inherited or is_marked_tunable(module)
    marked: Set[str] = module.__dict__.get(_MARKED_PARAMS, set())
    for name, _ in module.named_parameters(recurse=False):
        yield prefix + name, declared or name in marked
    for child_name, child in module.named_children():
        yield from _walk(child, f"{prefix}{child_name}.", declared)


def apply_tuning(model: nn.Module, tuning: str) -> None:
    """Set ``requires_grad`` of every parameter of ``model`` from ``tuning``.

    Args:
        model: a backbone.
        tuning: ``'adapter'`` (the declared parameters train, everything else is frozen),
            ``'full'`` (all train) or ``'linear_probe'`` (none train; the head lives outside).

    Raises:
        ValueError: unknown mode.
    """
    check_tuning(tuning)
    params = dict(model.named_parameters())
    for name, declared in tunable_parameter_names(model):
        if name in params:  # shared parameters appear once in named_parameters
            params[name].requires_grad_(tuning == "full" or (tuning == "adapter" and declared))


def check_tuning(tuning: str) -> None:
    """Raises ValueError naming ``tuning`` when it is not one of :data:`TUNING_MODES`."""
    if tuning not in TUNING_MODES:
        raise ValueError(f"tuning must be 'adapter', 'full' or 'linear_probe', got {tuning!r}")
