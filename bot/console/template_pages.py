"""The templates page (admin): edit, 检查并保存 with the /reload check, sample replies as Telegram shows
them, and the kept versions with restore."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.telegram_view import telegram_html
from bot.console.template_store import TemplateStore
from bot.console.web import Who, console, field, page, posted, who
from bot.replies.templates import TemplateError


def _store(request: Request) -> TemplateStore:
    return TemplateStore(console(request).settings)


async def _page(request: Request, user: Who, text: str, status: int = 200, **values) -> Response:
    store = _store(request)
    replies = []
    if "problems" not in values:
        try:
            templates = await run_in_threadpool(store.check, text)
            replies = [(n, label, telegram_html(h)) for n, label, h in store.sample_replies(templates)]
        except TemplateError as exc:
            values["problems"] = str(exc).splitlines()
    return page(
        request,
        "templates.html",
        status,
        user,
        text=text,
        replies=replies,
        versions=store.versions(),
        file=store.path,
        editable=store.target is not None,
        **values,
    )


async def templates_get(request: Request) -> Response:
    user = who(request, "admin")
    return await _page(request, user, _store(request).text())


async def templates_post(request: Request) -> Response:
    user, form = await posted(request, "admin")
    text = str(form.get("text") or "").replace("\r\n", "\n")
    store = _store(request)
    if field(form, "save") != "1":
        return await _page(request, user, text, note="仅预览，未保存")
    try:
        kept = await run_in_threadpool(store.save, text)
    except TemplateError as exc:
        return await _page(request, user, text, 400, problems=str(exc).splitlines())
    console(request).audit.record(user.user.name, "template save", f"{store.path} (previous kept as {kept or 'none'})")
    return await _page(
        request, user, text, done=f"已检查并保存到 {store.path}；在 Telegram 向机器人发送 /reload 即生效"
    )


async def templates_restore(request: Request) -> Response:
    user, form = await posted(request, "admin")
    store, name = _store(request), field(form, "version")
    try:
        text = store.version_text(name)
        kept = await run_in_threadpool(store.save, text)
    except TemplateError as exc:
        return await _page(request, user, store.text(), 400, problems=str(exc).splitlines())
    console(request).audit.record(user.user.name, "template restore", f"{name} (previous kept as {kept or 'none'})")
    return await _page(request, user, text, done=f"已恢复版本 {name}；在 Telegram 向机器人发送 /reload 即生效")


ROUTES = [
    Route("/templates", templates_get, methods=["GET"]),
    Route("/templates", templates_post, methods=["POST"]),
    Route("/templates/restore", templates_restore, methods=["POST"]),
]
