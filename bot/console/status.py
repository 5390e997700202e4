"""The status page: index version and issues, last build, the running bot, followers, last push, the log."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.qstats import QuestionStats
from bot.console.web import Console, console, page, who
from bot.following.push import push_line
from bot.following.store import PushSummary
from bot.running import running_since
from bot.settings import local_time
from index.types import BulletinError


def _facts(c: Console) -> list[tuple[str, str]]:
    zone, data = c.settings.zone, c.settings.data_dir
    facts: list[tuple[str, str]] = []
    try:
        current = c.store.current()
        manifest = c.store.manifest(current) if current else {}
        counts = manifest.get("counts", {})
        facts += [
            ("当前索引版本", current or "（尚无索引）"),
            (
                "期数 / 文章 / 段落",
                f"{counts.get('issues', 0)} / {counts.get('articles', 0)} / {counts.get('passages', 0)}",
            ),
            ("最近构建", f"{local_time(manifest.get('created'), zone)}，模型 {manifest.get('model', '—')}"),
        ]
    except BulletinError as exc:
        facts.append(("当前索引版本", f"无法读取：{exc}"))
    started = running_since(data)
    facts.append(
        (
            "机器人",
            f"运行中，启动于 {datetime.fromtimestamp(started, zone):%Y-%m-%d %H:%M:%S}" if started else "未在运行",
        )
    )
    facts += _follow_facts(data / "follow.sqlite")
    health = QuestionStats(data, zone).health()
    if not health["exists"]:
        log = "尚无提问"
    elif "error" in health:
        log = f"无法读取：{health['error']}"
    else:
        log = (
            f"{health['rows']} 条，最新 {health['newest'] or '—'}，{health['bytes']:,} 字节，"
            f"完整性检查：{health['check']}"
        )
    facts.append(("问题日志", log))
    return facts


def _follow_facts(path: Path) -> list[tuple[str, str]]:
    """Followers and the last push, read without opening FollowStore (which settles in-flight rows: the bot's job)."""
    if not path.exists():
        return [("关注者", "0 个聊天（尚无关注）"), ("推送", push_line(None))]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        followers = db.execute("SELECT COUNT(*) FROM followers").fetchone()[0]
        row = db.execute(
            "SELECT version, operation, issues, sent, failed, unknown FROM pushes ORDER BY planned_at DESC LIMIT 1"
        ).fetchone()
        push = None
        if row:
            version, operation, issues, sent, failed, unknown = row
            waiting = db.execute(
                "SELECT state, COUNT(*) FROM outbox WHERE version = ? AND state IN ('planned', 'sending')"
                " GROUP BY state",
                (version,),
            ).fetchall()
            counts = {"sent": sent, "failed": failed, "unknown": unknown} | dict(waiting)
            push = PushSummary(version, operation, tuple(json.loads(issues)), {k: n for k, n in counts.items() if n})
    except (sqlite3.Error, ValueError) as exc:
        return [("关注者", f"无法读取 {path.name}：{exc}")]
    finally:
        db.close()
    return [("关注者", f"{followers} 个聊天"), ("推送", push_line(push))]


async def status_page(request: Request) -> Response:
    user = who(request)
    facts = await run_in_threadpool(_facts, console(request))
    return page(request, "status.html", who=user, facts=facts)


ROUTES = [Route("/status", status_page, methods=["GET"])]
