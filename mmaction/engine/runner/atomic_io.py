"""Atomic file writes: a reader (or a resumed run) never sees a half-written file.

The bytes go to a temporary file in the destination's folder, are flushed and fsync'ed,
and the temporary file is then renamed over the destination with ``os.replace`` (atomic on
POSIX and Windows within one file system). A process killed at any point leaves either the
old file or the new one, plus at worst a stray ``.<name>.tmp-*`` file.
"""

import os
import tempfile
from typing import BinaryIO, Callable, Union

TMP_MARKER = ".tmp-"


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
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


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
