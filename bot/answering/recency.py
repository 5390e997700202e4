"""Which of the articles on one topic is quoted: the most probable one, or a newer one that supersedes it.

A later notice on a topic (a site list, a fee, opening hours) usually restates little of what the question
asks, so it scores lower than the article it updates. Whether it still wins is decided by the fitted
supersede model (bot/answering/answerability.py, fitted by `bulletin-bot fit` on the tune questions' pairs of a
most probable article and a newer linked one, exactly one of them right), over SUPERSEDE_FEATURES:

- how much less probable the newer article is than the best (log ratio),
- how probable it is itself (log odds),
- when the question is set: now ("现在还…吗", "目前", "still"): such a question wants the newest notice;
  in the past ("当初", "那次", "去年") or asking why ("柳园南路为啥要挖开修"): it wants the article that
  tells it, whatever came after; unstated: most residents mean now, but less surely.

The flat rule it replaces ("a newer linked article wins with 0.2 of the best probability") went the wrong way
in 10 of the 20 check pairs where one of the two is right, mostly to a newer notice on a neighbouring
matter (医保缴费 → 门诊报销)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the models (bot/answering/answerability.py) need these functions, not the candidates' stack
    from bot.answering.candidates import Candidate

SUPERSEDE_FEATURES = ("log_ratio", "newer_log_odds", "time_reference")

# Temporal adverbs of the present and of the past (and asking why: the reason is told by the notice that
# announced a measure), matched on normalised text (simplified, lower case): grammar lists, not words of any
# question set; their weight is fitted with the rest of the supersede model.
NOW = re.compile(r"现在|目前|如今|眼下|当前|最新|今年|最近|近期|还|仍|依然|依旧|now|still|currently|latest|anymore")
PAST = re.compile(r"当初|当时|那次|那回|那阵|那会|去年|前年|以前|之前|原来|原先|早先|为啥|为什么|为何|last year|why")
NOW_REFERENCE, UNSTATED_REFERENCE, PAST_REFERENCE = 1.0, 0.5, 0.0


def time_reference(question: str) -> float:
    """When a normalised question is set: 1 now, 0 in the past, 0.5 when it does not say."""
    if NOW.search(question):
        return NOW_REFERENCE
    return PAST_REFERENCE if PAST.search(question) else UNSTATED_REFERENCE


def supersede_vector(newer: float, best: float, reference: float) -> np.ndarray:
    """The supersede model's features for a newer article of probability `newer` against the best's."""
    newer, best = min(max(newer, 1e-4), 1 - 1e-4), min(max(best, 1e-4), 1 - 1e-4)
    return np.array([math.log(newer / best), math.log(newer / (1 - newer)), reference])


def supersedes(probabilities: Callable[[np.ndarray], np.ndarray], newer: float, best: float, reference: float) -> bool:
    """Whether the supersede model (its `probabilities` of feature rows) quotes the newer article instead."""
    return bool(probabilities(supersede_vector(newer, best, reference)[None, :])[0] >= 0.5)


def newer_linked(weighed: list[Candidate], linked: Callable[[str, str], bool]) -> tuple[Candidate, list[Candidate]]:
    """The most probable candidate, and the candidates of later issues on its topic (in weighed order)."""
    best = max(weighed, key=lambda c: c.probability)
    newer = [
        c
        for c in weighed
        if c.hit.issue_date > best.hit.issue_date and linked(c.hit.article.article_id, best.hit.article.article_id)
    ]
    return best, newer


def choose(best: Candidate, newer: list[Candidate], supersedes: Callable[[float, float], bool]) -> Candidate:
    """The candidate to quote: the newest of the newer articles that supersedes the most probable one, or that
    one itself."""
    eligible = [best] + [c for c in newer if supersedes(c.probability, best.probability)]
    return max(eligible, key=lambda c: (c.hit.issue_date, c.probability))


def outcome_probability(chosen: Candidate, best: Candidate, reference: float) -> float:
    """The probability the outcome is decided on: the chosen article's own, except for a question on how things
    stand now answered by a notice that supersedes the most probable article: then the higher of the two. An
    update restates little ("自3月11日起恢复常态化探视"), so its own probability stays low although the topic
    is as answerable as before (on tune: right answers 0.64 → 0.67, out of scope answered unchanged; README)."""
    return max(chosen.probability, best.probability) if reference == NOW_REFERENCE else chosen.probability
