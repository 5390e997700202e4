"""The admin pages for accounts and the audit log."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.accounts import ROLES, AccountError
from bot.console.web import Who, console, field, page, posted, who


def users_page(request: Request, user: Who | None = None, status: int = 200, **values) -> Response:
    user = user or who(request, "admin")
    rows = sorted(console(request).accounts.list(), key=lambda r: r[0].name)
    now = time.time()
    shown = [(u, time.strftime("%H:%M", time.localtime(until)) if until > now else "") for u, until in rows]
    return page(request, "users.html", status, user, rows=shown, roles=ROLES, **values)


async def users_get(request: Request) -> Response:
    return users_page(request)


async def user_add(request: Request) -> Response:
    user, form = await posted(request, "admin")
    c = console(request)
    name, role = field(form, "name"), field(form, "role")
    try:
        await run_in_threadpool(c.accounts.add, name, role, str(form.get("password") or ""))
    except AccountError as exc:
        return users_page(request, user, 400, error=str(exc))
    c.audit.record(user.user.name, "user add", f"{name} ({role})")
    return users_page(request, user, done=f"已添加账户 {name}（{role}）")


async def user_remove(request: Request) -> Response:
    user, form = await posted(request, "admin")
    c = console(request)
    name = field(form, "name")
    if name == user.user.name:
        return users_page(request, user, 400, error="不能删除自己正在使用的账户")
    try:
        c.accounts.remove(name)
    except AccountError as exc:
        return users_page(request, user, 400, error=str(exc))
    c.audit.record(user.user.name, "user remove", name)
    return users_page(request, user, done=f"已删除账户 {name}")


async def audit_page(request: Request) -> Response:
    user = who(request, "admin")
    entries = console(request).audit.entries()
    zone = console(request).settings.zone
    from datetime import datetime

    rows = [(datetime.fromtimestamp(e.at, zone).strftime("%Y-%m-%d %H:%M:%S"), e) for e in entries]
    return page(request, "audit.html", who=user, rows=rows)


ROUTES = [
    Route("/users", users_get, methods=["GET"]),
    Route("/users/add", user_add, methods=["POST"]),
    Route("/users/remove", user_remove, methods=["POST"]),
    Route("/audit", audit_page, methods=["GET"]),
]
