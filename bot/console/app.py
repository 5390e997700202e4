"""The console's Starlette application: routes, sign-in and sign-out, and the error pages."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.console import corrections, issues, questions, status, template_pages, users
from bot.console.body_limit import BodyLimit
from bot.console.limits import FORM_OVERHEAD_BYTES, MAX_FORM_BYTES, SESSION_SECONDS
from bot.console.sessions import COOKIE, LOGIN_COOKIE
from bot.console.web import Console, NeedLogin, console, field, page, posted
from bot.settings import Settings

logger = logging.getLogger(__name__)

UPLOAD_PATHS = ("/upload",)


async def login_page(request: Request, message: str = "", status_code: int = 200) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request, "login.html", status_code, token=console(request).sessions.login_token(nonce), message=message
    )
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=console(request).tls(request))
    return response


async def login(request: Request) -> Response:
    c = console(request)
    form = await request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_BYTES)
    if not c.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), field(form, "csrf")):
        return await login_page(request, "登录表单已失效，请重新输入", 403)
    name = field(form, "username")
    result = await run_in_threadpool(c.accounts.login, name, str(form.get("password") or ""))
    if result.user is None:
        logger.warning("console: sign-in refused for %r (%s)", name[:40], result.message)
        return await login_page(request, result.message, 401)
    c.audit.record(result.user.name, "login")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        c.sessions.start(result.user),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=c.tls(request),
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


async def logout(request: Request) -> Response:
    who, _ = await posted(request)
    console(request).sessions.end(who.sid)
    console(request).audit.record(who.user.name, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def need_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return page(request, "error.html", exc.status_code, message=exc.detail, code=exc.status_code)


def create_app(settings: Settings) -> Starlette:
    """The console over the settings' data directory."""
    state = Console(settings)
    upload_limit = settings.max_file_bytes + FORM_OVERHEAD_BYTES

    def limit(path: str) -> int:
        return upload_limit if path in UPLOAD_PATHS else MAX_FORM_BYTES

    def too_large(limit: int) -> str:
        if limit == upload_limit:
            return f"文件过大：上限为 BULLETIN_MAX_FILE_BYTES = {settings.max_file_bytes:,} 字节；未保存任何内容"
        return f"表单过大：上限为 {MAX_FORM_BYTES:,} 字节；未保存任何内容"

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *issues.ROUTES,
        *template_pages.ROUTES,
        *questions.ROUTES,
        *corrections.ROUTES,
        *status.ROUTES,
        *users.ROUTES,
        Mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit, limit=limit, message=too_large)],
        exception_handlers={NeedLogin: need_login, HTTPException: http_error},
    )
    app.state.console = state
    return app
