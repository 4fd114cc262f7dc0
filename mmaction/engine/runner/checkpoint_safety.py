"""Lets ``torch.load(weights_only=True)`` read the checkpoints that mmengine's Runner writes.

Since torch 2.6 ``torch.load`` only unpickles tensors and a few containers by default, and
mmengine's resume fails with ``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``.
Instead of turning the safe loader off (``weights_only=False`` runs arbitrary pickled code),
the few plain-data types found in our checkpoints are allow-listed: mmengine's
``HistoryBuffer`` (message hub), numpy arrays, dtypes and scalars (message hub values and
numpy's generator state). Nothing that can execute code is added: ``HistoryBuffer`` pickles
its statistics methods as ``getattr(HistoryBuffer, 'mean')``, so the name ``builtins.getattr``
is mapped to :func:`restricted_getattr`, which only looks up public attributes of
``HistoryBuffer`` and refuses anything else.
"""

import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _numpy_globals() -> list:
    core = getattr(np, "_core", None) or np.core  # numpy 2: np._core; numpy 1: np.core
    multiarray = core.multiarray
    found = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar]
    dtypes_module = getattr(np, "dtypes", None)
    if dtypes_module is not None:
        found += [obj for name, obj in vars(dtypes_module).items() if isinstance(obj, type) and name.endswith("DType")]
    # Files written with numpy 1.x name the functions under numpy.core.multiarray.
    aliased = [
        (multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
        (multiarray.scalar, "numpy.core.multiarray.scalar"),
    ]
    return found + aliased


def restricted_getattr(obj, name: str):
    """``getattr`` for unpickling: only public attributes of ``HistoryBuffer`` (sub)classes.

    Raises:
        pickle.UnpicklingError: for any other object or a private/dunder name.
    """
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and isinstance(name, str) and not name.startswith("_"):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f"refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only public attributes of "
        "HistoryBuffer may be looked up"
    )


def checkpoint_safe_globals() -> list:
    """The objects (or ``(object, 'module.name')`` pairs) allow-listed for ``torch.load``."""
    return [HistoryBuffer, bytes, (restricted_getattr, "builtins.getattr")] + _numpy_globals()


_REGISTERED = False


def register_checkpoint_safe_globals() -> None:
    """Adds :func:`checkpoint_safe_globals` to torch's ``weights_only`` allow-list (once)."""
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, "add_safe_globals"):
        return
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    _REGISTERED = True
