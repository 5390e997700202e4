"""The fitted models: which sentences state the answer, and whether the quote answers the question.

The sentence model is a logistic regression over SentenceEvidence. The answer probability is the mean of
a logistic regression and of shallow gradient-boosted trees over the same
standardised features (on cross-validated tune predictions the mean ranked articles as well as the
logistic model and separated out-of-scope questions as well as the trees). Both are fitted by
`bulletin-bot fit` and stored as plain JSON with the thresholds and what they were fitted on, so serving
needs only numpy."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bot.answering.evidence import Evidence, SentenceEvidence
from bot.answering.recency import SUPERSEDE_FEATURES, supersedes
from index.types import BulletinError

Outcome = Literal["answer", "related", "none"]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class Tree:
    """One regression tree: node arrays as scikit-learn's gradient boosting stores them."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]
    leaf: tuple[bool, ...]

    def predict(self, x: np.ndarray) -> float:
        node = 0
        while not self.leaf[node]:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class Linear:
    """A logistic regression over standardised named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = np.clip(self.standardise(x) @ self.weights + self.intercept, -60.0, 60.0)
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, evidence: Sequence[Evidence | SentenceEvidence]) -> list[float]:
        """The probability for each piece of evidence."""
        return self.probabilities(np.array([e.vector() for e in evidence])).tolist() if evidence else []

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class AnswerModel:
    """The sentence model, the answer model (logistic + trees) and the thresholds of the three outcomes."""

    sentence: Linear  # SentenceEvidence → probability that the sentence states the answer
    linear: Linear  # Evidence → probability that the quote answers
    trees: tuple[Tree, ...]
    trees_baseline: float
    answer_threshold: float  # at or above: the quote is given as the answer
    related_threshold: float  # at or above (and below the other): shown as possibly related
    supersede: Linear  # a newer article on the topic against the most probable one → probability it wins
    fitted_on: dict

    def __post_init__(self) -> None:
        if (
            self.linear.features != Evidence.names()
            or self.sentence.features != SentenceEvidence.names()
            or self.supersede.features != SUPERSEDE_FEATURES
        ):
            raise BulletinError(
                "answerability model: its features are not the ones the code computes; refit it with `bulletin-bot fit`"
            )
        if not 0.0 <= self.related_threshold <= self.answer_threshold <= 1.0:
            raise BulletinError("answerability model: thresholds must satisfy 0 ≤ related ≤ answer ≤ 1")

    def probability(self, evidence: Evidence) -> float:
        """Probability that the quote answers the question."""
        return float(self.probabilities(evidence.vector()[None, :])[0])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for rows of raw feature values."""
        trees = [
            sigmoid(self.trees_baseline + sum(t.predict(row) for t in self.trees)) for row in self.linear.standardise(x)
        ]
        return (self.linear.probabilities(x) + np.array(trees)) / 2

    def supersedes(self, newer: float, best: float, reference: float) -> bool:
        """Whether a newer article on the topic, of probability `newer`, is quoted instead of the best (the
        question's time reference: bot/recency.time_reference)."""
        return supersedes(self.supersede.probabilities, newer, best, reference)

    def outcome(self, probability: float) -> Outcome:
        if probability >= self.answer_threshold:
            return "answer"
        return "related" if probability >= self.related_threshold else "none"

    def to_json(self) -> dict:
        return {
            "sentence": self.sentence.to_json(),
            "linear": self.linear.to_json(),
            "trees": [t.__dict__ for t in self.trees],
            "trees_baseline": self.trees_baseline,
            "answer_threshold": self.answer_threshold,
            "related_threshold": self.related_threshold,
            "supersede": self.supersede.to_json(),
            "fitted_on": self.fitted_on,
        }

    def save(self, path: Path) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        path.write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AnswerModel:
        """Read a model file; a missing or malformed one is a BulletinError naming the file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if "recency_margin" in data and "supersede" not in data:
                raise BulletinError(
                    f"{path}: fitted before the supersede model (bot/answering/recency.py) "
                    "replaced the recency margin; "
                    "refit it with `bulletin-bot fit`"
                )
            trees = tuple(Tree(**{k: tuple(v) for k, v in t.items()}) for t in data["trees"])
            return cls(
                Linear.from_json(data["sentence"]),
                Linear.from_json(data["linear"]),
                trees,
                float(data["trees_baseline"]),
                float(data["answer_threshold"]),
                float(data["related_threshold"]),
                Linear.from_json(data["supersede"]),
                dict(data.get("fitted_on", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BulletinError(f"{path}: not a usable answerability model ({exc})") from None
