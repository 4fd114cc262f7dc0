"""Evaluation metrics."""

from . import functional, metrics  # noqa: F401
from .metrics import AccMetric, DumpVideoResults

__all__ = ["AccMetric", "DumpVideoResults"]
