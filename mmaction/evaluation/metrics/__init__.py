"""Metrics (registered in METRICS)."""

from .acc_metric import AccMetric
from .dump_results import DumpVideoResults

__all__ = ["AccMetric", "DumpVideoResults"]
