"""The corrections file (DATA_DIR/corrections.sqlite): what staff pinned, marked not covered or confirmed.

A pin names sentences of an article of the current index by their number, never their text, so every
answer stays a quote. Nothing is deleted: a removed or replaced correction keeps its row with who removed it.
Every write bumps a version counter, so a running bot sees a change with one cheap read per question."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from bot.answering.message import MAX_QUESTION_CHARS, clean_question, redact
from bot.corrections.review import IndexView, current_view
from bot.tuning import CORRECTIONS
from index.normalize import has_content, search_text
from index.types import BulletinError

logger = logging.getLogger(__name__)

FILE_NAME = "corrections.sqlite"
Kind = Literal["pinned", "not_covered", "confirmed"]
SERVED: tuple[Kind, ...] = ("pinned", "not_covered")  # a confirmation only labels: the model already answers so

SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, question TEXT NOT NULL, normalized TEXT NOT NULL,
    article_id TEXT, issue_id TEXT, title TEXT, issue_date TEXT, source TEXT,
    sentence_indices TEXT NOT NULL, sentences TEXT NOT NULL, user TEXT NOT NULL, created_at TEXT NOT NULL,
    index_version TEXT NOT NULL, newer_known TEXT NOT NULL, removed_at TEXT, removed_by TEXT);
CREATE INDEX IF NOT EXISTS corrections_active ON corrections(removed_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('version', 0);
"""
COLUMNS = (
    "id, kind, question, normalized, article_id, issue_id, title, issue_date, source, sentence_indices,"
    " sentences, user, created_at, index_version, newer_known"
)


class CorrectionError(BulletinError):
    """A correction refused; the message is one line for staff."""


@dataclass(frozen=True)
class Correction:
    """One active correction, with the citation of its article as it was when made."""

    id: int
    kind: Kind
    question: str
    normalized: str  # the question as it is searched and embedded
    article_id: str | None
    issue_id: str | None
    title: str | None
    issue_date: date | None
    source: str | None
    sentence_indices: tuple[int, ...]
    sentences: tuple[str, ...]  # their text when pinned (shown even after the article is gone)
    user: str
    created_at: str
    index_version: str
    newer_known: tuple[str, ...]  # later articles on the topic already indexed when it was made
    review: str = ""  # set by for_review: why it is not served

    @classmethod
    def from_row(cls, row: tuple) -> Correction:
        return cls(
            id=row[0],
            kind=row[1],
            question=row[2],
            normalized=row[3],
            article_id=row[4],
            issue_id=row[5],
            title=row[6],
            issue_date=date.fromisoformat(row[7]) if row[7] else None,
            source=row[8],
            sentence_indices=tuple(json.loads(row[9])),
            sentences=tuple(json.loads(row[10])),
            user=row[11],
            created_at=row[12],
            index_version=row[13],
            newer_known=tuple(json.loads(row[14])),
        )


def searched_question(question: object) -> str:
    """The question as the engine searches it; refused when empty or longer than a question is read."""
    if not isinstance(question, str) or not question.strip():
        raise CorrectionError("correction: the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise CorrectionError(
            f"correction: the question has {len(question):,} characters; at most {MAX_QUESTION_CHARS} "
            "(bot/answering/message.py MAX_QUESTION_CHARS)"
        )
    normalized = search_text(clean_question(question))
    if not has_content(normalized):
        raise CorrectionError(f"correction: the question {question[:40]!r} has no words to match")
    return normalized


def _user(user: object) -> str:
    if not isinstance(user, str) or not user.strip():
        raise CorrectionError("correction: the user is empty")
    if len(user) > CORRECTIONS.max_user_chars:
        raise CorrectionError(f"correction: the user name has more than {CORRECTIONS.max_user_chars} characters")
    return user.strip()


