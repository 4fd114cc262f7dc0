"""Finding the checkpoint to resume from, robust to interrupted writes."""

import glob
import logging
import os
import re
import zipfile
from typing import List, Optional

from mmengine.logging import print_log

_CKPT_PATTERN = re.compile(r"^(epoch|iter)_(\d+)\.pth$")


def is_complete_checkpoint(path: str) -> bool:
    """True when ``path`` is a complete torch zip checkpoint (its central directory, written
    last, is readable). A file cut short by a kill fails this test."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return any(name.endswith("data.pkl") for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _numbered_checkpoints(work_dir: str) -> List[str]:
    found = []
    for path in glob.glob(os.path.join(work_dir, "*.pth")):
        match = _CKPT_PATTERN.match(os.path.basename(path))
        if match:
            found.append((0 if match.group(1) == "epoch" else 1, int(match.group(2)), path))
    return [p for _, _, p in sorted(found, key=lambda t: (t[0], t[1]), reverse=True)]


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from, or None when there is none.

    ``work_dir/last_checkpoint`` names it; if that file is missing, empty, or names a file that
    is absent or incomplete, the newest complete ``epoch_*.pth``/``iter_*.pth`` is used instead
    (each skipped file is logged).
    """
    candidates: List[str] = []
    pointer = os.path.join(work_dir, "last_checkpoint")
    if os.path.isfile(pointer):
        with open(pointer, encoding="utf-8") as f:
            named = f.read().strip()
        if named:
            candidates.append(named if os.path.isfile(named) else os.path.join(work_dir, os.path.basename(named)))
    candidates += [p for p in _numbered_checkpoints(work_dir) if p not in candidates]
    for path in candidates:
        if is_complete_checkpoint(path):
            return path
        print_log(f"resume: skipping {path}: missing or incomplete", logger="current", level=logging.WARNING)
    return None
