"""What every console page shares: the console's state, page rendering, and the login/role/CSRF guard."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.console.accounts import Accounts, User
from bot.console.audit import AuditLog
from bot.console.jobs import Jobs
from bot.console.limits import INDEX_LOCK_SECONDS, MAX_FORM_BYTES
from bot.console.sessions import COOKIE, Sessions, same_token, session_key
from bot.console.store import ConsoleDB
from bot.console.uploads import Uploads
from bot.corrections.store import FILE_NAME as CORRECTIONS_FILE
from bot.corrections.store import CorrectionStore
from bot.settings import Settings
from index.store import IndexStore

logger = logging.getLogger(__name__)

PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "pages"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


class NeedLogin(Exception):
    """No valid session: a page sends the browser to the login page."""


@dataclass(frozen=True)
class Who:
    sid: str
    user: User
    csrf: str


class Console:
    """The console's state: its database, the index store, and (loaded on first use) the engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = ConsoleDB(settings.data_dir)
        self.accounts = Accounts(self.db)
        self.sessions = Sessions(self.db, session_key(settings.data_dir))
        self.audit = AuditLog(self.db)
        self.uploads = Uploads(self.db, settings.data_dir)
        self.jobs = Jobs()
        self.store = IndexStore(settings.data_dir, settings.keep_versions)
        self._engine: Any = None
        self._embedder: Any = None
        self._corrections: CorrectionStore | None = None
        self._lock = threading.Lock()

    def embedder(self):
        """The embedding model of the settings (loaded on first use), shared by publishing and 试问."""
        with self._lock:
            if self._embedder is None:
                from index.embed import Embedder

                s = self.settings
                self._embedder = Embedder(s.embedding_model, s.embedding_threads, s.embedding_batch_size)
            return self._embedder

    def corrections(self) -> CorrectionStore:
        """The corrections file the bot reads (opened on first use); a write reaches a running bot at once."""
        with self._lock:
            if self._corrections is None:
                self._corrections = CorrectionStore(self.settings.data_dir / CORRECTIONS_FILE)
            return self._corrections

    def engine(self):
        """The answer engine over the current index, as `ask` builds it; TemplateError if the templates fail."""
        embedder = self.embedder()
        with self._lock:
            if self._engine is None:
                from bot.engine import Engine

                engine = Engine(self.settings)
                engine.embedder = embedder
                self._engine = engine
            return self._engine

    def builder(self):
        """An IndexBuilder as `index add` makes it, sharing the engine's embedding model; it waits only
        briefly for another index command, then refuses with the CLI's message."""
        from index.builder import IndexBuilder

        return IndexBuilder(self.store, self.embedder(), self.settings.max_file_bytes, lock_timeout=INDEX_LOCK_SECONDS)

    def tls(self, request: Request) -> bool:
        """Did the browser reach us over TLS? X-Forwarded-Proto counts only from a configured proxy."""
        client = request.client.host if request.client else ""
        if client in self.settings.web_trusted_proxies:
            return request.headers.get("x-forwarded-proto", "").lower() == "https"
        return request.url.scheme == "https"


def console(request: Request) -> Console:
    return request.app.state.console


def page(request: Request, name: str, status: int = 200, who: Who | None = None, **values: Any) -> HTMLResponse:
    """A page of the console's layout; every value is escaped unless a template marks it safe."""
    html = PAGES.get_template(name).render(who=who, path=request.url.path, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    # the console loads nothing from elsewhere and runs no inline script: a page that escaped badly still cannot run one
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def who(request: Request, role: str = "staff") -> Who:
    """The signed-in user, if their role allows this page; NeedLogin or 403 otherwise."""
    found = console(request).sessions.resolve(request.cookies.get(COOKIE))
    if found is None:
        raise NeedLogin()
    current = Who(*found)
    if role == "admin" and not current.user.admin:
        raise HTTPException(403, "此页面仅限管理员（admin）使用")
    return current


async def posted(request: Request, role: str = "staff", max_files: int = 0) -> tuple[Who, FormData]:
    """A POSTed form of the signed-in user, with a valid CSRF token of their session; 403 otherwise."""
    found = console(request).sessions.resolve(request.cookies.get(COOKIE))
    form = await request.form(max_files=max_files, max_fields=50, max_part_size=MAX_FORM_BYTES)
    if found is None:
        raise HTTPException(403, "未登录或会话已过期，请重新登录")
    current = Who(*found)
    token = form.get("csrf")
    if not same_token(current.csrf, token if isinstance(token, str) else None):
        logger.warning("console: refused a form without a valid CSRF token (%s %s)", request.method, request.url.path)
        raise HTTPException(403, "表单校验失败（CSRF 令牌无效或来自另一个会话）；请回到页面重新提交")
    if role == "admin" and not current.user.admin:
        raise HTTPException(403, "此操作仅限管理员（admin）")
    return current, form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
