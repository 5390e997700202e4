"""The fitted probe: a linear score of the reader's hidden state, stacked with the offline probability.

Both are logistic regressions fitted by `bulletin-bot fit --reader` (bot/evaluation/reader_fit.py) and
stored as JSON with the model's sha256, the prompt's version, the thresholds and the data they were
fitted on. A probe is refused for another model or prompt: its weights mean nothing there."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.answering.answerability import Outcome, sigmoid
from bot.reader import prompt
from bot.reader.model_file import ReaderError


def logit(p: float) -> float:
    p = min(1 - 1e-4, max(1e-4, p))
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class ReaderProbe:
    """Weights on the raw hidden state (the standardisation folded in) and the stacking regression."""

    model_sha256: str
    prompt_version: str
    weights: np.ndarray
    bias: float
    stack: tuple[float, float, float]  # × probe score, × logit(offline probability), intercept
    answer_threshold: float
    related_threshold: float
    fitted_on: dict = field(default_factory=dict)

    def score(self, vector: np.ndarray) -> float:
        return float(vector.astype(np.float64) @ self.weights + self.bias)

    def probability(self, vector: np.ndarray, offline: float) -> float:
        """The stacked probability that the quote answers the question."""
        a, b, c = self.stack
        return sigmoid(a * self.score(vector) + b * logit(offline) + c)

    def outcome(self, probability: float) -> Outcome:
        if probability >= self.answer_threshold:
            return "answer"
        return "related" if probability >= self.related_threshold else "none"

    def save(self, path: Path) -> None:
        row = {
            "model_sha256": self.model_sha256,
            "prompt_version": self.prompt_version,
            "bias": self.bias,
            "stack": list(self.stack),
            "answer_threshold": self.answer_threshold,
            "related_threshold": self.related_threshold,
            "fitted_on": self.fitted_on,
            "weights": [round(float(w), 7) for w in self.weights],
        }
        path.write_text(json.dumps(row, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path, model_sha256: str | None = None) -> ReaderProbe:
        """Read a fitted probe; ReaderError (one line, naming the file) when it is unreadable, for another
        prompt, or, given the model's sha256, fitted for another model."""
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
            probe = cls(
                model_sha256=str(row["model_sha256"]),
                prompt_version=str(row["prompt_version"]),
                weights=np.asarray(row["weights"], dtype=np.float64),
                bias=float(row["bias"]),
                stack=tuple(float(v) for v in row["stack"]),  # type: ignore[arg-type]
                answer_threshold=float(row["answer_threshold"]),
                related_threshold=float(row["related_threshold"]),
                fitted_on=dict(row.get("fitted_on", {})),
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ReaderError(f"reader: {path} is not a fitted probe ({exc})") from None
        if len(probe.stack) != 3 or probe.weights.ndim != 1:
            raise ReaderError(f"reader: {path} is not a fitted probe (wrong shapes)")
        if probe.prompt_version != prompt.VERSION:
            raise ReaderError(
                f"reader: {path} was fitted for prompt {probe.prompt_version}, not {prompt.VERSION} "
                "(refit: bulletin-bot fit --reader)"
            )
        if model_sha256 is not None and probe.model_sha256 != model_sha256:
            raise ReaderError(
                f"reader: {path} was fitted for the model with sha256 {probe.model_sha256[:12]}…, not this one "
                f"({model_sha256[:12]}…); fit a probe for it: bulletin-bot fit --reader"
            )
        return probe
