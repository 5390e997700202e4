"""Retrieval → Answer with one of three outcomes: the quote that answers, a possibly related quote, or none.

For the top articles (and newer articles linked to them by topic) the smallest quote is chosen and the
fitted answerability model (bot/answering/answerability.py) weighs the evidence that it answers the question. A
newer article on the topic of the most probable one wins when the supersede model says so (bot/answering/recency.py);
an older one is quoted when no newer one does, and the reply then names the newer ones."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.answering.answerability import AnswerModel, Outcome
from bot.answering.candidates import Candidate, QuestionContext, candidate_hits, weigh
from bot.answering.evidence import place_missing
from bot.answering.message import CONVERSATIONAL, clean_question, social_act
from bot.answering.quote import Quote
from bot.answering.recency import choose, newer_linked, outcome_probability, time_reference
from bot.answering.reranker import Reranker
from bot.answering.retrieve import HybridRetriever
from bot.tuning import ANSWER
from index.normalize import has_content
from index.text import QUESTION_PART_SPLIT

logger = logging.getLogger(__name__)

Reason = Literal[
    "answered", "related", "low_probability", "empty_question", "greeting", "thanks", "no_index_match", "not_stated"
]
# Which decision answered: the fitted model alone, the LLM selector, the fitted model after the reranker, or
# the fitted model because the LLM's reply was unusable (README: "An optional judge"), or a staff correction
# (bot/corrections), or the local reader's probe (bot/reader).
DecisionPath = Literal["offline", "llm", "reranker", "llm-fallback", "correction", "reader"]


@dataclass(frozen=True, kw_only=True)
class AnswerPart:
    """A quote from one article, with what is needed to cite it."""

    issue_id: str
    title: str
    issue_date: date
    source: str
    article_id: str
    score: float  # retrieval score
    probability: float  # the answerability model's probability that the quote answers
    quote: Quote
    asked: tuple[str, ...] = ()  # kinds of fact the question asks (to highlight them)
    newer: tuple[tuple[str, date], ...] = ()  # (title, date) of newer articles on the topic not quoted

    @property
    def text(self) -> str:
        return self.quote.text

    @property
    def sentences(self) -> list[str]:
        return [s.text for s in self.quote.sentences]


@dataclass(kw_only=True)
class Answer:
    """What the bot replies: the outcome, the quoted parts, and related titles."""

    question: str
    outcome: Outcome
    reason: Reason
    confidence: float = 0.0  # the model's probability for the lead quote
    parts: list[AnswerPart] = field(default_factory=list)
    related: list[AnswerPart] = field(default_factory=list)
    age_days: int | None = None  # age of the newest quoted issue
    ranked_ids: list[str] = field(default_factory=list)  # article ids, best first
    path: DecisionPath = "offline"
    prompt_version: str | None = None  # the LLM selector prompt's version, when the LLM was asked
    asked: tuple[str, ...] = ()  # kinds of fact the question asks
    candidates: list[Candidate] = field(default_factory=list, repr=False)  # weighed, the chosen one first

    @property
    def answered(self) -> bool:
        return self.outcome == "answer"

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.parts)


@dataclass
class Decision:
    """The candidate chosen for a question (or part), its outcome, and the others weighed."""

    chosen: Candidate
    outcome: Outcome
    probability: float  # what the outcome was decided on (bot/recency.outcome_probability)
    weighed: list[Candidate]
    newer: list[Candidate]  # newer articles on the same topic that were not chosen


def decide(q: QuestionContext, model: AnswerModel) -> Decision | None:
    """Weigh the top articles and the newer articles linked to them; the newest that answers wins."""
    if not q.retrieval.hits:
        return None
    weighed = weigh(q, candidate_hits(q), model.sentence.scores)
    for candidate in weighed:
        candidate.probability = model.probability(candidate.evidence)
    reference = time_reference(q.text)
    best, later = newer_linked(weighed, q.retriever.linked)
    chosen = choose(best, later, lambda p_newer, p_best: model.supersedes(p_newer, p_best, reference))
    newer = sorted(
        (c for c in later if c.hit.issue_date > chosen.hit.issue_date and c.probability >= model.related_threshold),
        key=lambda c: c.hit.issue_date,
        reverse=True,
    )
    probability = outcome_probability(chosen, best, reference)
    return Decision(chosen, _outcome(q, model, probability), probability, weighed, newer)


def _outcome(q: QuestionContext, model: AnswerModel, probability: float) -> Outcome:
    """The fitted model's outcome; with a reranker, no answer while its best score is below its own threshold."""
    outcome = model.outcome(probability)
    reranked = q.retrieval.reranked
    if outcome == "answer" and reranked is not None and reranked.top < reranked.threshold:
        return "related"
    return outcome


def _part(candidate: Candidate, q: QuestionContext, newer: Sequence[Candidate] = ()) -> AnswerPart:
    return answer_part(candidate, candidate.quote, tuple(k.name for k in q.kinds), newer)


def answer_part(
    candidate: Candidate, quote: Quote, asked: tuple[str, ...], newer: Sequence[Candidate] = ()
) -> AnswerPart:
    """The part quoting `quote` from the candidate's article, with its citation."""
    article = candidate.hit.article
    return AnswerPart(
        issue_id=article.issue_id,
        title=article.title,
        issue_date=candidate.hit.issue_date,
        source=article.source,
        article_id=article.article_id,
        score=round(candidate.hit.score, 4),
        probability=round(candidate.probability, 3),
        quote=quote,
        asked=asked,
        newer=tuple((c.hit.article.title, c.hit.issue_date) for c in newer),
    )


