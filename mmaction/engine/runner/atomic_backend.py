"""A local file backend for mmengine whose writes are atomic (see :mod:`atomic_io`)."""

from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .atomic_io import atomic_write_bytes, atomic_write_text

ATOMIC_BACKEND_NAME = "atomic_local"


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put``/``put_text`` write a temp file and ``os.replace`` it.

    Select it with ``backend_args=dict(backend='atomic_local')`` (``AtomicCheckpointHook``
    does so by default), so a checkpoint file is either complete or absent.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = "utf-8") -> None:
        atomic_write_text(filepath, obj, encoding=encoding)


register_backend(ATOMIC_BACKEND_NAME, AtomicLocalBackend, force=True)
