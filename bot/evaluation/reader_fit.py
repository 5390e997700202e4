"""Fitting the reader's probe and measuring its trust curve (README "The local reader").

The probe is a logistic regression on the standardised hidden states of the tune pool's lead quotes,
its regularisation chosen by cross-validated AUC (folds by question file when the pool has two files
or more, else by question); a second logistic regression stacks the probe's out-of-fold score with
logit(offline probability). Thresholds are chosen on the stacked out-of-fold predictions: "answer" so
that at most READER.target_oos_answered of the pool's out-of-scope questions get it, "related" keeping
READER.related_recall of the right quotes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bot.evaluation.reader_data import Example
from bot.reader import prompt
from bot.reader.cache import VectorCache
from bot.reader.probe import ReaderProbe, logit
from bot.tuning import READER
from index.types import BulletinError

OPERATING_OOS = 0.10  # the stop rule's operating point: at most 10% of out-of-scope questions answered


def _matrix(examples: list[Example], cache: VectorCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    read = [e for e in examples if e.key]
    x = np.stack([_vector(cache, e) for e in read]).astype(np.float64)
    y = np.array([e.right for e in read], dtype=int)
    offline = np.array([logit(e.offline) for e in read])
    return x, y, offline


def _vector(cache: VectorCache, example: Example) -> np.ndarray:
    vector = cache.get(example.key) if example.key else None
    if vector is None:
        raise BulletinError(f"reader: no vector for question {example.set}/{example.id} (bulletin-bot reader collect)")
    return vector


def _groups(examples: list[Example]) -> np.ndarray:
    read = [e for e in examples if e.key]
    files = sorted({e.set for e in read})
    if len(files) >= 2:  # folds by question file: C is chosen across writers and styles
        return np.array([files.index(e.set) for e in read])
    return np.array([int(hashlib.sha1(f"{e.set}/{e.id}".encode()).hexdigest(), 16) % READER.folds for e in read])


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    scores = np.zeros(len(y))
    for g in np.unique(groups):
        test = groups == g
        train = ~test
        mean, scale = x[train].mean(0), x[train].std(0) + 1e-6
        model = LogisticRegression(C=c, max_iter=2000).fit((x[train] - mean) / scale, y[train])
        scores[test] = model.decision_function((x[test] - mean) / scale)
    return scores


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    pos, neg = scores[y == 1], scores[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def fit_probe(examples: list[Example], cache: VectorCache, model_sha256: str, sources: dict) -> ReaderProbe:
    """Fit the probe, the stack and the thresholds on the tune pool's examples."""
    from sklearn.linear_model import LogisticRegression

    x, y, offline = _matrix(examples, cache)
    if len(set(y)) < 2:
        raise BulletinError("fit --reader: the tune quotes give only one kind of example; label more questions")
    groups = _groups(examples)
    by_c = {c: auc(_out_of_fold(x, y, groups, c), y) for c in READER.c_grid}
    # the strongest regularisation within READER.c_tolerance of the best AUC: on ~200 quotes the AUC is
    # flat over two orders of magnitude of C, and the flattest weights travel best to unseen questions
    best = max(by_c.values())
    c = min(k for k, v in by_c.items() if v >= best - READER.c_tolerance)
    oof = _out_of_fold(x, y, groups, c)
    stack = LogisticRegression(C=1.0, max_iter=1000).fit(np.column_stack([oof, offline]), y)
    a, b = (float(v) for v in stack.coef_[0])
    stacked = 1 / (1 + np.exp(-(a * oof + b * offline + stack.intercept_[0])))
    answer_t, related_t = _thresholds(examples, stacked)
    mean, scale = x.mean(0), x.std(0) + 1e-6
    final = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    weights = final.coef_[0] / scale
    bias = float(final.intercept_[0] - (mean * final.coef_[0] / scale).sum())
    fitted_on = {
        **sources,
        "quotes": int(len(y)),
        "right": int(y.sum()),
        "C": c,
        "cv_auc_by_C": {str(k): round(v, 4) for k, v in by_c.items()},
        "cv_auc_offline": round(auc(offline, y), 4),
        "cv_auc_stacked": round(auc(stacked, y), 4),
        "targets": {"oos_answered": READER.target_oos_answered, "related_recall": READER.related_recall},
    }
    return ReaderProbe(
        model_sha256=model_sha256,
        prompt_version=prompt.VERSION,
        weights=weights,
        bias=bias,
        stack=(round(a, 6), round(b, 6), round(float(stack.intercept_[0]), 6)),
        answer_threshold=round(answer_t, 4),
        related_threshold=round(related_t, 4),
        fitted_on=fitted_on,
    )


def _thresholds(examples: list[Example], stacked: np.ndarray) -> tuple[float, float]:
    read = [e for e in examples if e.key]
    oos_total = sum(1 for e in examples if not e.answerable)
    oos = np.sort(np.array([p for e, p in zip(read, stacked) if not e.answerable]))[::-1]
    allowed = int(READER.target_oos_answered * oos_total)
    # the lowest threshold that lets at most `allowed` out-of-scope quotes through
    answer_t = float(oos[allowed] + 1e-4) if allowed < len(oos) else 0.5
    right = np.sort(np.array([p for e, p in zip(read, stacked) if e.right]))
    related_t = float(right[int((1 - READER.related_recall) * len(right))]) if len(right) else 0.2
    return max(answer_t, 0.05), min(related_t, answer_t)


@dataclass(frozen=True)
class CurvePoint:
    """Right answers at the threshold where at most `oos` of out-of-scope questions are answered."""

    questions: int
    out_of_scope: int
    oos: float
    right_offline: float
    right_reader: float
    auc_offline: float
    auc_reader: float
    # as served: offline at its fitted threshold (the outcome eval gives), the reader at the probe's
    served_oos: tuple[float, float]  # out-of-scope questions given "answer": offline, reader
    served_right: tuple[float, float]  # answerable questions answered from a gold article: offline, reader


def operating_point(examples: list[Example], cache: VectorCache, probe: ReaderProbe, oos: float) -> CurvePoint:
    """Offline against reader on the same questions, each at its own threshold for the same oos rate."""
    answerable = sum(1 for e in examples if e.answerable)
    out_total = len(examples) - answerable
    read = [e for e in examples if e.key]
    offline = np.array([e.offline for e in read])
    vectors = [_vector(cache, e) for e in read]
    reader = np.array([probe.probability(v, e.offline) for v, e in zip(vectors, read)])
    y = np.array([e.right for e in read], dtype=int)
    is_oos = np.array([not e.answerable for e in read])

    def right_at(scores: np.ndarray) -> float:
        out = np.sort(scores[is_oos])[::-1]
        allowed = int(oos * out_total)
        threshold = out[allowed] if allowed < len(out) else -np.inf
        return float(((scores > threshold) & (y == 1)).sum() / max(1, answerable))

    offline_answers = np.array([e.offline_outcome == "answer" for e in read])
    reader_answers = reader >= probe.answer_threshold

    def share(answered: np.ndarray, which: np.ndarray, total: int) -> float:
        return round(float((answered & which).sum() / max(1, total)), 3)

    return CurvePoint(
        served_oos=(share(offline_answers, is_oos, out_total), share(reader_answers, is_oos, out_total)),
        served_right=(share(offline_answers, y == 1, answerable), share(reader_answers, y == 1, answerable)),
        questions=len(examples),
        out_of_scope=out_total,
        oos=oos,
        right_offline=round(right_at(offline), 3),
        right_reader=round(right_at(reader), 3),
        auc_offline=round(auc(offline, y), 3),
        auc_reader=round(auc(reader, y), 3),
    )
