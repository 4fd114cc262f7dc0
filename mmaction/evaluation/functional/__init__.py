"""Metric functions on numpy arrays."""

from .accuracy import mean_class_accuracy, top_k_accuracy, top_k_hits

__all__ = ["top_k_accuracy", "top_k_hits", "mean_class_accuracy"]
