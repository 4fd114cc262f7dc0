"""A wall-clock limit for loading one sample, so a pathological file cannot hang a worker.

The limit is enforced with ``SIGALRM`` (``signal.setitimer``), which is available on POSIX in
the main thread of a process. That covers DataLoader worker processes (their fetch loop runs in
the main thread) and single-process loading. Elsewhere (another thread, Windows) the limit is
not enforced and the body simply runs.

Python runs signal handlers between bytecodes: a decoder loop written in Python (our PyAV
reader iterates packet by packet) is interrupted promptly, while one long call inside a C
library (e.g. a single ``decord`` batch read) is interrupted as soon as that call returns.

An alarm that was already armed by the caller (pytest-timeout, for instance) is preserved: if
it would fire before our limit, ours is not installed; otherwise it is re-armed, minus the
elapsed time, on exit.
"""

import contextlib
import signal
import threading
import time
from typing import Iterator, Optional

from .errors import DecodeTimeoutError


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: Optional[float], filename: str) -> Iterator[None]:
    """Raises :class:`DecodeTimeoutError` naming ``filename`` if the body runs past ``seconds``.

    Args:
        seconds: the limit; ``None`` or a value <= 0 disables it.
        filename: named in the error.
    """
    if not seconds or seconds <= 0 or not _can_use_alarm():
        yield
        return

    prev_delay, prev_interval = signal.setitimer(signal.ITIMER_REAL, 0)
    if prev_delay and prev_delay <= seconds:
        # An outer alarm fires first: leave it in charge.
        signal.setitimer(signal.ITIMER_REAL, prev_delay, prev_interval)
        yield
        return

    def _on_alarm(signum, frame):  # noqa: ARG001
        raise DecodeTimeoutError(filename, f"loading took longer than decode_timeout={seconds} s")

    prev_handler = signal.signal(signal.SIGALRM, _on_alarm)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, prev_handler)
        if prev_delay:
            remaining = max(prev_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, remaining, prev_interval)
