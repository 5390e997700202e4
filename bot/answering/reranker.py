"""The optional local reranker (BULLETIN_RERANKER_MODEL): a CrossEncoder folder rescores the top articles' passages.

Its score reorders the retrieved articles, and below its fitted threshold (`bulletin-bot fit-reranker`, written
beside the model as bulletin_reranker.json) no quote is given as the answer. A cross-encoder's scores mean
something different for every model, so the threshold is fitted per model folder, never shared."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.answering.message import clean_question
from bot.answering.retrieve import HybridRetriever, Reranked, Retrieval
from bot.tuning import JUDGE
from index.types import BulletinError

logger = logging.getLogger(__name__)

THRESHOLD_FILE = "bulletin_reranker.json"
SETTING = "BULLETIN_RERANKER_MODEL"


@dataclass(frozen=True)
class ThresholdFit:
    """The reranker's answer threshold and the labelled questions it was fitted on."""

    threshold: float
    fitted_on: dict

    def save(self, folder: Path) -> Path:
        path = folder / THRESHOLD_FILE
        data = {"threshold": self.threshold, "fitted_on": self.fitted_on}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: Path) -> ThresholdFit:
        """The fitted threshold of a model folder; a missing or malformed file names the setting and the fix."""
        path = folder / THRESHOLD_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(data["threshold"]), dict(data.get("fitted_on", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BulletinError(
                f"{SETTING}={folder}: no usable fitted threshold in {path} ({exc}); fit one for this model with "
                "`bulletin-bot fit-reranker samples/eval/trust_questions.jsonl`"
            ) from None


class Reranker:
    """A local CrossEncoder, loaded on first use (or by `warm_up`); safe to call from several threads."""

    def __init__(self, folder: Path, *, need_threshold: bool = True) -> None:
        self.folder = Path(folder)
        self.need_threshold = need_threshold
        self._model: Any = None
        self._fit: ThresholdFit | None = None
        self._lock = threading.Lock()  # one load, and one forward pass at a time on the shared model

    def warm_up(self) -> None:
        """Load the model (and its fitted threshold); a broken folder is a BulletinError naming the setting."""
        with self._lock:
            if self._model is not None:
                return
            if self.need_threshold:
                self._fit = ThresholdFit.load(self.folder)
            from sentence_transformers import CrossEncoder

            try:
                self._model = CrossEncoder(str(self.folder), device="cpu", local_files_only=True)
            except Exception as exc:  # transformers raises OSError, ValueError, KeyError… for a bad folder
                raise BulletinError(
                    f"{SETTING}={self.folder}: not a CrossEncoder model folder ({type(exc).__name__}: {exc})"
                ) from None
            logger.info("reranker loaded from %s", self.folder)

    @property
    def threshold(self) -> float:
        self.warm_up()
        return self._fit.threshold if self._fit else 0.0

    def scores(self, question: str, texts: list[str]) -> list[float]:
        """The model's score for each (question, text) pair."""
        self.warm_up()
        if not texts:
            return []
        with self._lock:
            values = self._model.predict([(question, t) for t in texts], show_progress_bar=False)
        return [float(v) for v in values]

    def rerank(self, retrieval: Retrieval) -> Retrieval:
        """The top articles reordered by their best passage's score; the scores kept for the answer decision."""
        head, tail = retrieval.hits[: JUDGE.depth], retrieval.hits[JUDGE.depth :]
        if not head:
            return retrieval
        texts = [[p.passage.text for p in hit.passages[: JUDGE.passages]] or [hit.article.title] for hit in head]
        flat = self.scores(retrieval.question, [t for group in texts for t in group])
        best, start = {}, 0
        for hit, group in zip(head, texts):
            best[hit.article.article_id] = max(flat[start : start + len(group)])
            start += len(group)
        ordered = sorted(head, key=lambda h: -best[h.article.article_id])  # stable: ties keep the fused order
        verdict = Reranked(best, max(best.values()), self.threshold)
        return replace(retrieval, hits=ordered + tail, reranked=verdict)


def fit_threshold(
    retriever: HybridRetriever, reranker: Reranker, questions: list, target_oos: float, source: str
) -> ThresholdFit:
    """The lowest threshold at which at most `target_oos` of the out-of-scope questions would be answered (their
    best reranker score at or above it); the share of answerable questions above it is recorded beside."""
    tops, labels = [], []
    for q in questions:
        retrieval = retriever.search(clean_question(q.question), limit=JUDGE.depth)
        reranked = reranker.rerank(retrieval).reranked
        tops.append(reranked.top if reranked else 0.0)
        labels.append(bool(q.gold))
    oos = sorted((t for t, answerable in zip(tops, labels) if not answerable), reverse=True)
    if not oos or all(labels):
        raise BulletinError("fit-reranker: the questions need both answerable and out-of-scope ones")
    allowed = min(int(target_oos * len(oos)), len(oos) - 1)  # out-of-scope questions that may stay above it
    threshold = (oos[allowed - 1] + oos[allowed]) / 2 if allowed else oos[0] + 1e-6
    answerable = [t for t, a in zip(tops, labels) if a]
    return ThresholdFit(
        round(float(threshold), 6),
        {
            "model": str(reranker.folder),
            "questions": len(questions),
            "out_of_scope": len(oos),
            "source": source,
            "target_oos_answered": target_oos,
            "answerable_at_or_above": round(sum(t >= threshold for t in answerable) / max(len(answerable), 1), 3),
            "fitted": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
