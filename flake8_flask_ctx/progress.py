"""A progress line for long runs: on a terminal only, on stderr, and only once a run has
taken longer than a moment (``DELAY`` seconds), so quick runs, pipes, CI logs and editors
never see it. It is erased before anything else is printed and when the run ends.
"""

from __future__ import annotations

import os
import time
from typing import Optional, TextIO

DELAY = 1.0  # seconds before the line first appears
INTERVAL = 0.1  # at most ten redraws a second
ERASE = "\r\x1b[K"


def _delay() -> float:
    # FLASK_CTX_PROGRESS_DELAY: for the tests of this very feature (and the impatient)
    try:
        return max(0.0, float(os.environ.get("FLASK_CTX_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: Optional[bool] = None, label: str = "checked") -> None:
        if enabled is None:
            enabled = _is_terminal(stream) and os.environ.get("TERM") != "dumb"
        self.total, self.stream, self.enabled, self.label = total, stream, enabled and total > 1, label
        self.done = 0
        self.start = time.monotonic()
        self.delay = _delay()
        self.shown = False
        self._last = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (self.shown and now - self._last < INTERVAL and self.done < self.total):
            return
        self._last = now
        self.shown = True
        width = len(str(self.total))
        self.stream.write(f"{ERASE}flask-ctx: {self.done:>{width}}/{self.total} files {self.label} "
                          f"({now - self.start:.0f} s)")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the line (before printing something else, and at the end)."""
        if self.shown:
            self.stream.write(ERASE)
            self.stream.flush()
            self.shown = False
            self._last = 0.0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
