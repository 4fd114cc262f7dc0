"""Shared fixtures: the optional ../shared data folder, a registered mmaction scope, and the
messages logged on mmengine's logger during a test (``mm_log``)."""

import logging
import os
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.logging import MMLogger

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("AIM_SHARED_DIR", REPO_ROOT.parent / "shared"))

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder beside the checkout; skips the test where it is absent."""
    if not (SHARED_DIR / "data").is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(autouse=True, scope="session")
def _register_mmaction():
    from mmaction.utils.setup_env import register_all_modules

    register_all_modules(init_default_scope=True)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def mm_log():
    """Messages logged on mmengine's current logger during the test (a list of str)."""
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)
