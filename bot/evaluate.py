"""`bulletin-bot eval`: retrieval and answer quality on a JSONL question set, per retrieval mode."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.engine import Engine
from index.normalize import normalize_text
from bot.retrieve import MODES, HybridRetriever
from index.types import BulletinError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalQuestion:
    """One line of the question file."""

    id: str
    question: str
    gold: list[tuple[str, str]]  # (issue id, article title); empty = out of scope
    must_contain: list[str]


@dataclass
class EvalResult:
    """The figures of one retrieval mode."""

    mode: str
    answerable: int
    out_of_scope: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    must_contain: float
    oos_refused: float  # recall of the no-answer decision on out-of-scope questions
    refusal_precision: float
    answerable_refused: float
    latency_p50_ms: float
    latency_p95_ms: float


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a questions.jsonl file, refusing malformed lines by number."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BulletinError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = [(g["issue"].removesuffix(".txt"), g["title"]) for g in row.get("gold", [])]
            questions.append(EvalQuestion(str(row.get("id", number)), row["question"], gold,
                                          list(row.get("must_contain", []))))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BulletinError(f"{path}, line {number}: not a question object ({exc})") from None
    if not questions:
        raise BulletinError(f"{path}: no questions")
    return questions


def evaluate_mode(engine: Engine, questions: list[EvalQuestion], mode: str, today: date) -> EvalResult:
    """Run every question through the answer engine with one retrieval mode."""
    base = engine.loaded
    retriever = base.retriever if mode == base.retriever.mode else HybridRetriever(base.snapshot, engine.embedder, mode)
    retriever.warm_up()
    engine.with_retriever(retriever)
    keys = {(a.issue_id, a.title): a_id for a_id, a in base.snapshot.articles.items()}
    engine.ask(questions[0].question, today)  # warm caches before timing
    hits1 = hits3 = rr = contains = 0.0
    refused_oos = refused_ans = 0
    latencies = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, today)
        latencies.append((time.perf_counter() - started) * 1000)
        if not q.gold:
            refused_oos += not answer.answered
            continue
        refused_ans += not answer.answered
        gold_ids = {keys.get(g) for g in q.gold}
        rank = next((i for i, a_id in enumerate(answer.ranked_ids) if a_id in gold_ids), None)
        if rank is not None:
            hits1 += rank < 1
            hits3 += rank < 3
            rr += 1 / (rank + 1)
        text = normalize_text(answer.text) if answer.answered else ""
        contains += all(normalize_text(s) in text for s in q.must_contain)
    engine.with_retriever(base.retriever)
    answerable = sum(1 for q in questions if q.gold)
    oos = len(questions) - answerable
    refusals = refused_oos + refused_ans
    return EvalResult(
        mode, answerable, oos,
        round(hits1 / max(answerable, 1), 3), round(hits3 / max(answerable, 1), 3), round(rr / max(answerable, 1), 3),
        round(contains / max(answerable, 1), 3),
        round(refused_oos / max(oos, 1), 3), round(refused_oos / refusals, 3) if refusals else 1.0,
        round(refused_ans / max(answerable, 1), 3),
        round(float(np.percentile(latencies, 50)), 1), round(float(np.percentile(latencies, 95)), 1),
    )


def run_eval(engine: Engine, path: Path, today: date) -> list[EvalResult]:
    """Hybrid first, then the BM25-only and dense-only baselines on the same questions."""
    questions = load_questions(path)
    engine.warm_up()
    return [evaluate_mode(engine, questions, mode, today) for mode in MODES]


def format_table(results: list[EvalResult]) -> str:
    """A plain-text table of the figures, one row per mode."""
    columns = ["mode", "hit_at_1", "hit_at_3", "mrr", "must_contain", "oos_refused",
               "refusal_precision", "answerable_refused", "latency_p50_ms", "latency_p95_ms"]
    rows = [columns] + [[str(asdict(r)[c]) for c in columns] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    r = results[0]
    lines.append(f"({r.answerable} answerable, {r.out_of_scope} out-of-scope questions)")
    return "\n".join(lines)
