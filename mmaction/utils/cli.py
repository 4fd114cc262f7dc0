"""Small checks and set-up shared by the command-line tools (demo, feature extraction, FLOPs)."""

from pathlib import Path

import torch


def quiet_logger(name: str) -> None:
    """Makes a WARNING-level MMLogger named ``name`` the current one, so model builds print no INFO lines.

    Called again in the same process (tests call a tool's ``main`` repeatedly), it re-selects the
    logger made the first time.
    """
    from mmengine.logging import MMLogger

    if MMLogger.check_instance_created(name):
        MMLogger.get_instance(name)
    else:
        MMLogger.get_instance(name, log_level="WARNING")


def require_file(path: str, what: str) -> Path:
    """Returns ``path`` as a Path.

    Raises:
        FileNotFoundError: naming ``what`` and ``path`` when it is not a file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    return p


def require_device(device: str) -> None:
    """Checks that a ``--device`` value can be used here.

    Raises:
        ValueError: naming the device when it asks for CUDA and none is available.
    """
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: no CUDA device is available")
