"""Training engine pieces: hooks, optimizer wrappers/constructors, runner helpers."""

from . import hooks, optimizers, runner  # noqa: F401
