"""A per-link limit on submissions, counted in this process's memory on purpose.

A limit counted in the database would leave rows saying "answers arrived through this team's link
in this minute": a submission time finer than the round, which invariant 1 forbids. Kept in
memory, each instance limits what it receives (N instances allow N times the limit, which is
still a limit) and nothing about the time of an answer is ever written down.
"""

import hashlib
import math
import threading
import time
from collections.abc import Callable


class SubmissionThrottle:
    """At most `limit` submissions per link per fixed window, in this process."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def retry_after(self, link: str, *, now: float | None = None) -> int | None:
        """Count one submission; None when it may go on, else the seconds to wait."""
        now = self.clock() if now is None else now
        window = int(now // self.window_seconds)
        # Only a digest of the link is held, and only for the current window.
        key = hashlib.sha256(link.encode()).hexdigest()
        with self._lock:
            if window != self._window:
                self._window = window
                self._counts = {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count <= self.limit:
            return None
        return max(1, math.ceil((window + 1) * self.window_seconds - now))
