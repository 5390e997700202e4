"""The question log: what residents asked and whether it was answered, without who they are."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, day TEXT NOT NULL, chat_type TEXT NOT NULL,
    user_hash TEXT NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL, reason TEXT NOT NULL,
    top_article TEXT, top_issue TEXT, score REAL, latency_ms REAL, feedback INTEGER);
CREATE INDEX IF NOT EXISTS questions_day ON questions(day);
"""
MAX_LOGGED_CHARS = 500


@dataclass(frozen=True)
class DayStats:
    """One line of the report."""

    day: str
    questions: int
    answered: int
    helpful: int
    unhelpful: int


def load_salt(data_dir: Path, configured: str | None) -> str:
    """The configured salt, or one generated once and kept (mode 0600) in the data directory."""
    if configured:
        return configured
    path = Path(data_dir) / "log_salt"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        salt = secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(salt)
        return salt


class QuestionLog:
    """SQLite log of questions; user ids are stored only as salted hashes."""

    def __init__(self, path: Path, salt: str, retention_days: int = 180) -> None:
        if not salt:
            raise ValueError("a salt is required")
        self.path = Path(path)
        self.salt = salt
        self.retention_days = retention_days
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def user_hash(self, user_id: int) -> str:
        """A stable pseudonym for a user: sha256 of salt and id, never reversible to the id."""
        return hashlib.sha256(f"{self.salt}:{user_id}".encode()).hexdigest()[:24]

    def record(self, *, user_id: int, chat_type: str, question: str, answered: bool, reason: str,
               top_article: str | None, top_issue: str | None, score: float | None,
               latency_ms: float) -> int:
        """Store one question; return its id (used by the feedback buttons)."""
        now = datetime.now(timezone.utc)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO questions (asked_at, day, chat_type, user_hash, question, answered, reason,"
                " top_article, top_issue, score, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (now.isoformat(timespec="seconds"), now.date().isoformat(), chat_type,
                 self.user_hash(user_id), question[:MAX_LOGGED_CHARS], int(answered), reason,
                 top_article, top_issue, score, round(latency_ms, 1)),
            )
            self._db.commit()
            return int(cursor.lastrowid)

    def feedback(self, question_id: int, helpful: bool) -> bool:
        """Record 👍/👎 for a logged question; False when there is no such question."""
        with self._lock:
            cursor = self._db.execute("UPDATE questions SET feedback = ? WHERE id = ?",
                                      (1 if helpful else -1, question_id))
            self._db.commit()
            return cursor.rowcount == 1

    def unanswered(self, limit: int = 10, days: int = 30) -> list[tuple[str, int]]:
        """The most frequent questions that got the no-answer reply."""
        since = (datetime.now(timezone.utc) - timedelta(days=days)).date().isoformat()
        with self._lock:
            return self._db.execute(
                "SELECT question, COUNT(*) AS n FROM questions WHERE answered = 0 AND reason != 'empty_question'"
                " AND day >= ? GROUP BY question ORDER BY n DESC, MAX(id) DESC LIMIT ?", (since, limit),
            ).fetchall()

    def days(self, days: int = 14) -> list[DayStats]:
        """Per-day volume, answers and feedback, newest first."""
        since = (datetime.now(timezone.utc) - timedelta(days=days)).date().isoformat()
        with self._lock:
            rows = self._db.execute(
                "SELECT day, COUNT(*), SUM(answered), SUM(feedback = 1), SUM(feedback = -1) FROM questions"
                " WHERE day >= ? GROUP BY day ORDER BY day DESC", (since,),
            ).fetchall()
        return [DayStats(d, n, a or 0, up or 0, down or 0) for d, n, a, up, down in rows]

    def questions_today(self) -> int:
        today = datetime.now(timezone.utc).date().isoformat()
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM questions WHERE day = ?", (today,)).fetchone()[0])

    def prune(self) -> int:
        """Delete entries older than the retention period; return how many."""
        cutoff = (datetime.now(timezone.utc) - timedelta(days=self.retention_days)).date().isoformat()
        with self._lock:
            cursor = self._db.execute("DELETE FROM questions WHERE day < ?", (cutoff,))
            self._db.commit()
        if cursor.rowcount:
            logger.info("pruned %d question-log entries older than %s", cursor.rowcount, cutoff)
        return cursor.rowcount


def format_report(log: QuestionLog, days: int = 14, top: int = 10) -> str:
    """The staff report: volume per day, answer rate, feedback, top unanswered questions."""
    lines = ["day          questions  answered  rate   👍   👎"]
    for d in log.days(days):
        rate = f"{d.answered / d.questions:.0%}" if d.questions else "-"
        lines.append(f"{d.day}  {d.questions:9d}  {d.answered:8d}  {rate:>5}  {d.helpful:3d}  {d.unhelpful:3d}")
    if len(lines) == 1:
        lines.append(f"(no questions in the last {days} days)")
    lines.append("")
    lines.append("most asked questions without an answer:")
    unanswered = log.unanswered(top, days)
    lines += [f"  {n:4d} × {q}" for q, n in unanswered] or ["  (none)"]
    return "\n".join(lines)
