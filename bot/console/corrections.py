"""Correcting an answer: pin an article's numbered sentences (固定答案), mark a question 简报未涉及, or confirm
the answer given (回答正确); and 纠正记录, the corrections with those flagged for review first."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.answering.message import MAX_QUESTION_CHARS
from bot.console.limits import CORRECTION_ARTICLE_ROWS
from bot.console.web import Who, console, field, page, posted, who
from bot.corrections.review import IndexView
from bot.corrections.store import Correction, CorrectionError
from index.types import BulletinError

logger = logging.getLogger(__name__)

KIND_NAMES = {"pinned": "固定答案", "not_covered": "简报未涉及", "confirmed": "回答正确"}
ACTIONS = ("pin", "not_covered", "confirm")


def _preselected(view: IndexView, article: str, title: str, issue: str) -> str:
    """The article to show: the one named, else the newest with the quoted title (the question log keeps
    the title and issue of the quote, not its id)."""
    if article:
        return article
    if not title:
        return ""
    found = [a for a, art in view.articles.items() if art.title == title and (not issue or art.issue_id == issue)]
    return max(found, key=lambda a: view.dates[a], default="")


def _titles(view: IndexView, words: str) -> list[tuple[str, str, str]]:
    """(article id, issue date, title) of the titles containing the words, newest first."""
    found = [(a, view.dates[a].isoformat(), art.title) for a, art in view.articles.items() if words in art.title]
    found.sort(key=lambda row: (row[1], row[2]), reverse=True)
    return found[:CORRECTION_ARTICLE_ROWS]


def _form(request: Request, question: str, article: str, words: str, ticked: list[int]) -> dict:
    """What the correction page shows: the articles found, the chosen one and its numbered sentences."""
    view = console(request).corrections().index_view()
    values: dict = {"question": question, "find": words, "ticked": set(ticked), "version": view.version}
    values["found"] = _titles(view, words) if words else []
    if article:
        if article not in view.articles:
            values["error"] = f"correction: article {article!r} is not in index version {view.version}"
        else:
            chosen = view.articles[article]
            values["article"] = (article, view.dates[article].isoformat(), chosen.title, chosen.issue_id)
            values["sentences"] = view.sentences(article)
    return values


async def correct_page(request: Request) -> Response:
    user = who(request)
    q = request.query_params
    question = q.get("q", "").strip()[:MAX_QUESTION_CHARS]
    if not question:
        return page(request, "correct.html", 400, user, error="请给出要纠正的问题（从居民提问或试问页面点“纠正”）")
    view = await run_in_threadpool(console(request).corrections().index_view)
    article = _preselected(view, q.get("article", "").strip(), q.get("title", "").strip(), q.get("issue", "").strip())
    values = await run_in_threadpool(_form, request, question, article, q.get("find", "").strip(), [])
    return page(request, "correct.html", 400 if "error" in values else 200, user, **values)


def _numbers(form: FormData) -> list[int]:
    """The ticked sentence numbers; anything but a number is refused (a pin never carries text)."""
    picked = [v for v in form.getlist("sentence") if isinstance(v, str)]
    if not all(v.strip().isdigit() for v in picked):
        raise CorrectionError("correction: sentences are given by their numbers")
    return [int(v) for v in picked]


def _apply(request: Request, user: Who, action: str, question: str, article: str, numbers: list[int]) -> Correction:
    store, name = console(request).corrections(), user.user.name
    if action == "pin":
        return store.pin(question, article, numbers, name)
    if action == "confirm":
        return store.confirm(question, article, name)
    return store.not_covered(question, name)


def describe(c: Correction) -> str:
    """One line for the audit log."""
    if c.kind == "not_covered":
        return f"#{c.id} {c.question} → 简报未涉及"
    picked = f" 句 {list(c.sentence_indices)}" if c.sentence_indices else ""
    return f"#{c.id} {c.question} → 《{c.title}》（{c.issue_date}，{c.article_id}）{picked}"


async def correct_post(request: Request) -> Response:
    user, form = await posted(request)
    question, article, action = field(form, "q")[:MAX_QUESTION_CHARS], field(form, "article"), field(form, "action")
    if action not in ACTIONS:
        return page(request, "correct.html", 400, user, error=f"未知的操作 {action[:20]!r}", question=question)
    numbers: list[int] = []
    try:
        numbers = _numbers(form)
        made = await run_in_threadpool(_apply, request, user, action, question, article, numbers)
    except BulletinError as exc:  # CorrectionError: one line naming the article, the sentence or the limit
        values = await run_in_threadpool(_form, request, question, article, field(form, "find"), numbers)
        values["error"] = str(exc)
        return page(request, "correct.html", 400, user, **values)
    console(request).audit.record(user.user.name, f"correction {made.kind}", describe(made))
    done = f"已保存纠正 #{made.id}（{KIND_NAMES[made.kind]}）：{made.question}"
    return await corrections_page(request, user, done=done)


async def corrections_page(request: Request, user: Who | None = None, status: int = 200, **values) -> Response:
    user = user or who(request)
    store = console(request).corrections()
    flagged = await run_in_threadpool(store.for_review)
    seen = {c.id for c in flagged}
    rows = flagged + [c for c in await run_in_threadpool(store.all) if c.id not in seen]
    return page(request, "corrections.html", status, user, rows=rows, kinds=KIND_NAMES, **values)


async def remove_page(request: Request) -> Response:
    user = who(request)
    wanted = request.query_params.get("id", "")
    shown = next((c for c in console(request).corrections().all() if str(c.id) == wanted), None)
    if shown is None:
        missing = f"correction {wanted[:20]!r}: no such active correction"
        return await corrections_page(request, user, 404, error=missing)
    return page(
        request,
        "confirm.html",
        who=user,
        action="/corrections/remove",
        field_name="id",
        value=str(shown.id),
        what=f"删除纠正（{KIND_NAMES[shown.kind]}：{shown.question}）",
        back="/corrections",
    )


async def remove_post(request: Request) -> Response:
    user, form = await posted(request)
    wanted = field(form, "id")
    try:
        if not wanted.isdigit():
            raise CorrectionError(f"correction {wanted[:20]!r}: no such active correction")
        removed = await run_in_threadpool(console(request).corrections().remove, int(wanted), user.user.name)
    except BulletinError as exc:
        return await corrections_page(request, user, 400, error=str(exc))
    console(request).audit.record(user.user.name, "correction remove", describe(removed))
    return await corrections_page(request, user, done=f"已删除纠正 #{removed.id}：{removed.question}")


ROUTES = [
    Route("/correct", correct_page, methods=["GET"]),
    Route("/correct", correct_post, methods=["POST"]),
    Route("/corrections", corrections_page, methods=["GET"]),
    Route("/corrections/remove", remove_page, methods=["GET"]),
    Route("/corrections/remove", remove_post, methods=["POST"]),
]
