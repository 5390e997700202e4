"""Answer → message text through the templates, and splitting for Telegram's 4096-character limit."""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from bot.answering.answer import Answer, AnswerPart
from bot.answering.facts import FACT_KINDS
from bot.replies.html_check import TELEGRAM_LIMIT
from bot.replies.templates import Templates

MIN_HIGHLIGHT = 2  # a one-character match ("路", "楼") marks no fact worth bolding


def highlight(text: str, asked: tuple[str, ...]) -> Markup:
    """The quote as Telegram HTML with the asked facts (a time, a phone number, a price…) in bold."""
    spans: list[tuple[int, int]] = []
    for kind in FACT_KINDS:
        if kind.name in asked:
            spans += [m.span() for m in re.finditer(kind.states, text.lower()) if m.end() - m.start() >= MIN_HIGHLIGHT]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [html.escape(text[last:start]), "<b>", html.escape(text[start:end]), "</b>"]
        last = end
    out.append(html.escape(text[last:]))
    return Markup("".join(out))


def human_age(days: int) -> str:
    """An age in the units people use: "5天", "约3个月", "约3年10个月"."""
    if days < 31:
        return f"{max(days, 0)}天"
    months = round(days / 30.44)
    if months < 12:
        return f"约{months}个月"
    years, months = divmod(months, 12)
    return f"约{years}年{months}个月" if months else f"约{years}年"


def _cite(part: AnswerPart) -> dict:
    return {
        "title": part.title,
        "date": part.issue_date.isoformat(),
        "source": part.source,
        "issue": part.issue_id,
        "text": part.text,
        "html": highlight(part.text, part.asked),
        "newer": [{"title": title, "date": day.isoformat()} for title, day in part.newer],
    }


def fallback_answer(answer: Answer, stale: bool) -> str:
    """The reply in fixed words, for when an admin's template fails on this answer."""
    if answer.outcome == "none":
        titles = "".join(f"\n• 《{html.escape(p.title)}》（{p.issue_date.isoformat()}）" for p in answer.related)
        return (
            "抱歉，现有简报中没有找到能回答这个问题的内容。"
            + (f"\n可能相关的文章：{titles}" if titles else "")
            + "\n如需帮助，可拨打 12345 政务服务便民热线。"
        )
    quotes = "\n\n".join(
        f"{html.escape(p.text)}\n—— 《{html.escape(p.title)}》，{p.issue_date.isoformat()} "
        f"{html.escape(p.source)}".rstrip()
        for p in answer.parts
    )
    lead = (
        "" if answer.outcome == "answer" else "简报中没有找到能确认回答这个问题的内容，以下原文可能相关，仅供参考：\n"
    )
    notice = "\n⚠️ 以上信息来自较早的简报，政策可能已有变化，请以最新通知为准。" if stale else ""
    return lead + quotes + notice


def render_answer(templates: Templates, answer: Answer, stale_after_days: int) -> str:
    """The reply for an Answer: the answer, possibly-related or no-answer template."""
    if answer.reason == "empty_question":
        return templates.render("empty_question")
    if answer.reason == "thanks":
        return templates.render("feedback_thanks")
    old = answer.age_days is not None and answer.age_days > stale_after_days and answer.outcome != "none"
    fallback = fallback_answer(answer, old)
    if answer.outcome == "none":
        return templates.render(
            "no_answer", fallback, question=answer.question, related=[_cite(p) for p in answer.related]
        )
    stale = Markup("")
    if old and answer.age_days is not None:
        newest = max(p.issue_date for p in answer.parts)
        stale = Markup(
            templates.render(  # already HTML: not to be escaped again inside the answer
                "stale_notice",
                "⚠️ 以上信息来自较早的简报，政策可能已有变化，请以最新通知为准。",
                age=human_age(answer.age_days),
                age_days=answer.age_days,
                issue_date=newest.isoformat(),
            )
        )
    name = "answer" if answer.outcome == "answer" else "related"
    return templates.render(
        name,
        fallback,
        parts=[_cite(p) for p in answer.parts],
        age_days=answer.age_days,
        stale_notice=stale,
        confidence=answer.confidence,
    )


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
