"""One warning per (class, argument) for arguments that a transform accepts for config
compatibility (MMAction2 0.x/1.x, timm) but does not implement."""

import warnings
from typing import Any, Set, Tuple

_WARNED: Set[Tuple[str, str]] = set()


def warn_unimplemented(owner: object, name: str, value: Any, default: Any, effect: str) -> None:
    """Warns once per process, naming the argument and the class, when ``value`` differs from
    ``default`` (the value that asks for nothing).

    Args:
        owner: the transform (its class name is used).
        name: the argument.
        value: what the config gave.
        default: the argument's no-op value.
        effect: what happens instead, e.g. ``'resizing always runs at once'``.
    """
    if value is default or value == default:
        return
    key = (type(owner).__name__, name)
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f"{key[0]}: argument {name}={value!r} is accepted for compatibility but not implemented; {effect}",
                  UserWarning, stacklevel=3)
