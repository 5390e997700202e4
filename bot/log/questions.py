"""The question log: what residents asked and whether it was answered, without who they are."""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from bot.answering.message import CONVERSATIONAL, redact
from bot.log.pseudonym import Pseudonyms
from bot.sqlite_files import problem_of, start_fresh

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, day TEXT NOT NULL, chat_type TEXT NOT NULL,
    user_hash TEXT NOT NULL, question TEXT NOT NULL, answered INTEGER NOT NULL, reason TEXT NOT NULL,
    top_article TEXT, top_issue TEXT, score REAL, latency_ms REAL, feedback INTEGER,
    path TEXT NOT NULL DEFAULT 'offline', prompt_version TEXT);
CREATE INDEX IF NOT EXISTS questions_day ON questions(day);
"""
# Columns added since the first release, added to an older file when it is opened (its rows answered offline).
MIGRATIONS = {
    "path": "ALTER TABLE questions ADD COLUMN path TEXT NOT NULL DEFAULT 'offline'",
    "prompt_version": "ALTER TABLE questions ADD COLUMN prompt_version TEXT",
}
MAX_LOGGED_CHARS = 500
MAX_PENDING_WRITES = 10_000
LEGACY_SALT_FILE = "log_salt"


@dataclass(frozen=True)
class DayStats:
    """One line of the report."""

    day: str
    questions: int
    answered: int
    helpful: int
    unhelpful: int


class QuestionLog:
    """SQLite log of questions; user ids are stored only as keyed, rotated pseudonyms (bot/log/pseudonym.py).

    Writes go through one writer thread, so a locked or full log never holds up a reply: `record`
    and `feedback` only queue the row, and a write that fails is logged and counted in `failures`."""

    def __init__(
        self, path: Path, pseudonyms: Pseudonyms, retention_days: int, busy_timeout: float = 30.0, zone: tzinfo = UTC
    ) -> None:
        self.path = Path(path)
        self.zone = zone  # `day` is the day in this zone (BULLETIN_TIMEZONE): what staff call "today"
        self.pseudonyms = pseudonyms
        self.retention_days = retention_days
        self.failures = 0
        self.busy_timeout = busy_timeout
        self.on_set_aside: Callable[[str], object] | None = None  # told the admins' notice (bot/telegram/app.py)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connect()
        self._migrate()
        self._retire_salt()
        # ids are handed out here, not by SQLite, so the reply's 👍/👎 buttons need not wait for the write
        self._last_id = self._writer_db.execute("SELECT COALESCE(MAX(id), 0) FROM questions").fetchone()[0]
        self._lock = threading.Lock()  # guards _last_id, failures and the reader connection
        self._pending: queue.Queue[Callable[[sqlite3.Connection], object] | None] = queue.Queue(MAX_PENDING_WRITES)
        self._writer = threading.Thread(target=self._write_loop, name="question-log", daemon=True)
        self._writer.start()

    def _connect(self) -> None:
        self._writer_db = sqlite3.connect(self.path, check_same_thread=False, timeout=self.busy_timeout)
        self._writer_db.executescript(SCHEMA)
        self._reader_db = sqlite3.connect(self.path, check_same_thread=False, timeout=5)
        self._reader = LogReader(self._reader_db, self.zone)

    def _run(self, job: Callable[[sqlite3.Connection], object]) -> None:
        job(self._writer_db)
        self._writer_db.commit()

    def _start_fresh(self, exc: sqlite3.DatabaseError) -> None:
        """The file went bad while serving (its header overwritten…): set it aside, go on in a fresh one."""
        with self._lock:
            self._writer_db.close()
            self._reader_db.close()
            try:
                notice = start_fresh(self.path, problem_of(exc, self.busy_timeout)[0])
            finally:  # not renamed (no permission…): the damaged file again, the write fails and is counted
                self._connect()
        if self.on_set_aside is not None:
            try:
                self.on_set_aside(notice)
            except Exception:  # the event loop already closed, at shutdown: the warning is logged anyway
                logger.warning("question log: admins not told that %s was set aside", self.path, exc_info=True)

    def _write_loop(self) -> None:
        while (job := self._pending.get()) is not None:
            try:
                try:
                    self._run(job)
                except sqlite3.DatabaseError as exc:
                    if not problem_of(exc, self.busy_timeout)[1]:
                        raise
                    self._start_fresh(exc)
                    self._run(job)  # the write that found the damage goes to the fresh file
            except Exception as exc:  # disk full, locked too long…: the writer must outlive any one write
                self._failed(exc)
                with contextlib.suppress(sqlite3.Error):
                    self._writer_db.rollback()
            finally:
                self._pending.task_done()
        self._pending.task_done()

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self.failures += 1
        logger.warning("question log: a write failed (%s); %d failed so far", exc, self.failures)

    def _write(self, job: Callable[[sqlite3.Connection], object]) -> None:
        try:
            self._pending.put_nowait(job)
        except queue.Full as exc:  # the writer has been stuck for thousands of questions: drop, count
            self._failed(exc)

    def flush(self) -> None:
        """Wait until every queued write is done (or has failed)."""
        self._pending.join()

    def close(self) -> None:
        self._pending.put(None)
        self._writer.join()
        with self._lock:
            self._writer_db.close()
            self._reader_db.close()

    def _migrate(self) -> None:
        """Add the columns a log file written by an older release lacks."""
        have = {row[1] for row in self._writer_db.execute("PRAGMA table_info(questions)")}
        with self._writer_db:
            for column, statement in MIGRATIONS.items():
                if column not in have:
                    self._writer_db.execute(statement)
                    logger.info("question log: column %s added", column)

    def _retire_salt(self) -> None:
        """Logs before keyed pseudonyms kept sha256(salt:id) with the salt file beside them, which
        anyone holding both could reverse: re-key those hashes like ids, then delete the salt."""
        salt_file = self.path.parent / LEGACY_SALT_FILE
        if not salt_file.exists():
            return
        self._writer_db.create_function(
            "rekey", 2, lambda at, old: self.pseudonyms.of(f"legacy:{old}", datetime.fromisoformat(at))
        )
        with self._writer_db:
            self._writer_db.execute("UPDATE questions SET user_hash = rekey(asked_at, user_hash)")
        salt_file.unlink()
        logger.warning("question log: old salted user hashes re-keyed and %s deleted", salt_file)

    def _day(self, moment: datetime) -> str:
        return day_of(moment, self.zone)

    def user_hash(self, user_id: int) -> str:
        """This period's pseudonym for a user (see bot/log/pseudonym.py)."""
        return self.pseudonyms.of(user_id)

    def record(
        self,
        *,
        user_id: int,
        chat_type: str,
        question: str,
        answered: bool,
        reason: str,
        top_article: str | None,
        top_issue: str | None,
        score: float | None,
        latency_ms: float,
        path: str = "offline",
        prompt_version: str | None = None,
    ) -> int:
        """Queue one question; return its id (used by the feedback buttons) at once."""
        now = datetime.now(UTC)
        with self._lock:
            self._last_id += 1
            row = (
                self._last_id,
                now.isoformat(timespec="seconds"),
                self._day(now),
                chat_type,
                self.pseudonyms.of(user_id, now),
                redact(question)[:MAX_LOGGED_CHARS],
                int(answered),
                reason,
                top_article,
                top_issue,
                score,
                round(latency_ms, 1),
                path,
                prompt_version,
            )
        self._write(
            lambda db: db.execute(
                "INSERT INTO questions (id, asked_at, day, chat_type, user_hash, question, answered, reason,"
                " top_article, top_issue, score, latency_ms, path, prompt_version)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
        )
        return row[0]

    def feedback(self, question_id: int, helpful: bool) -> None:
        """Queue 👍/👎 for a logged question (after its row, so the row is there)."""
        self._write(
            lambda db: db.execute("UPDATE questions SET feedback = ? WHERE id = ?", (1 if helpful else -1, question_id))
        )

    def unanswered(self, limit: int = 10, days: int = 30) -> list[tuple[str, int]]:
        """The most frequent questions that got the no-answer reply."""
        with self._lock:
            return self._reader.unanswered(limit, days)

    def days(self, days: int = 14) -> list[DayStats]:
        """Per-day volume, answers and feedback, newest first."""
        with self._lock:
            return self._reader.days(days)

    def questions_today(self) -> int:
        with self._lock:
            return self._reader.questions_today()

    def prune(self) -> None:
        """Queue deleting the entries older than the retention period."""
        cutoff = day_of(datetime.now(UTC) - timedelta(days=self.retention_days), self.zone)

        def delete(db: sqlite3.Connection) -> None:
            deleted = db.execute("DELETE FROM questions WHERE day < ?", (cutoff,)).rowcount
            if deleted:
                logger.info("pruned %d question-log entries older than %s", deleted, cutoff)

        self._write(delete)


def day_of(moment: datetime, zone: tzinfo) -> str:
    """The day of a moment in BULLETIN_TIMEZONE: what staff call "today"."""
    return moment.astimezone(zone).date().isoformat()


class LogReader:
    """The report's queries on one connection: the log's own, or a read-only one for `report`."""

    def __init__(self, db: sqlite3.Connection, zone: tzinfo) -> None:
        self.db, self.zone = db, zone

    def _since(self, days: int) -> str:
        return day_of(datetime.now(UTC) - timedelta(days=days), self.zone)

    def unanswered(self, limit: int = 10, days: int = 30) -> list[tuple[str, int]]:
        return self.db.execute(
            "SELECT question, COUNT(*) AS n FROM questions WHERE answered = 0"
            f" AND reason NOT IN ({', '.join('?' * len(CONVERSATIONAL))})"
            " AND day >= ? GROUP BY question ORDER BY n DESC, MAX(id) DESC LIMIT ?",
            (*sorted(CONVERSATIONAL), self._since(days), limit),
        ).fetchall()

    def days(self, days: int = 14) -> list[DayStats]:
        rows = self.db.execute(
            "SELECT day, COUNT(*), SUM(answered), SUM(feedback = 1), SUM(feedback = -1) FROM questions"
            " WHERE day >= ? GROUP BY day ORDER BY day DESC",
            (self._since(days),),
        ).fetchall()
        return [DayStats(d, n, a or 0, up or 0, down or 0) for d, n, a, up, down in rows]

    def questions_today(self) -> int:
        today = self._since(0)
        return int(self.db.execute("SELECT COUNT(*) FROM questions WHERE day = ?", (today,)).fetchone()[0])


def format_report(log: LogReader | QuestionLog, days: int = 14, top: int = 10) -> str:
    """The staff report: volume per day, answer rate, feedback, top unanswered questions."""
    lines = [f"day ({log.zone})  questions  answered  rate   👍   👎"]
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
