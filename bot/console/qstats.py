"""Read-only views of the question log (bot/log/questions.py's questions.sqlite) for the questions pages."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from bot.answering.message import CONVERSATIONAL

LOG_FILE = "questions.sqlite"
# the log's reason column → the reply's outcome (every other reason got the no-answer reply)
OUTCOME_SQL = "CASE reason WHEN 'answered' THEN 'answer' WHEN 'related' THEN 'related' ELSE 'none' END"
NOT_SOCIAL = f"reason NOT IN ({', '.join(repr(r) for r in sorted(CONVERSATIONAL))})"
OUTCOME_NAMES = {"answer": "回答", "related": "相关", "none": "未能回答"}


@dataclass(frozen=True)
class Day:
    day: str
    answer: int
    related: int
    none: int

    @property
    def total(self) -> int:
        return self.answer + self.related + self.none


@dataclass(frozen=True)
class Row:
    question: str  # as logged: masked by bot/message.redact
    outcome: str
    article: str
    issue: str
    confidence: float | None
    count: int = 1
    feedback: int | None = None


class QuestionStats:
    def __init__(self, data_dir: Path, zone: tzinfo) -> None:
        self.path = data_dir / LOG_FILE
        self.zone = zone

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if not self.path.exists():
            return []
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def since(self, days: int) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).astimezone(self.zone).date().isoformat()

    def per_day(self, days: int) -> list[Day]:
        """Questions per day by outcome, oldest first (greetings and thanks left out)."""
        rows = self._rows(
            f"SELECT day, SUM({OUTCOME_SQL} = 'answer'), SUM({OUTCOME_SQL} = 'related'), SUM({OUTCOME_SQL} = 'none')"
            f" FROM questions WHERE day >= ? AND {NOT_SOCIAL} GROUP BY day ORDER BY day",
            (self.since(days),),
        )
        return [Day(d, a or 0, r or 0, n or 0) for d, a, r, n in rows]

    def most_asked(self, days: int, limit: int) -> list[Row]:
        """The most frequent questions that got a related quote or no answer."""
        rows = self._rows(
            f"SELECT question, {OUTCOME_SQL} AS o, COALESCE(top_article, ''), COALESCE(top_issue, ''), MAX(score),"
            f" COUNT(*) AS n FROM questions WHERE day >= ? AND {NOT_SOCIAL} AND o != 'answer'"
            " GROUP BY question, o ORDER BY n DESC, MAX(id) DESC LIMIT ?",
            (self.since(days), limit),
        )
        return [Row(q, o, a, i, s, n) for q, o, a, i, s, n in rows]

    def _latest(self, where: str, order: str, days: int, limit: int) -> list[Row]:
        rows = self._rows(
            f"SELECT question, {OUTCOME_SQL}, COALESCE(top_article, ''), COALESCE(top_issue, ''), score, feedback"
            f" FROM questions WHERE day >= ? AND {NOT_SOCIAL} AND {where} ORDER BY {order} LIMIT ?",
            (self.since(days), limit),
        )
        return [Row(q, o, a, i, s, 1, f) for q, o, a, i, s, f in rows]

    def thumbs_down(self, days: int, limit: int) -> list[Row]:
        return self._latest("feedback = -1", "id DESC", days, limit)

    def lowest_confidence(self, days: int, limit: int) -> list[Row]:
        """Answers (not related or none) given with the lowest confidence."""
        return self._latest("reason = 'answered' AND score IS NOT NULL", "score ASC, id DESC", days, limit)

    def health(self) -> dict:
        """What the status page says about the log: size, rows, newest entry, integrity."""
        if not self.path.exists():
            return {"exists": False}
        try:
            count, newest = self._rows("SELECT COUNT(*), MAX(asked_at) FROM questions")[0]
            check = self._rows("PRAGMA quick_check")[0][0]
        except sqlite3.Error as exc:
            return {"exists": True, "error": str(exc)}
        return {
            "exists": True,
            "rows": count,
            "newest": newest or "",
            "check": check,
            "bytes": self.path.stat().st_size,
        }
