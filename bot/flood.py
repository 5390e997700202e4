"""Per-user flood limit: at most N questions a minute, each user counted alone."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

WINDOW_SECONDS = 60.0
MAX_TRACKED_USERS = 100_000


class FloodLimiter:
    """Sliding-window counter per user id."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock=time.monotonic) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, user_id: int) -> int:
        """Count a question; return 0 if allowed, else the seconds until the user may ask again."""
        now = self._clock()
        with self._lock:
            stamps = self._seen.setdefault(user_id, deque())
            while stamps and now - stamps[0] >= self.window:
                stamps.popleft()
            if len(stamps) >= self.limit:
                return max(1, math.ceil(self.window - (now - stamps[0])))
            stamps.append(now)
            if len(self._seen) > MAX_TRACKED_USERS:  # bounded memory: forget idle users
                self._seen = {u: d for u, d in self._seen.items() if d and now - d[-1] < self.window}
            return 0
