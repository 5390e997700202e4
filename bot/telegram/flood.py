"""Per-user flood limit: at most N updates a minute (questions, commands, button presses; bot/telegram/flood_gate.py),
each user counted alone."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import NamedTuple

WINDOW_SECONDS = 60.0
MAX_TRACKED_USERS = 100_000


class Verdict(NamedTuple):
    """Seconds until the user may ask again (0: ask now), and whether to tell them."""

    wait: int
    notify: bool


class FloodLimiter:
    """Sliding-window counter per user id; one notice per flood, the rest dropped quietly."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock=time.monotonic) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._told: set[int] = set()  # users refused and told so since they last got through
        self._lock = threading.Lock()

    def hit(self, user_id: int) -> Verdict:
        """Count an update; a refusal notifies only the first time in a flood."""
        now = self._clock()
        with self._lock:
            stamps = self._seen.setdefault(user_id, deque())
            while stamps and now - stamps[0] >= self.window:
                stamps.popleft()
            if len(stamps) >= self.limit:
                notify = user_id not in self._told
                self._told.add(user_id)
                return Verdict(max(1, math.ceil(self.window - (now - stamps[0]))), notify)
            stamps.append(now)
            self._told.discard(user_id)
            if len(self._seen) > MAX_TRACKED_USERS:  # bounded memory: forget idle users
                self._seen = {u: d for u, d in self._seen.items() if d and now - d[-1] < self.window}
                self._told &= self._seen.keys()
            return Verdict(0, False)
