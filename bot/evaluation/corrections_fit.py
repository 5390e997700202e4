"""`bulletin-bot corrections fit`: the similarity threshold at which a correction answers, on labelled sets.

Every answerable question of a set stands for a pin of its gold sentences (those holding its `must_contain`
facts), every out-of-scope one for a "not covered" correction. Each is tried on every other question of its
file, and on the questions of the split's other files that share a gold article with it. Serving a pin to a
question is right when its sentences hold all of that question's `must_contain` facts; serving "not
covered" to an answerable question is wrong (two out-of-scope questions are not labelled as the same or not).
Identical question texts are left out: they always match."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.answering.message import clean_question
from bot.corrections.match import guard_passes
from bot.corrections.review import IndexView
from bot.evaluation.evaluate import EvalQuestion, load_questions
from bot.tuning import CORRECTIONS
from index.embed import Embedder
from index.normalize import normalize_text, search_text
from index.types import BulletinError

logger = logging.getLogger(__name__)

GRID = [round(0.70 + 0.01 * i, 2) for i in range(26)]  # 0.70 … 0.95


@dataclass(frozen=True)
class Labelled:
    """A question of a set, as a correction would see it."""

    file: str
    text: str  # as searched
    articles: frozenset[str]
    must_contain: tuple[str, ...]  # normalised
    pinned: str  # its gold sentences, normalised ("" when out of scope)
    article_text: str | None  # its gold articles' titles and bodies, normalised (None when out of scope)


@dataclass(frozen=True)
class Figures:
    """What corrections would do at one threshold on one split."""

    threshold: float
    right_served: int
    right_pairs: int
    wrong_served: int
    wrong_pairs: int
    neighbour_served: int  # wrong pairs sharing a gold article: the nearest different questions
    neighbour_pairs: int

    @property
    def paraphrase_rate(self) -> float:
        return self.right_served / self.right_pairs if self.right_pairs else 0.0

    @property
    def precision(self) -> float:
        served = self.right_served + self.wrong_served
        return self.right_served / served if served else 1.0


def labelled(view: IndexView, path: Path) -> list[Labelled]:
    """The questions of a file with their gold sentences; a gold article missing from the index is refused."""
    keys = {(a.issue_id, a.title): a_id for a_id, a in view.articles.items()}
    out = []
    for q in load_questions(path):
        out.append(_labelled(view, keys, path, q))
    return out


def _labelled(view: IndexView, keys: dict, path: Path, q: EvalQuestion) -> Labelled:
    articles = []
    for issue, title in q.gold:
        if (issue, title) not in keys:
            raise BulletinError(f"{path}, {q.id}: gold article 《{title}》 of {issue} is not in index {view.version}")
        articles.append(keys[(issue, title)])
    facts = tuple(normalize_text(m) for m in q.must_contain)
    pinned = [s.normalized for a in articles for s in view.sentences(a) if any(f in s.normalized for f in facts)]
    text = " ".join(normalize_text(f"{view.articles[a].title} {view.articles[a].body}") for a in articles)
    return Labelled(
        path.as_posix(),
        search_text(clean_question(q.question)),
        frozenset(articles),
        facts,
        " ".join(pinned),
        text if articles else None,
    )


def _pairs(questions: list[Labelled]) -> set[tuple[int, int]]:
    """Ordered pairs tried: within a file, and across files when they share a gold article."""
    by_file: dict[str, list[int]] = defaultdict(list)
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        by_file[q.file].append(i)
        for a in q.articles:
            by_article[a].append(i)
    pairs = {(a, b) for group in by_file.values() for a in group for b in group}
    pairs |= {(a, b) for group in by_article.values() for a in group for b in group}
    return {
        (a, b)
        for a, b in pairs
        if questions[a].text != questions[b].text
        and (questions[a].articles or questions[b].articles)
        and not (questions[a].articles and not questions[a].pinned)  # no sentence holds its facts: no pin
    }


def _right(a: Labelled, b: Labelled) -> bool:
    return bool(a.articles & b.articles) and all(f in a.pinned for f in b.must_contain)


def figures(questions: list[Labelled], vectors: np.ndarray) -> list[Figures]:
    """The figures of every threshold of GRID on one split."""
    similarity = vectors @ vectors.T
    rows = []  # (right, neighbour, similarity the pair is served at or below, -1 when its guard fails)
    for a, b in _pairs(questions):
        qa, qb = questions[a], questions[b]
        served_at = float(similarity[a, b])
        if served_at >= GRID[0] and not guard_passes(qb.text, qa.text, qa.article_text, qa.pinned):
            served_at = -1.0
        is_right = _right(qa, qb)
        rows.append((is_right, not is_right and bool(qa.articles & qb.articles), served_at))
    table = np.array(rows, dtype=np.float64).reshape(-1, 3)
    right, neighbour, at = table[:, 0] > 0, table[:, 1] > 0, table[:, 2]
    out = []
    for t in GRID:
        shown = at >= t
        out.append(
            Figures(
                t,
                int((shown & right).sum()),
                int(right.sum()),
                int((shown & ~right).sum()),
                int((~right).sum()),
                int((shown & neighbour).sum()),
                int(neighbour.sum()),
            )
        )
    return out


def fit(view: IndexView, embedder: Embedder, tune: list[Path], held: list[Path]) -> tuple[float, str]:
    """The lowest threshold whose tune precision reaches CORRECTIONS.min_precision, and the report."""
    splits = {"tune": tune, "held out": held}
    results = {}
    for name, files in splits.items():
        questions = [q for path in files for q in labelled(view, path)]
        vectors = embedder.encode([q.text for q in questions]) if questions else np.zeros((0, 1))
        results[name] = figures(questions, vectors)
    tuned = results["tune"]
    chosen = next((f.threshold for f in tuned if f.precision >= CORRECTIONS.min_precision), GRID[-1])
    lines = ["threshold  " + "  ".join(f"{n + ': paraphrase / wrong / neighbour / precision':<45}" for n in results)]
    for i, t in enumerate(GRID):
        cells = [_cell(results[n][i]) for n in results]
        mark = " ←" if t == chosen else ""
        lines.append(f"{t:>9.2f}  " + "  ".join(cells) + mark)
    lines.append(f"chosen: {chosen} (lowest tune threshold with precision ≥ {CORRECTIONS.min_precision})")
    return chosen, "\n".join(lines)


def _cell(f: Figures) -> str:
    return (
        f"{f.right_served:>4}/{f.right_pairs:<5}{f.paraphrase_rate:5.3f} {f.wrong_served:>3}/{f.wrong_pairs:<7}"
        f"{f.neighbour_served:>3}/{f.neighbour_pairs:<5}{f.precision:6.3f}"
    )
