"""Residents' questions: per-day chart, the most asked without an answer, 👎 answers, the lowest
confidence; and 试问, which asks a question as a resident would (through the same Engine as `ask`)."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.answering.message import MAX_QUESTION_CHARS
from bot.console.chart import day_chart
from bot.console.limits import QUESTION_DAYS, QUESTION_ROWS
from bot.console.qstats import OUTCOME_NAMES, QuestionStats
from bot.console.telegram_view import telegram_html
from bot.console.web import console, field, page, posted, who
from bot.replies.templates import TemplateError
from index.types import BulletinError

logger = logging.getLogger(__name__)


async def questions_page(request: Request) -> Response:
    user = who(request)
    c = console(request)
    stats = QuestionStats(c.settings.data_dir, c.settings.zone)
    days = await run_in_threadpool(stats.per_day, QUESTION_DAYS)
    return page(
        request,
        "questions.html",
        who=user,
        chart=day_chart(days),
        days=days,
        period=QUESTION_DAYS,
        most_asked=stats.most_asked(QUESTION_DAYS, QUESTION_ROWS),
        thumbs_down=stats.thumbs_down(QUESTION_DAYS, QUESTION_ROWS),
        lowest=stats.lowest_confidence(QUESTION_DAYS, QUESTION_ROWS),
        names=OUTCOME_NAMES,
    )


def _ask(request: Request, question: str) -> dict:
    engine = console(request).engine()
    engine.reload_index()  # a version published a moment ago answers at once
    answer = engine.ask(question)
    return {
        "question": question,
        "outcome": answer.outcome,
        "outcome_name": OUTCOME_NAMES[answer.outcome],
        "confidence": answer.confidence,
        "reason": answer.reason,
        "path": answer.path,
        "reply": telegram_html(engine.render(answer)),
        "sources": [(p.title, p.issue_date.isoformat(), p.issue_id) for p in answer.parts or answer.related],
        "version": engine.loaded.version,
        "article": next((p.article_id for p in answer.parts or answer.related), ""),  # preselected by 纠正
    }


async def try_page(request: Request) -> Response:
    return page(request, "try.html", who=who(request), max_chars=MAX_QUESTION_CHARS)


async def try_post(request: Request) -> Response:
    user, form = await posted(request)
    question = field(form, "question")[:MAX_QUESTION_CHARS]
    if not question:
        return page(request, "try.html", 400, user, error="请输入一个问题", max_chars=MAX_QUESTION_CHARS)
    try:
        result = await run_in_threadpool(_ask, request, question)
    except (BulletinError, TemplateError) as exc:
        return page(request, "try.html", 409, user, error=str(exc), question=question, max_chars=MAX_QUESTION_CHARS)
    return page(request, "try.html", who=user, result=result, question=question, max_chars=MAX_QUESTION_CHARS)


ROUTES = [
    Route("/questions", questions_page, methods=["GET"]),
    Route("/try", try_page, methods=["GET"]),
    Route("/try", try_post, methods=["POST"]),
]
