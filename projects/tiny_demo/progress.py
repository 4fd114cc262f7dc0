"""One progress line every few seconds, with the time left, for the demo's long steps.

mmengine's ``ProgressBar`` redraws one line with carriage returns, which turns into a single
endless line in a log file or a pipe; the demo's steps (writing the dataset, pre-training the
image model) run for minutes, often with the output captured, so each report here is a line
of its own::

    demo dataset: 120/2400 videos (5%), 9 s elapsed, ETA 2 min 51 s
"""

import sys
import time
from typing import Callable, Optional, TextIO


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressLine:
    """Prints ``<what>: <done>/<total> <unit> (<pct>%), <elapsed>, ETA <left>`` at most every
    ``interval_s`` seconds (the first one after ``first_s`` seconds at the latest), and once at
    the end.

    Args:
        what: the step being done (printed first).
        total: how many items the step has.
        unit: the items' name (``videos``, ``iterations``).
        interval_s: seconds between two lines (default ``INTERVAL_S``).
        first_s: the first line comes once this many seconds have passed (a fast step prints
            only its last line; default ``FIRST_S``).
        stream: where to print (default: ``sys.stdout``, flushed).
        clock: a monotonic clock in seconds (tests pass their own).
    """

    INTERVAL_S = 10.0
    FIRST_S = 1.0

    def __init__(self, what: str, total: int, unit: str, interval_s: Optional[float] = None,
                 first_s: Optional[float] = None, stream: Optional[TextIO] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.unit = what, int(total), unit
        self.interval_s = self.INTERVAL_S if interval_s is None else interval_s
        self.first_s = self.FIRST_S if first_s is None else first_s
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.next_at = self.start + self.first_s
        self.done = 0
        self.lines = 0

    def update(self, done: Optional[int] = None) -> None:
        """Records that ``done`` items (default: one more) are finished; prints when due."""
        self.done = self.done + 1 if done is None else int(done)
        now = self.clock()
        if self.done >= self.total or now >= self.next_at:
            self._print(now)
            self.next_at = now + self.interval_s

    def line(self, now: Optional[float] = None) -> str:
        """The progress line for the current count."""
        now = self.clock() if now is None else now
        elapsed = now - self.start
        pct = 100.0 * self.done / self.total if self.total else 100.0
        text = f"{self.what}: {self.done}/{self.total} {self.unit} ({pct:.0f}%), {format_seconds(elapsed)} elapsed"
        if self.done >= self.total:
            return text + ", done"
        if self.done > 0:
            text += f", ETA {format_seconds(elapsed * (self.total - self.done) / self.done)}"
        return text

    def _print(self, now: float) -> None:
        print(self.line(now), file=self.stream or sys.stdout, flush=True)
        self.lines += 1
