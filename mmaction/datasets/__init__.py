"""Datasets and the transforms of their pipelines."""

from . import transforms  # noqa: F401
