"""The reader's examples: for each labelled question that gets a quote, what the reader is shown, the
offline probability and whether the quote answers (answerable, and the quoted article is a gold one).

`bulletin-bot reader collect FILE --set NAME` writes a set's examples into samples/eval/reader/
(examples.jsonl, and the vectors in vectors.npz), each set on the index it was written for; `fit --reader`
and `reader curve` read them."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.engine import Engine, Judges
from bot.evaluation.evaluate import EvalQuestion, article_keys
from bot.reader.cache import VectorCache
from bot.reader.prompt import prompt_key
from bot.reader.read import reading_of
from index.types import BulletinError

logger = logging.getLogger(__name__)

EXAMPLES = "examples.jsonl"
VECTORS = "vectors.npz"


@dataclass(frozen=True)
class Example:
    """One question of a labelled set, with its lead quote when it got one (key is then set)."""

    set: str
    id: str
    split: str
    answerable: bool
    right: bool  # answerable and the lead quote is from a gold article
    offline: float  # the offline probability of the lead quote
    offline_outcome: str
    key: str | None  # prompt key of its vector; None: no quote, the reader is not asked
    question: str = ""
    title: str = ""
    quote: str = ""
    answer_model: str = ""  # file_digest of the answer model whose probabilities `offline` holds


def file_digest(path: Path) -> str:
    """A short sha256 of a file: which answer model the examples were collected with."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def in_sets(example: Example, sets: Iterable[str]) -> bool:
    """Whether an example belongs to one of the named sets ("trust" whole, or "trust:tune", one split)."""
    names = set(sets)
    return example.set in names or f"{example.set}:{example.split}" in names


def set_name(path: Path) -> str:
    """How examples name a question file: its folder for samples/eval/holdoutN/, else its stem without
    "_questions" (trust_questions.jsonl → trust, questions.jsonl → questions)."""
    if path.stem in ("questions", "holdout") and path.parent.name.startswith("holdout"):
        return path.parent.name
    return path.stem.removesuffix("_questions")


def collect(engine: Engine, questions: list[EvalQuestion], set_name: str, model_sha256: str) -> list[Example]:
    """The offline answer of every question (no corrections, no judges) and the reading it gives."""
    keys = article_keys(engine.loaded.snapshot)
    model = file_digest(engine.settings.answer_model_path)
    examples = []
    for q in questions:
        answer = engine.ask(q.question, today=date.today(), judges=Judges(), corrections=False)
        reading = reading_of(answer)
        gold = {keys.get(g) for g in q.gold}
        lead = answer.candidates[0].hit.article.article_id if answer.candidates else None
        right = bool(q.gold) and lead in gold
        key = prompt_key(model_sha256, reading.question, reading.title, reading.quote) if reading else None
        examples.append(
            Example(
                set=set_name,
                id=q.id,
                split=q.split,
                answerable=bool(q.gold),
                right=right and reading is not None,
                offline=answer.confidence,
                offline_outcome=answer.outcome,
                key=key,
                question=reading.question if reading else q.question,
                title=reading.title if reading else "",
                quote=reading.quote if reading else "",
                answer_model=model,
            )
        )
    return examples


def fill_vectors(
    examples: list[Example], cache: VectorCache, vector: Callable[[str, str, str], np.ndarray] | None
) -> int:
    """Compute the vectors the cache lacks (with `vector`, the model's); the number computed. Without the
    model, a missing vector is an error naming how to get it."""
    missing = [e for e in examples if e.key and cache.get(e.key) is None]
    if missing and vector is None:
        raise BulletinError(
            f"reader: {len(missing)} prompts have no cached vector and the model is not installed "
            "(bulletin-bot reader install)"
        )
    started = time.monotonic()
    for n, example in enumerate(missing, 1):
        assert vector is not None and example.key is not None
        cache.put(example.key, vector(example.question, example.title, example.quote))
        if n % 50 == 0:
            logger.info(
                "reader: %d of %d prompts read (%.1f s each)", n, len(missing), (time.monotonic() - started) / n
            )
            cache.save()
    if missing:
        cache.save()
    return len(missing)


def save_examples(folder: Path, examples: list[Example]) -> None:
    """Replace the examples of the sets given, keep the others."""
    names = {e.set for e in examples}
    kept = [e for e in load_examples(folder) if e.set not in names] if (folder / EXAMPLES).is_file() else []
    rows = kept + examples
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in rows)
    (folder / EXAMPLES).write_text(text, encoding="utf-8")


def load_examples(folder: Path) -> list[Example]:
    path = folder / EXAMPLES
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [Example(**json.loads(line)) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BulletinError(f"reader: {path} is not a file of reader examples ({exc})") from None