def question_parts(question: str) -> list[str]:
    """Split a multi-part question; one part when it has only one."""
    parts = [p.strip() for p in QUESTION_PART_SPLIT.split(question) if has_content(p)]
    return parts[: ANSWER.max_parts] if len(parts) > 1 else [question]


def answer_question(
    retriever: HybridRetriever,
    model: AnswerModel,
    question: str,
    *,
    max_chars: int,
    today: date,
    reranker: Reranker | None = None,
) -> Answer:
    """Answer one resident question extractively, or say honestly that the bulletins do not answer it."""
    answer = conversational_answer(question) or _answer(retriever, model, question, max_chars, today, reranker)
    answer.path = "reranker" if reranker and answer.reason not in CONVERSATIONAL else "offline"
    return answer


def conversational_answer(question: str) -> Answer | None:
    """The answer to a message that only greets, thanks or asks nothing (no search needed), else None."""
    cleaned = clean_question(question)
    social = social_act(cleaned)
    if social:
        return Answer(question=question, outcome="none", reason=social)
    if not has_content(cleaned):
        return Answer(question=question, outcome="none", reason="empty_question")
    return None


def _answer(
    retriever: HybridRetriever,
    model: AnswerModel,
    question: str,
    max_chars: int,
    today: date,
    reranker: Reranker | None,
) -> Answer:
    cleaned = clean_question(question)
    parts = question_parts(cleaned)
    budget = max_chars if len(parts) == 1 else 2 * max_chars // (len(parts) + 1)
    whole = QuestionContext.ask(retriever, cleaned, budget, reranker)
    decision = decide(whole, model)
    if decision is None:
        return Answer(question=question, outcome="none", reason="no_index_match")
    ranked = sorted(decision.weighed, key=lambda c: c is not decision.chosen)
    asked = tuple(k.name for k in whole.kinds)
    ranked_ids = [c.hit.article.article_id for c in ranked]
    ranked_ids += [h.article.article_id for h in whole.retrieval.hits if h.article.article_id not in ranked_ids]
    answered = [(decision, whole)] if decision.outcome == "answer" else []
    # each part is searched too and its answer joins when it states something new; a part alone loses the
    # words of the others, so a place the question names must still be in the part's article
    # ("茌平区加装电梯有补贴吗？每部补贴多少？": "每部补贴多少" alone no longer names 茌平区)
    if len(parts) > 1:
        for text in parts:
            sub = QuestionContext.ask(retriever, text, budget, reranker)
            found = decide(sub, model)
            if found is not None and found.outcome == "answer" and not _elsewhere(whole, found.chosen):
                answered.append((found, sub))
    quoted = _distinct([_part(d.chosen, q, d.newer) for d, q in answered])
    confidence = round(decision.probability, 3)
    if quoted:
        related = _related(decision, {p.article_id for p in quoted}, whole, model)
        return Answer(
            question=question,
            outcome="answer",
            reason="answered",
            confidence=confidence,
            parts=quoted,
            related=related,
            ranked_ids=ranked_ids,
            age_days=(today - max(p.issue_date for p in quoted)).days,
            asked=asked,
            candidates=ranked,
        )
    if decision.outcome == "related":
        lead = _part(decision.chosen, whole, decision.newer)
        return Answer(
            question=question,
            outcome="related",
            reason="related",
            confidence=confidence,
            parts=[lead],
            ranked_ids=ranked_ids,
            age_days=(today - lead.issue_date).days,
            asked=asked,
            candidates=ranked,
        )
    return Answer(
        question=question,
        outcome="none",
        reason="low_probability",
        confidence=confidence,
        related=_related(decision, set(), whole, model),
        ranked_ids=ranked_ids,
        asked=asked,
        candidates=ranked,
    )


def _elsewhere(whole: QuestionContext, candidate: Candidate) -> bool:
    """True when the whole question names a place that the candidate's article does not."""
    return bool(place_missing(whole.text, whole.retriever.article_text(candidate.hit.article.article_id)))


def _distinct(parts: list[AnswerPart]) -> list[AnswerPart]:
    """One part per article: a later quote of an article already quoted adds its new sentences to it."""
    merged: dict[str, AnswerPart] = {}
    for part in parts:
        first = merged.get(part.article_id)
        if first is None:
            merged[part.article_id] = part
            continue
        sentences = {s.index: s for s in first.quote.sentences + part.quote.sentences}
        quote = Quote(tuple(sentences[i] for i in sorted(sentences)), first.quote.list_size)
        merged[part.article_id] = AnswerPart(**{**first.__dict__, "quote": quote})
    return list(merged.values())


def _related(decision: Decision, quoted: set[str], q: QuestionContext, model: AnswerModel) -> list[AnswerPart]:
    """Titles worth suggesting: weighed articles above the relevance floor, each title once."""
    floor = model.related_threshold * ANSWER.related_floor_share
    out, titles = [], set()
    for c in sorted(decision.weighed, key=lambda c: -c.probability):
        title = c.hit.article.title  # an issue that repeats another's articles suggests each title once
        if c.hit.article.article_id in quoted or title in titles or c.probability < floor:
            continue
        titles.add(title)
        out.append(_part(c, q))
    return out[: ANSWER.related_limit]
