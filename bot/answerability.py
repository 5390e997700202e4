"""The fitted answerability model: Evidence → probability that the quote answers the question → outcome.

A logistic regression over standardised features, fitted by `bulletin-bot fit` on the tune split and
stored as plain JSON (weights, two thresholds and what it was fitted on), so serving needs only numpy."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bot.evidence import Evidence
from index.types import BulletinError

Outcome = Literal["answer", "related", "none"]


@dataclass(frozen=True)
class AnswerModel:
    """Weights over named features and the two thresholds that give the three outcomes."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    answer_threshold: float  # at or above: the quote is given as the answer
    related_threshold: float  # at or above (and below the other): shown as possibly related
    recency_margin: float  # a newer article on the same topic wins when this close to the best
    fitted_on: dict

    def __post_init__(self) -> None:
        if self.features != Evidence.names():
            raise BulletinError("answerability model: its features are not the ones the code computes; "
                                "refit it with `bulletin-bot fit`")
        if not 0.0 <= self.related_threshold <= self.answer_threshold <= 1.0:
            raise BulletinError("answerability model: thresholds must satisfy 0 ≤ related ≤ answer ≤ 1")

    def probability(self, evidence: Evidence) -> float:
        """Probability that the quote answers the question."""
        z = float(((evidence.vector() - self.mean) / self.scale) @ self.weights) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def outcome(self, probability: float) -> Outcome:
        if probability >= self.answer_threshold:
            return "answer"
        return "related" if probability >= self.related_threshold else "none"

    def to_json(self) -> dict:
        return {
            "features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
            "weights": self.weights.tolist(), "intercept": self.intercept,
            "answer_threshold": self.answer_threshold, "related_threshold": self.related_threshold,
            "recency_margin": self.recency_margin, "fitted_on": self.fitted_on,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AnswerModel:
        """Read a model file; a missing or malformed one is a BulletinError naming the file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(tuple(data["features"]), np.asarray(data["mean"], dtype=np.float64),
                       np.asarray(data["scale"], dtype=np.float64), np.asarray(data["weights"], dtype=np.float64),
                       float(data["intercept"]), float(data["answer_threshold"]), float(data["related_threshold"]),
                       float(data["recency_margin"]), dict(data.get("fitted_on", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BulletinError(f"{path}: not a usable answerability model ({exc})") from None
