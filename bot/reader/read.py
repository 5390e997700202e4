"""The reader's decision turned into an Answer: the same quotes and citations the offline path chose,
with the outcome the stacked probability gives (path "reader")."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from bot.answering.answer import Answer, answer_part
from bot.answering.candidates import Candidate
from bot.reader.probe import ReaderProbe

# offline answers the reader reads: a quote was weighed (not a greeting, an empty question or no match)
READ_REASONS = frozenset({"answered", "related", "low_probability"})


@dataclass(frozen=True)
class Reading:
    """What the reader is shown: the question and the quote of the most probable article."""

    question: str
    title: str
    quote: str


def reading_of(offline: Answer) -> Reading | None:
    """The question and lead quote of an offline answer, or None when there is nothing to read."""
    lead = _lead(offline)
    if lead is None or offline.reason not in READ_REASONS or not lead.quote.text:
        return None
    return Reading(offline.question, lead.hit.article.title, lead.quote.text)


def _lead(offline: Answer) -> Candidate | None:
    return offline.candidates[0] if offline.candidates else None


def read_answer(offline: Answer, probability: float, probe: ReaderProbe, today: date) -> Answer:
    """The answer the stacked probability decides. An offline answer the reader keeps is unchanged but
    for its confidence; one it raises quotes the lead article; one it lowers keeps the quote as related
    text or, below the related threshold, becomes the no-answer reply with the quote's title suggested."""
    outcome, confidence = probe.outcome(probability), round(probability, 3)
    lead = _lead(offline)
    assert lead is not None  # reading_of gave a reading
    same = offline.outcome == outcome
    if same and outcome != "none":
        return replace(offline, path="reader", confidence=confidence)
    part = next((p for p in offline.parts if p.article_id == lead.hit.article.article_id), None)
    part = part or answer_part(lead, lead.quote, offline.asked)
    others = [p for p in offline.related if p.article_id != part.article_id]
    if outcome == "answer":
        return replace(
            offline,
            path="reader",
            outcome="answer",
            reason="answered",
            confidence=confidence,
            parts=[part],
            related=others,
            age_days=(today - part.issue_date).days,
        )
    if outcome == "related":
        return replace(
            offline,
            path="reader",
            outcome="related",
            reason="related",
            confidence=confidence,
            parts=[part],
            related=[],
            age_days=(today - part.issue_date).days,
        )
    return replace(
        offline,
        path="reader",
        outcome="none",
        reason="not_stated" if offline.outcome != "none" else offline.reason,
        confidence=confidence,
        parts=[],
        related=([part] + others)[: max(1, len(offline.related))] if offline.outcome != "none" else offline.related,
        age_days=None,
    )
