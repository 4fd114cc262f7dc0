"""The Runner of ``tools/train.py`` and ``tools/test.py``: mmengine's Runner whose console shows
what a user needs, while the work dir's log file keeps everything.

mmengine logs the environment, the whole config (hundreds of lines) and the hook table at INFO
level when a Runner is built. They stay in ``<work_dir>/<timestamp>/<timestamp>.log``; the
console handler drops them (a :class:`logging.Filter` on mmengine's own stream handler).
"""

import logging
from typing import Tuple

from mmengine.logging import MMLogger
from mmengine.runner import Runner

from mmaction.registry import RUNNERS

#: Start of the messages that go to the log file only: mmengine's dumps, and its deprecation
#: notes about its own internals (mmengine's CheckpointHook still builds a FileClient), which a
#: user cannot act on.
FILE_ONLY_PREFIXES: Tuple[str, ...] = (
    "Config:\n",
    "Hooks will be executed in the following order",
    "\n" + "-" * 60 + "\nSystem environment:",
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    "Distributed training is not used, all SyncBatchNorm",
)


class FileOnlyFilter(logging.Filter):
    """Drops the records whose message starts with one of :data:`FILE_ONLY_PREFIXES`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage() if record.args else str(record.msg)
        return not message.startswith(FILE_ONLY_PREFIXES)


def keep_dumps_off_console(logger: logging.Logger) -> None:
    """Adds :class:`FileOnlyFilter` to the console (non-file) stream handlers of ``logger``."""
    for handler in logger.handlers:
        is_console = isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
        if is_console and not any(isinstance(f, FileOnlyFilter) for f in handler.filters):
            handler.addFilter(FileOnlyFilter())


@RUNNERS.register_module()
class ToolRunner(Runner):
    """mmengine's :class:`~mmengine.runner.Runner`; the config, environment and hook dumps go
    to the log file, not the console."""

    def build_logger(self, *args, **kwargs) -> MMLogger:
        logger = super().build_logger(*args, **kwargs)
        keep_dumps_off_console(logger)
        return logger