class CorrectionStore:
    """Corrections in SQLite; `index` gives the current index view (default: the one under the file's folder)."""

    def __init__(self, path: Path, index: Callable[[], IndexView] | None = None, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._view: IndexView | None = None
        self.index_view = index or self._current_view  # the current index version's view
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=busy_timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")  # the bot reads while the console writes
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise CorrectionError(f"{self.path}: not a corrections file ({exc})") from None

    def _current_view(self) -> IndexView:
        self._view = current_view(self.path.parent, self._view)
        return self._view

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def version(self) -> int:
        """Bumped by every change: the running bot compares it before each question."""
        with self._lock:
            return int(self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])

    def pin(self, question: str, article_id: str, sentence_indices: Iterable[int], user: str) -> Correction:
        """Answer this question (and close paraphrases) with these sentences of the article."""
        view = self.index_view()
        indices = self._indices(view, article_id, sentence_indices)
        sentences = view.sentences(article_id)
        return self._add("pinned", question, user, view, article_id, indices, [sentences[i].text for i in indices])

    def not_covered(self, question: str, user: str) -> Correction:
        """The bulletins do not answer this question (简报未涉及): it gets the no-answer reply."""
        return self._add("not_covered", question, user, self.index_view(), None, [], [])

    def confirm(self, question: str, article_id: str, user: str) -> Correction:
        """The answer given from this article was right (a label for `fit`; the model keeps answering)."""
        view = self.index_view()
        self._article(view, article_id)
        return self._add("confirmed", question, user, view, article_id, [], [])

    def remove(self, correction_id: int, user: str) -> Correction:
        """Stop serving a correction; its row stays, with who removed it and when."""
        who = _user(user)
        with self._lock:
            row = self._db.execute(
                f"SELECT {COLUMNS} FROM corrections WHERE id = ? AND removed_at IS NULL", (correction_id,)
            ).fetchone()
            if row is None:
                raise CorrectionError(f"correction {correction_id}: no such active correction")
            with self._write():
                self._retire("id = ?", (correction_id,), who)
        logger.info("correction %s removed by %s", correction_id, who)
        return Correction.from_row(row)

    def all(self) -> list[Correction]:
        """Every active correction, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM corrections WHERE removed_at IS NULL ORDER BY id"
            ).fetchall()
        return [Correction.from_row(r) for r in rows]

    def for_review(self, view: IndexView | None = None) -> list[Correction]:
        """Active corrections whose article was removed or may be superseded by a newer issue: flagged, not
        served (with `review` saying why)."""
        view = view or self.index_view()
        flagged = []
        for correction in self.all():
            problem = view.problem(correction.article_id, correction.newer_known)
            if problem:
                flagged.append(replace(correction, review=problem))
        return flagged

    def _article(self, view: IndexView, article_id: object) -> None:
        if not isinstance(article_id, str) or article_id not in view.articles:
            raise CorrectionError(f"correction: article {article_id!r} is not in index version {view.version}")

    def _indices(self, view: IndexView, article_id: str, given: Iterable[int]) -> list[int]:
        self._article(view, article_id)
        count = len(view.sentences(article_id))
        try:
            indices = sorted(set(given))
        except TypeError:
            raise CorrectionError("correction: sentences are given by their numbers") from None
        if not indices:
            raise CorrectionError("correction: pick at least one sentence of the article")
        for i in indices:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < count:
                raise CorrectionError(
                    f"correction: sentence {i!r} is out of range: article {article_id} has {count} sentences "
                    f"(0–{count - 1})"
                )
        if len(indices) > CORRECTIONS.max_sentences:
            raise CorrectionError(
                f"correction: {len(indices)} sentences picked; at most {CORRECTIONS.max_sentences} (a quote, not "
                "the article: bot/tuning.py CorrectionKnobs.max_sentences)"
            )
        return indices

    def _add(
        self,
        kind: Kind,
        question: str,
        user: str,
        view: IndexView,
        article_id: str | None,
        indices: list[int],
        sentences: list[str],
    ) -> Correction:
        # kept masked, as the question log keeps it (identity-card, bank-card and mobile numbers)
        question = redact(question.strip()) if isinstance(question, str) else question
        normalized, who = searched_question(question), _user(user)
        article = view.articles.get(article_id) if article_id else None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        newer = view.newer_linked(article_id) if article_id else []
        row = (
            kind,
            question,
            normalized,
            article_id,
            article.issue_id if article else None,
            article.title if article else None,
            view.dates[article_id].isoformat() if article_id else None,
            article.source if article else None,
            json.dumps(indices),
            json.dumps(sentences, ensure_ascii=False),
            who,
            now,
            view.version,
            json.dumps(newer),
        )
        with self._lock, self._write():
            # a new correction of the same question replaces the one before (staff correcting a correction)
            self._retire("normalized = ? AND removed_at IS NULL", (normalized,), who)
            cursor = self._db.execute(
                f"INSERT INTO corrections ({COLUMNS.removeprefix('id, ')}) VALUES ({', '.join('?' * len(row))})",
                row,
            )
            new_id = cursor.lastrowid
            stored = self._db.execute(f"SELECT {COLUMNS} FROM corrections WHERE id = ?", (new_id,)).fetchone()
        logger.info("correction %s (%s) of %r by %s", new_id, kind, normalized, who)
        return Correction.from_row(stored)

    def _retire(self, where: str, values: tuple, who: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._db.execute(f"UPDATE corrections SET removed_at = ?, removed_by = ? WHERE {where}", (now, who, *values))

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self.path)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT with the version bumped; on any error rolled back whole, and a database error
    (locked past the busy timeout, disk full) is a one-line CorrectionError."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise CorrectionError(f"{self.path}: correction not stored ({exc}); try again") from None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            if kind is None:
                self.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
                self.db.execute("COMMIT")
                return
        except sqlite3.Error as error:
            exc = error
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise CorrectionError(f"{self.path}: correction not stored ({exc}); try again") from None
