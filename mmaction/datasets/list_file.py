"""Reading and writing the plain-text list files of MMAction2 datasets, with located errors.

A list file has one entry per line, e.g. ``videos/abc.mp4 12``. Files must be UTF-8 (a BOM is
tolerated); blank lines are skipped. Every error names the file and the line number.
"""

import hashlib
import os
from typing import Iterable, List, Tuple


class AnnotationError(ValueError):
    """A list or label-map file that cannot be used; the message starts with ``file:line:``."""


def read_lines(path: str, what: str = "annotation file") -> List[Tuple[int, str]]:
    """The non-blank lines of a UTF-8 text file, with their 1-based line numbers.

    Args:
        path: the file.
        what: how to call it in errors.

    Returns:
        list of (line number, line without surrounding whitespace).
    """
    if not path:
        raise AnnotationError(f"no {what} given")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} {path!r} not found")
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise AnnotationError(
            f"{path}:{line}: {what} is not valid UTF-8 (byte {data[e.start:e.start + 1]!r} at offset {e.start}); "
            "re-save it as UTF-8"
        ) from None
    return [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines()) if ln.strip()]


def read_label_map(path: str) -> List[str]:
    """Class names, one per line: line ``i`` (0-based, blank lines skipped) is label ``i``.

    Args:
        path: the label-map file.

    Returns:
        list of class names.
    """
    names: List[str] = []
    seen = {}
    for line_no, name in read_lines(path, "label map"):
        if name in seen:
            raise AnnotationError(f"{path}:{line_no}: class name {name!r} already on line {seen[name]}")
        seen[name] = line_no
        names.append(name)
    if not names:
        raise AnnotationError(f"{path}: label map holds no class name")
    return names


def list_bytes(lines: Iterable[str]) -> bytes:
    """The exact bytes a list file with these lines has (UTF-8, ``\\n`` after every line)."""
    return "".join(f"{ln}\n" for ln in lines).encode("utf-8")


def write_list_file(path: str, lines: Iterable[str]) -> str:
    """Writes ``lines`` as a UTF-8 list file and returns its SHA-256 (hex).

    Args:
        path: output file; parent folders are created.
        lines: entries, without newline.
    """
    data = list_bytes(lines)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: str) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
