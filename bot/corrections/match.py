"""At answer time: the stored correction whose question is closest to the resident's, if close enough.

The questions are embedded with the engine's embedder, on the text as it is searched. A correction answers
when the cosine reaches CORRECTIONS.threshold (fitted: bot/tuning.py) and the question names no place or
number the correction does not (at 0.92, "茌平区的征兵体检在哪里做？" matched "征兵体检在哪儿做？")."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.answering.answer import Answer, AnswerPart
from bot.answering.evidence import question_places
from bot.answering.message import clean_question, social_act
from bot.answering.quote import Quote
from bot.corrections.review import IndexView
from bot.corrections.store import SERVED, Correction, CorrectionStore
from bot.tuning import CORRECTIONS
from index.embed import Embedder
from index.normalize import has_content, normalize_text, search_text
from index.types import BulletinError

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Match:
    """A correction that answers a question, and how close the two questions are."""

    correction: Correction
    similarity: float


def guard_passes(asked: str, correction: str, article: str | None, pinned: str) -> bool:
    """Whether a correction of question `correction` may answer the question `asked` (both as searched).

    A pin's article (normalised title and body) must name every place the question names, and the
    correction's question or pinned sentences every number; a "not covered" verdict (`article` None) was
    about its own places and numbers, so they must be the same."""
    places, numbers = set(question_places(asked)), set(NUMBER.findall(asked))
    if article is not None:
        return all(p in article for p in places) and all(n in correction or n in pinned for n in numbers)
    return places == set(question_places(correction)) and numbers == set(NUMBER.findall(correction))


@dataclass
class _Served:
    """The corrections served with one store version and one index version, with their vectors."""

    store_version: int
    index_version: str
    corrections: list[Correction]
    vectors: np.ndarray
    contexts: list[tuple[str | None, str]]  # per pin: its article's title and body, its sentences (normalised)


class CorrectionMatcher:
    """Finds the correction for a question; reloads when the store or the index version changed.

    The file is opened once it exists (nothing is created while there are no corrections); `embedder` gives
    the engine's embedder at the time of asking."""

    def __init__(self, path: Path, embedder: Callable[[], Embedder], threshold: float = CORRECTIONS.threshold) -> None:
        self.path = path
        self.embedder = embedder
        self.threshold = threshold
        self._store: CorrectionStore | None = None
        self._served: _Served | None = None
        self.failing = False  # the file could not be read at the last question (logged once)
        self._vectors: dict[str, np.ndarray] = {}  # by question text: a reload embeds only new questions
        self._lock = threading.Lock()

    def served(self, view: IndexView) -> list[Correction]:
        """The corrections answering questions now (pins and "not covered" that need no review)."""
        return self._current(view).corrections

    @property
    def store(self) -> CorrectionStore | None:
        if self._store is None and self.path.exists():  # one stat per question until staff make the first
            with self._lock:
                self._store = self._store or CorrectionStore(self.path)
        return self._store

    def _current(self, view: IndexView) -> _Served:
        """The served corrections; none while the file is unreadable (residents keep the model's answers)."""
        try:
            return self._load(view)
        except (BulletinError, sqlite3.Error) as exc:
            if not self.failing:
                logger.error("corrections not served: %s: %s", self.path, exc)
            self.failing = True
            self._served = None
            return _Served(-1, view.version, [], np.zeros((0, 1), dtype=np.float32), [])

    def _load(self, view: IndexView) -> _Served:
        store = self.store
        if store is None:
            return _Served(-1, view.version, [], np.zeros((0, 1), dtype=np.float32), [])
        version = store.version()  # one SQLite read per question
        if self.failing:
            logger.warning("corrections: %s readable again", self.path)
            self.failing = False
        served = self._served
        if served is not None and served.store_version == version and served.index_version == view.version:
            return served
        with self._lock:
            problems: dict[tuple, str] = {}  # many corrections share an article: each is checked once
            corrections = [
                c
                for c in store.all()
                if c.kind in SERVED
                and not problems.setdefault((c.article_id, c.newer_known), view.problem(c.article_id, c.newer_known))
            ]
            missing = [c.normalized for c in corrections if c.normalized not in self._vectors]
            if missing:
                self._vectors.update(zip(missing, self.embedder().encode(missing)))
            self._vectors = {c.normalized: self._vectors[c.normalized] for c in corrections}
            vectors = (
                np.vstack([self._vectors[c.normalized] for c in corrections])
                if corrections
                else np.zeros((0, 1), dtype=np.float32)
            )
            articles: dict[str, str] = {}
            contexts = [_context(view, c, articles) for c in corrections]
            served = self._served = _Served(version, view.version, corrections, vectors, contexts)
            logger.info("corrections: %d served with index version %s", len(corrections), view.version)
        return served

    def match(self, question: str, view: IndexView) -> Match | None:
        """The closest correction at or above the threshold whose guard passes, or None."""
        served = self._current(view)
        cleaned = clean_question(question)
        if not served.corrections or social_act(cleaned) or not has_content(cleaned):
            return None
        asked = search_text(cleaned)
        similarities = served.vectors @ self.embedder().encode([asked])[0]
        for row in np.argsort(-similarities, kind="stable"):
            similarity = float(similarities[row])
            if similarity < self.threshold:
                break
            correction = served.corrections[row]
            if guard_passes(asked, correction.normalized, *served.contexts[row]):
                return Match(correction, round(similarity, 4))
        return None


def _context(view: IndexView, correction: Correction, articles: dict[str, str]) -> tuple[str | None, str]:
    """A pin's normalised article text (normalised once per article in `articles`) and pinned sentences."""
    if correction.kind != "pinned" or correction.article_id is None:
        return None, ""
    a = correction.article_id
    if a not in articles:
        articles[a] = normalize_text(f"{view.articles[a].title} {view.articles[a].body}")
    return articles[a], normalize_text(" ".join(correction.sentences))


def correction_answer(match: Match, view: IndexView, question: str, today: date) -> Answer:
    """The reply a correction gives: its pinned sentences, cited like any answer, or the no-answer reply."""
    correction = match.correction
    if correction.kind != "pinned" or correction.article_id is None:
        return Answer(
            question=question, outcome="none", reason="not_stated", confidence=match.similarity, path="correction"
        )
    article = view.articles[correction.article_id]
    sentences = view.sentences(correction.article_id)
    issue_date = view.dates[correction.article_id]
    part = AnswerPart(
        issue_id=article.issue_id,
        title=article.title,
        issue_date=issue_date,
        source=article.source,
        article_id=correction.article_id,
        score=match.similarity,
        probability=1.0,  # staff said so
        quote=Quote(tuple(sentences[i] for i in correction.sentence_indices)),
    )
    return Answer(
        question=question,
        outcome="answer",
        reason="answered",
        confidence=match.similarity,
        parts=[part],
        age_days=(today - issue_date).days,
        ranked_ids=[correction.article_id],
        path="correction",
    )
