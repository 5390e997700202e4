"""The issue pages: upload → preview → 发布 (the same code path as `index add`), the issue list with
remove, and the version chain with rollback behind a confirmation."""

from __future__ import annotations

import logging
from datetime import date

from filelock import Timeout
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.jobs import LOCK_HELD
from bot.console.web import Who, console, field, page, posted, who
from index.preview import known_dates, preview_issue
from index.report import report_lines, version_history
from index.types import BulletinError

logger = logging.getLogger(__name__)


def _issues(request: Request) -> tuple[str | None, list[tuple[str, dict]], str]:
    """The current version, its issues (newest first) and why they could not be read, if so."""
    store = console(request).store
    try:
        current = store.current()
        issues = store.manifest(current).get("issues", {}) if current else {}
    except BulletinError as exc:
        return None, [], str(exc)
    return current, sorted(issues.items(), key=lambda kv: kv[1]["date"], reverse=True), ""


def home(request: Request, user: Who | None = None, status: int = 200, **values) -> Response:
    current_user = user or who(request)
    current, issues, problem = _issues(request)
    values.setdefault("error", problem)
    max_bytes = console(request).settings.max_file_bytes
    return page(
        request, "home.html", status, current_user, current=current, issues=issues, max_bytes=max_bytes, **values
    )


async def home_page(request: Request) -> Response:
    return home(request)


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BulletinError(f"日期 {text!r} 的格式应为 YYYY-MM-DD（例如 2023-02-06）") from None


async def _preview(request: Request, user: Who, upload_id: str, when: str, status: int = 200) -> Response:
    c = console(request)
    path = c.uploads.path(user.sid, upload_id)
    shown = await run_in_threadpool(preview_issue, path, c.settings.max_file_bytes, _date(when), known_dates(c.store))
    return page(request, "preview.html", status, user, shown=shown, upload_id=upload_id, chosen_date=when)


async def upload(request: Request) -> Response:
    user, form = await posted(request, max_files=1)
    sent = form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return home(request, user, 400, error="请选择简报文件（PDF、DOCX、HTML 或 TXT）")
    content = await sent.read()
    c = console(request)
    if len(content) > c.settings.max_file_bytes:  # the body limit allows for the form around the file
        return home(
            request,
            user,
            413,
            error=f"{sent.filename}: 文件过大，上限为 BULLETIN_MAX_FILE_BYTES = {c.settings.max_file_bytes:,} 字节",
        )
    upload_id, _ = c.uploads.save(user.sid, sent.filename, content)
    try:
        return await _preview(request, user, upload_id, field(form, "date"))
    except BulletinError as exc:
        c.uploads.discard(upload_id)
        return home(request, user, 400, error=str(exc))


async def repreview(request: Request) -> Response:
    user, form = await posted(request)
    try:
        return await _preview(request, user, field(form, "upload"), field(form, "date"))
    except BulletinError as exc:
        return home(request, user, 400, error=str(exc))


async def publish(request: Request) -> Response:
    """Start indexing the upload as `index add` does; the browser follows the job's page."""
    user, form = await posted(request)
    c = console(request)
    upload_id, replace = field(form, "upload"), field(form, "replace") == "1"
    try:
        path = c.uploads.path(user.sid, upload_id)
        when = _date(field(form, "date"))
    except BulletinError as exc:
        return home(request, user, 400, error=str(exc))

    def work() -> tuple[list[str], bool]:
        report = c.builder().add([path], when, replace=replace)
        lines = report_lines(report)
        if report.changed:
            c.audit.record(user.user.name, "publish", f"version {report.version}: {path.name} " + lines[-1].strip())
        if not report.failed_files:
            c.uploads.discard(upload_id)
        return lines, bool(report.failed_files)

    job = c.jobs.start(user.sid, f"publish {path.name}", work)
    return RedirectResponse(f"/jobs/{job}", status_code=303)


async def job_page(request: Request) -> Response:
    user = who(request)
    job = console(request).jobs.get(user.sid, request.path_params["job"])
    if job is None:
        return home(request, user, 404, error="没有这个发布任务（或它属于另一个会话）")
    if job.finished is None:
        return page(request, "job.html", who=user, job=job)
    if job.error:
        logger.warning("console: %s refused: %s", job.label, job.error)
        return home(request, user, 409 if job.error == LOCK_HELD else 400, error=job.error)
    return home(request, user, 400 if job.failed else 200, report=job.lines, failed=job.failed)


async def remove_page(request: Request) -> Response:
    user = who(request)
    return page(
        request,
        "confirm.html",
        who=user,
        action="/issues/remove",
        field_name="issue",
        value=request.query_params.get("issue", ""),
        what="移除这一期简报（生成一个不含它的新版本，可回滚）",
    )


async def remove(request: Request) -> Response:
    user, form = await posted(request)
    c = console(request)
    issue = field(form, "issue")
    try:
        report = await run_in_threadpool(lambda: c.builder().remove(issue))
    except BulletinError as exc:
        return home(request, user, 400, error=str(exc))
    c.audit.record(user.user.name, "remove", f"version {report.version}: removed {issue}")
    return home(request, user, report=report_lines(report))


async def history_page(request: Request, user: Who | None = None, **values) -> Response:
    user = user or who(request)
    c = console(request)
    past = await run_in_threadpool(version_history, c.store)
    return page(request, "history.html", who=user, past=past, users=c.audit.version_users(), **values)


async def rollback_page(request: Request) -> Response:
    user = who(request, "admin")
    version = request.query_params.get("version", "")
    what = f"让版本 {version} 成为当前版本" if version else "撤销上一次更改（恢复当前版本的上一版本）"
    return page(request, "confirm.html", who=user, action="/rollback", field_name="version", value=version, what=what)


async def rollback(request: Request) -> Response:
    user, form = await posted(request, "admin")
    c = console(request)
    try:
        restored, left = await run_in_threadpool(lambda: c.builder().rollback(field(form, "version") or None))
    except Timeout:
        return await history_page(
            request, user, error="another index command is running (lock held); try again when it ends"
        )
    except BulletinError as exc:
        return await history_page(request, user, error=str(exc))
    c.audit.record(user.user.name, "rollback", f"{restored} is now current (was {left})")
    return await history_page(request, user, done=f"已回滚：{restored} 现为当前版本（原为 {left}）")


ROUTES = [
    Route("/", home_page, methods=["GET"]),
    Route("/upload", upload, methods=["POST"]),
    Route("/preview", repreview, methods=["POST"]),
    Route("/publish", publish, methods=["POST"]),
    Route("/jobs/{job}", job_page, methods=["GET"]),
    Route("/issues/remove", remove_page, methods=["GET"]),
    Route("/issues/remove", remove, methods=["POST"]),
    Route("/history", history_page, methods=["GET"]),
    Route("/rollback", rollback_page, methods=["GET"]),
    Route("/rollback", rollback, methods=["POST"]),
]
