"""Pseudonyms for user ids in the question log: keyed, rotated, and impossible to recompute from the log.

A pseudonym is HMAC-SHA256(period key, user id), where the period key is HMAC-SHA256(master key,
period label such as "2026-11"). The master key is BULLETIN_LOG_KEY, or, when that is unset, a random
key held only in this process's memory; it is never written next to the log. Without it, someone
holding the log cannot test a guessed id; with a new period, the same user gets an unrelated pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

PERIODS = ("day", "week", "month")


def period_label(at: datetime, period: str) -> str:
    """The label of the key period `at` falls in (UTC): 2026-11-28, 2026-W48 or 2026-11."""
    at = at.astimezone(UTC)
    if period == "day":
        return at.date().isoformat()
    if period == "week":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{at.year}-{at.month:02d}"


class Pseudonyms:
    """Turns user ids into per-period pseudonyms under one master key."""

    def __init__(self, master_key: bytes | None, period: str = "month") -> None:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        # no configured key: a fresh one per process, so pseudonyms also change at every restart
        self.ephemeral = not master_key
        self._master = master_key or secrets.token_bytes(32)
        self.period = period
        self._keys: dict[str, bytes] = {}

    def _key(self, label: str) -> bytes:
        if label not in self._keys:
            self._keys = {label: hmac.new(self._master, label.encode(), hashlib.sha256).digest()}
        return self._keys[label]

    def of(self, user_id: int | str, at: datetime | None = None) -> str:
        """The pseudonym of a user id in the period of `at` (default: now)."""
        key = self._key(period_label(at or datetime.now(UTC), self.period))
        return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:24]
