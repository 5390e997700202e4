"""Answer → message text through the templates, and splitting for Telegram's 4096-character limit."""

from __future__ import annotations

from bot.answer import Answer, AnswerPart
from bot.templates import Templates

TELEGRAM_LIMIT = 4096


def _cite(part: AnswerPart) -> dict:
    return {"title": part.title, "date": part.issue_date.isoformat(), "source": part.source,
            "issue": part.issue_id, "text": part.text}


def render_answer(templates: Templates, answer: Answer, stale_after_days: int) -> str:
    """The reply for an Answer: answer, no-answer or please-ask template."""
    if answer.reason == "empty_question":
        return templates.render("empty_question")
    if not answer.answered:
        return templates.render("no_answer", question=answer.question,
                                related=[_cite(p) for p in answer.related])
    stale = ""
    if answer.age_days is not None and answer.age_days > stale_after_days:
        newest = max(p.issue_date for p in answer.parts)
        stale = templates.render("stale_notice", age_days=answer.age_days, issue_date=newest.isoformat())
    return templates.render("answer", parts=[_cite(p) for p in answer.parts], age_days=answer.age_days,
                            stale_notice=stale, confidence=answer.confidence)


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split text into chunks below the limit, at line breaks where possible, never inside an HTML tag."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
            tag_open = text.rfind("<", 0, cut)
            if tag_open > text.rfind(">", 0, cut):  # do not cut inside <b ...>
                cut = tag_open
            entity = text.rfind("&", 0, cut)
            if entity > text.rfind(";", 0, cut) and cut - entity < 10:  # nor inside &amp;
                cut = entity
        chunks.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    if text or not chunks:
        chunks.append(text)
    return chunks
