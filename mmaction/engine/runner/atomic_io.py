"""Atomic file writes: a reader (or a resumed run) never sees a half-written file.

The bytes go to a temporary file in the destination's folder, are flushed and fsync'ed,
and the temporary file is then renamed over the destination with ``os.replace`` (atomic on
POSIX and Windows within one file system). A process killed at any point leaves either the
old file or the new one, plus at worst a stray ``.<name>.tmp-*`` file, which
:func:`remove_stale_temp_files` deletes at the next start.

A full disk (``ENOSPC``/``EDQUOT``) during a write raises :class:`DiskFullError`, one line
naming the file; the temporary file is removed and the destination is left as it was.
"""

import errno
import os
import re
import tempfile
from typing import BinaryIO, Callable, List, Union

TMP_MARKER = ".tmp-"
#: ``.<name>.tmp-<mkstemp suffix>``: the temporary files :func:`atomic_write_with` creates
_TMP_NAME = re.compile(r"^\..+" + re.escape(TMP_MARKER) + r"[A-Za-z0-9_]+$")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """A write failed because the file system is full; names the file, which is unchanged.

    Args:
        path: the destination that could not be written.
        cause: the ``OSError`` raised by the write.
    """

    def __init__(self, path: str, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror, path)
        self.path = path
        self.message = (
            f"cannot write {path}: {cause.strerror or 'no space left on device'} (errno {cause.errno}); "
            "the file was left as it was and the previous checkpoints are kept: free space (or move the work dir) "
            "and resume"
        )

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (_rebuild_disk_full, (self.path, self.errno, self.strerror))


def _rebuild_disk_full(path: str, code: int, strerror: str) -> "DiskFullError":
    return DiskFullError(path, OSError(code, strerror))


def is_disk_full(error: BaseException) -> bool:
    """True for an ``OSError`` that means "no space left" (``ENOSPC``) or "quota exceeded"."""
    return isinstance(error, OSError) and error.errno in _DISK_FULL


def write_payload(fileobj: BinaryIO, data: bytes) -> None:
    """Writes ``data`` to an open binary file. Kept separate so tests can interrupt a write."""
    fileobj.write(data)


def atomic_write_bytes(path: Union[str, os.PathLike], data: Union[bytes, bytearray, memoryview]) -> None:
    """Writes ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    Args:
        path: destination file; its folder is created if missing.
        data: the complete file content.
    """
    atomic_write_with(path, lambda f: write_payload(f, bytes(data)))


def atomic_write_text(path: Union[str, os.PathLike], text: str, encoding: str = "utf-8") -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_with(path: Union[str, os.PathLike], writer: Callable[[BinaryIO], None]) -> None:
    """Lets ``writer`` stream into a temporary file, then renames it over ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}{TMP_MARKER}", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())  # mkstemp makes 0600 files; use what open() would
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError(path, exc) from exc
        raise
    _fsync_dir(folder)


def remove_stale_temp_files(folder: Union[str, os.PathLike]) -> List[str]:
    """Deletes the ``.<name>.tmp-*`` files that killed writes left in ``folder`` (not below it).

    Call it when a run starts, before anything writes there (on one process only).

    Returns:
        the names of the deleted files.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if _TMP_NAME.match(name) and os.path.isfile(path) and not os.path.islink(path):
            os.remove(path)
            removed.append(name)
    return removed


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: str) -> None:
    """Makes the rename durable (best effort; not every OS/file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
