"""Followers and the push outbox, in one SQLite file (data_dir/follow.sqlite).

Privacy: a follower row holds only the chat id needed to send and the chosen topics (and whether the
chat wants every issue's headlines); `/unfollow all` deletes the row and every outbox row of the chat
(a push's counts of sent, failed and unknown messages are kept without ids, for /status).

The outbox makes pushes crash-safe: a push is planned in one transaction (one row per chat and new
issue, state "planned", and the issues marked announced), each row is set to "sending" just before
its request and to "sent" or "failed" after it. After a crash, rows still "sending" were in flight:
Telegram may have delivered them, so they become "unknown" and are not sent again."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.sqlite_files import read_only

SCHEMA = """
CREATE TABLE IF NOT EXISTS followers (
    chat_id INTEGER PRIMARY KEY, topics TEXT NOT NULL DEFAULT '[]', digest INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS announced (issue_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS pushes (
    version TEXT PRIMARY KEY, operation TEXT NOT NULL, issues TEXT NOT NULL, planned_at REAL NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, unknown INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, version TEXT NOT NULL, issue_id TEXT NOT NULL, chat_id INTEGER NOT NULL,
    text TEXT NOT NULL, buttons TEXT NOT NULL, state TEXT NOT NULL, error TEXT,
    UNIQUE (version, issue_id, chat_id));
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state);
"""
MAX_TOPICS = 20  # per chat
MAX_TOPIC_CHARS = 16  # a topic is a few words; it also has to fit a button's 64 bytes of data

State = Literal["planned", "sending", "sent", "failed", "unknown"]


@dataclass(frozen=True)
class Subscription:
    """What one chat follows."""

    chat_id: int
    topics: tuple[str, ...]
    digest: bool


@dataclass(frozen=True)
class Planned:
    """One message to send: a new issue's matches (or headlines) for one chat."""

    issue_id: str
    chat_id: int
    text: str  # Telegram HTML
    buttons: tuple[tuple[str, str], ...]  # (label, callback data)


@dataclass(frozen=True)
class OutboxRow:
    """A planned message as stored."""

    row_id: int
    version: str
    planned: Planned


@dataclass(frozen=True)
class PushSummary:
    """The last push, for /status."""

    version: str
    operation: str
    issues: tuple[str, ...]
    counts: dict[str, int]  # state → messages


def clean_topic(text: str) -> str:
    """A topic as stored: one line, inner spaces collapsed, at most MAX_TOPIC_CHARS characters."""
    return " ".join(text.split())[:MAX_TOPIC_CHARS]


class FollowStore:
    """Subscriptions and the outbox. Safe to call from the event loop and worker threads (one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._lock = threading.Lock()
        # WAL with NORMAL sync: every commit survives a killed process (not a power cut), at ~50 µs a commit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        with self._lock:  # rows in flight when the last process died may have been delivered
            for (row_id,) in self._db.execute("SELECT id FROM outbox WHERE state = 'sending'").fetchall():
                self._settle(row_id, "unknown", "in flight when the bot stopped")

    @classmethod
    def read_only(cls, path: Path) -> FollowStore:
        """For `report`: a read-only connection; nothing is created or settled (see bot/sqlite_files.py)."""
        store = cls.__new__(cls)
        store.path, store._lock = Path(path), threading.Lock()
        store._db = read_only(store.path, SCHEMA)
        return store

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, params: tuple = ()) -> int:
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ----- subscriptions -----
    def subscription(self, chat_id: int) -> Subscription | None:
        """What a chat follows, or None when it follows nothing."""
        rows = self._read("SELECT topics, digest FROM followers WHERE chat_id = ?", (chat_id,))
        return Subscription(chat_id, tuple(json.loads(rows[0][0])), bool(rows[0][1])) if rows else None

    def _save(self, chat_id: int, topics: tuple[str, ...], digest: bool) -> None:
        if not topics and not digest:  # following nothing: no row at all
            self._write("DELETE FROM followers WHERE chat_id = ?", (chat_id,))
            return
        self._write(
            "INSERT INTO followers (chat_id, topics, digest) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET topics = excluded.topics, digest = excluded.digest",
            (chat_id, json.dumps(list(topics), ensure_ascii=False), int(digest)),
        )

    def follow(self, chat_id: int, topic: str) -> Literal["added", "known", "full"]:
        """Add a topic (already cleaned) to a chat's list."""
        now = self.subscription(chat_id) or Subscription(chat_id, (), False)
        if topic in now.topics:
            return "known"
        if len(now.topics) >= MAX_TOPICS:
            return "full"
        self._save(chat_id, (*now.topics, topic), now.digest)
        return "added"

    def unfollow(self, chat_id: int, topic: str) -> bool:
        """Remove one topic; False when the chat did not follow it."""
        now = self.subscription(chat_id)
        if now is None or topic not in now.topics:
            return False
        self._save(chat_id, tuple(t for t in now.topics if t != topic), now.digest)
        return True

    def forget(self, chat_id: int) -> bool:
        """`/unfollow all`, or a chat that blocked the bot: delete its row and all its messages."""
        with self._lock:
            deleted = self._db.execute("DELETE FROM followers WHERE chat_id = ?", (chat_id,)).rowcount
            self._db.execute("DELETE FROM outbox WHERE chat_id = ? AND state != 'sending'", (chat_id,))
        return deleted > 0

    def set_digest(self, chat_id: int, on: bool) -> None:
        """Turn every issue's headlines on or off for a chat."""
        now = self.subscription(chat_id) or Subscription(chat_id, (), False)
        self._save(chat_id, now.topics, on)

    def subscriptions(self) -> list[Subscription]:
        """Every follower."""
        rows = self._read("SELECT chat_id, topics, digest FROM followers ORDER BY chat_id")
        return [Subscription(c, tuple(json.loads(t)), bool(d)) for c, t, d in rows]

    def topic_counts(self) -> Counter[str]:
        """Followers per topic ("(digest)" for the headlines), without any chat id."""
        counts: Counter[str] = Counter()
        for sub in self.subscriptions():
            counts.update(sub.topics)
            counts["(digest)"] += sub.digest
        return +counts

    def follower_count(self) -> int:
        return self._read("SELECT COUNT(*) FROM followers")[0][0]

    # ----- pushes -----
    def announced_any(self) -> bool:
        """False before the first version was ever seen (then its issues are old news, not pushed)."""
        return bool(self._read("SELECT 1 FROM announced LIMIT 1"))

    def unannounced(self, issue_ids: list[str]) -> list[str]:
        """The issues no push has covered yet, in the given order."""
        known = {row[0] for row in self._read("SELECT issue_id FROM announced")}
        return [i for i in issue_ids if i not in known]

    def plan(self, version: str, operation: str, issues: list[str], messages: list[Planned]) -> None:
        """Record a push in one transaction: its messages as "planned" and its issues as announced."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR IGNORE INTO announced (issue_id) VALUES (?)", [(i,) for i in issues])
                if messages or operation != "baseline":
                    self._db.execute(
                        "INSERT OR REPLACE INTO pushes (version, operation, issues, planned_at) VALUES (?, ?, ?, ?)",
                        (version, operation, json.dumps(issues, ensure_ascii=False), time.time()),
                    )
                self._db.executemany(
                    "INSERT OR IGNORE INTO outbox (version, issue_id, chat_id, text, buttons, state) "
                    "VALUES (?, ?, ?, ?, ?, 'planned')",
                    [
                        (version, m.issue_id, m.chat_id, m.text, json.dumps(m.buttons, ensure_ascii=False))
                        for m in messages
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def pending(self, limit: int = 500) -> list[OutboxRow]:
        """Planned messages not yet sent, oldest first."""
        rows = self._read(
            "SELECT id, version, issue_id, chat_id, text, buttons FROM outbox WHERE state = 'planned' "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            OutboxRow(r, v, Planned(i, c, t, tuple((label, data) for label, data in json.loads(b))))
            for r, v, i, c, t, b in rows
        ]

    def mark(self, row_id: int, state: State, error: str | None = None) -> None:
        """Move one message on: planned → sending → sent | failed | unknown (counted in its push)."""
        with self._lock:
            self._settle(row_id, state, error)

    def _settle(self, row_id: int, state: State, error: str | None) -> None:
        """One transaction: the row's state, and the push's count when the row is done (lock held)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("UPDATE outbox SET state = ?, error = ? WHERE id = ?", (state, error, row_id))
            if state in ("sent", "failed", "unknown"):
                self._db.execute(
                    f"UPDATE pushes SET {state} = {state} + 1 "  # state: one of the three literals above
                    "WHERE version = (SELECT version FROM outbox WHERE id = ?)",
                    (row_id,),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def last_push(self) -> PushSummary | None:
        """The most recently planned push and its messages per state."""
        rows = self._read(
            "SELECT version, operation, issues, sent, failed, unknown FROM pushes ORDER BY planned_at DESC LIMIT 1"
        )
        if not rows:
            return None
        version, operation, issues, sent, failed, unknown = rows[0]
        waiting = self._read(
            "SELECT state, COUNT(*) FROM outbox WHERE version = ? AND state IN ('planned', 'sending') GROUP BY state",
            (version,),
        )
        counts = {"sent": sent, "failed": failed, "unknown": unknown} | dict(waiting)
        return PushSummary(version, operation, tuple(json.loads(issues)), {k: n for k, n in counts.items() if n})
