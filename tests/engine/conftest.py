"""Fixtures of tests/engine."""

import logging
from typing import List

import pytest
from mmengine.logging import MMLogger


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
