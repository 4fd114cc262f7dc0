"""Moved to :mod:`mmaction.utils.atomic_io` (a bottom-layer helper that evaluation and the demo
project use without loading the engine); this name keeps older imports working."""

from mmaction.utils.atomic_io import TMP_MARKER, atomic_write_bytes, atomic_write_text, atomic_write_with

__all__ = ["TMP_MARKER", "atomic_write_bytes", "atomic_write_text", "atomic_write_with"]
