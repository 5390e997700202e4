"""`bulletin-bot eval`: the three outcomes and the ranking on labelled questions, per split and per kind."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.answering.answer import Answer
from bot.answering.quote import DATELINE
from bot.answering.retrieve import MODES, HybridRetriever, Mode
from bot.engine import Engine, Judges
from index.normalize import normalize_text
from index.store import Snapshot
from index.types import BulletinError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class EvalQuestion:
    """One line of the question file."""

    id: str
    question: str
    kind: str
    split: str  # "tune", "check", or "-" for a file without splits
    gold: list[tuple[str, str]]  # (issue id, article title); empty = out of scope
    must_contain: list[str]


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What happened to one question."""

    question: EvalQuestion
    answer: Answer
    rank: int | None  # rank of the first gold article in the answer's ranking
    baseline_ranks: dict[Mode, int | None]  # the same for the BM25-only and dense-only retrievers
    latency_ms: float


@dataclass(frozen=True, kw_only=True)
class EvalResult:
    """The figures of one group of questions (a split, a kind) on one decision path."""

    path: str  # offline, reranker, llm (README: "An optional judge")
    group: str
    questions: int
    answerable: int
    out_of_scope: int
    oos_answered: float  # out-of-scope questions given the outcome "answer"
    right_answer: float  # answerable questions given "answer" quoting a gold article
    right_answer_or_related: float
    hit_at_1: float
    hit_at_3: float
    mrr: float
    hit_at_1_bm25: float | None  # the baselines are run once, with the offline path
    hit_at_1_dense: float | None
    must_contain: float  # over the "answer" outcomes of answerable questions
    median_quote_chars: float
    dateline_openers: int
    recency_right: float | None  # "recency" questions whose answer or related quote is the newest article
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
            questions.append(
                EvalQuestion(
                    id=str(row.get("id", number)),
                    question=row["question"],
                    kind=str(row.get("kind", "-")),
                    split=str(row.get("split", "-")),
                    gold=gold,
                    must_contain=list(row.get("must_contain", [])),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BulletinError(f"{path}, line {number}: not a question object ({exc})") from None
    if not questions:
        raise BulletinError(f"{path}: no questions")
    return questions


def article_keys(snapshot: Snapshot) -> dict[tuple[str, str], str]:
    """(issue id, title) → article id: how question files name their gold articles."""
    return {(a.issue_id, a.title): a_id for a_id, a in snapshot.articles.items()}


def _rank(ids: list[str], gold: set[str | None]) -> int | None:
    return next((i for i, a in enumerate(ids) if a in gold), None)


def decision_paths(engine: Engine) -> dict[str, Judges]:
    """The decision paths the engine can take: offline always, the reranker, the local reader and the LLM
    when configured (the LLM path with the others too, as it serves). The reader is measured, not its
    deadline: in eval it may take as long as it needs (its worker loads once, before the first question)."""
    selector, reranker, reader = engine.judges.selector, engine.judges.reranker, engine.judges.reader
    paths = {"offline": Judges()}
    if reranker:
        paths["reranker"] = Judges(reranker=reranker)
    if reader:
        reader.wait_ready()
        reader.timeout = max(reader.timeout, 120.0)
        paths["reader"] = Judges(reranker=reranker, reader=reader)
    if selector:
        paths["llm"] = Judges(selector, reranker, reader)
    return paths


def run_questions(
    engine: Engine, questions: list[EvalQuestion], today: date, judges: Judges | None = None, baselines: bool = True
) -> list[Outcome]:
    """Every question through the answer engine (on the given decision path), and through each single
    retriever for the baselines."""
    engine.warm_up()
    snapshot = engine.loaded.snapshot
    keys = article_keys(snapshot)
    single = {m: HybridRetriever(snapshot, engine.embedder, m) for m in MODES if m != "hybrid" and baselines}
    # the model is measured, not staff corrections (exported, they are labelled questions themselves)
    engine.ask(questions[0].question, today, judges, corrections=False)  # warm caches before timing
    outcomes = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, today, judges, corrections=False)
        latency = (time.perf_counter() - started) * 1000
        gold = {keys.get(g) for g in q.gold}
        ranks: dict[Mode, int | None] = (
            {
                m: _rank([h.article.article_id for h in r.search(q.question, limit=10).hits], gold)
                for m, r in single.items()
            }
            if q.gold
            else {}
        )
        outcomes.append(
            Outcome(
                question=q,
                answer=answer,
                rank=_rank(answer.ranked_ids, gold) if q.gold else None,
                baseline_ranks=ranks,
                latency_ms=latency,
            )
        )
    return outcomes


def summarize(group: str, outcomes: list[Outcome], path: str = "offline") -> EvalResult:
    """The figures of a group of outcomes."""
    answerable = [o for o in outcomes if o.question.gold]
    oos = [o for o in outcomes if not o.question.gold]
    n = max(len(answerable), 1)

    def quotes_gold(o: Outcome, outcomes_ok: tuple[str, ...]) -> bool:
        return o.answer.outcome in outcomes_ok and o.rank == 0 and bool(o.answer.parts)

    answered = [o for o in answerable if o.answer.outcome == "answer"]
    contains = sum(
        all(normalize_text(s) in normalize_text(o.answer.text) for s in o.question.must_contain) for o in answered
    )
    quotes = [len(p.text) for o in outcomes if o.answer.outcome == "answer" for p in o.answer.parts]
    openers = sum(bool(DATELINE.match(p.text)) for o in outcomes for p in o.answer.parts)
    recency = [o for o in answerable if o.question.kind == "recency"]
    latencies = [o.latency_ms for o in outcomes]
    baselines = any(o.baseline_ranks for o in answerable)

    def baseline_hits(mode: Mode) -> float | None:
        return round(sum(o.baseline_ranks.get(mode) == 0 for o in answerable) / n, 3) if baselines else None

    return EvalResult(
        path=path,
        group=group,
        questions=len(outcomes),
        answerable=len(answerable),
        out_of_scope=len(oos),
        oos_answered=round(sum(o.answer.outcome == "answer" for o in oos) / max(len(oos), 1), 3),
        right_answer=round(sum(quotes_gold(o, ("answer",)) for o in answerable) / n, 3),
        right_answer_or_related=round(sum(quotes_gold(o, ("answer", "related")) for o in answerable) / n, 3),
        hit_at_1=round(sum(o.rank == 0 for o in answerable) / n, 3),
        hit_at_3=round(sum(o.rank is not None and o.rank < 3 for o in answerable) / n, 3),
        mrr=round(sum(1 / (o.rank + 1) for o in answerable if o.rank is not None) / n, 3),
        hit_at_1_bm25=baseline_hits("bm25"),
        hit_at_1_dense=baseline_hits("dense"),
        must_contain=round(contains / max(len(answered), 1), 3),
        median_quote_chars=float(np.median(quotes)) if quotes else 0.0,
        dateline_openers=openers,
        recency_right=round(sum(quotes_gold(o, ("answer", "related")) for o in recency) / len(recency), 3)
        if recency
        else None,
        latency_p50_ms=round(float(np.percentile(latencies, 50)), 1),
        latency_p95_ms=round(float(np.percentile(latencies, 95)), 1),
    )


def report(outcomes: list[Outcome], path: str = "offline") -> list[EvalResult]:
    """Figures for every split, then for every kind of question within each split."""
    by_split: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_split[o.question.split].append(o)
    results = [summarize("all", outcomes, path)] if len(by_split) > 1 else []
    for split in sorted(by_split):
        name = split if split != "-" else "all"
        results.append(summarize(name, by_split[split], path))
        kinds: dict[str, list[Outcome]] = defaultdict(list)
        for o in by_split[split]:
            kinds[o.question.kind].append(o)
        results += [summarize(f"{name}/{kind}", kinds[kind], path) for kind in sorted(kinds)]
    return results


def run_eval(engine: Engine, path: Path, today: date) -> list[EvalResult]:
    """Evaluate a question file on every configured decision path: one row group per path, one row per split
    and per kind."""
    questions = load_questions(path)
    results = []
    for name, judges in decision_paths(engine).items():
        results += report(run_questions(engine, questions, today, judges, baselines=name == "offline"), name)
    return results


COLUMNS = [
    ("path", "path"),
    ("group", "group"),
    ("questions", "n"),
    ("oos_answered", "oos→answer"),
    ("right_answer", "right answer"),
    ("right_answer_or_related", "right ans|rel"),
    ("hit_at_1", "hit@1"),
    ("hit_at_3", "hit@3"),
    ("mrr", "mrr"),
    ("hit_at_1_bm25", "hit@1 bm25"),
    ("hit_at_1_dense", "hit@1 dense"),
    ("must_contain", "must_contain"),
    ("median_quote_chars", "quote chars"),
    ("dateline_openers", "datelines"),
    ("recency_right", "recency"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
]


def format_table(results: list[EvalResult]) -> str:
    """A plain-text table of the figures, one row per group (and per decision path, when there are several)."""
    columns = COLUMNS if len({r.path for r in results}) > 1 else COLUMNS[1:]
    rows = [[label for _, label in columns]]
    for r in results:
        values = asdict(r)
        rows.append(["–" if values[c] is None else str(values[c]) for c, _ in columns])
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
