"""Admin-only commands: /reload, /status, /unanswered, /preview. Everyone else is refused and logged."""

from __future__ import annotations

import asyncio
import html
import logging
import sqlite3
import time

from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.answering.answer import Answer
from bot.engine import Judges
from bot.following.push import push_line
from bot.replies.buttons import ascii_number
from bot.settings import local_time
from bot.telegram.handlers import send_html
from bot.telegram.services import message_of, reload_all, render, services
from telegram import Update

logger = logging.getLogger(__name__)

PRIVATE_ONLY = "此命令会显示居民的提问，请在与我的私聊中使用。"
PREVIEW_USAGE = "用法：/preview 问题，例如 /preview 医保能在网上办吗"


async def refuse_unless_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for an admin; otherwise reply politely, log the attempt and return False.

    The sender is the account that sent this message: a forwarded admin message does not count."""
    s, user, message = services(context), update.effective_user, message_of(update)
    if user is not None and user.id in s.settings.admin_ids and message.forward_origin is None:
        return True
    command = (message.text or "").split()[0] if message.text else "?"
    logger.warning(
        "refused admin command %s from user %s in %s chat",
        command,
        s.log.user_hash(user.id) if user else "unknown",
        message.chat.type,
    )
    await send_html(message, await render(s, "not_admin"))
    return False


async def refuse_unless_admin_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """For commands showing residents' questions: True only for an admin in a private chat with the bot."""
    if not await refuse_unless_admin(update, context):
        return False
    if message_of(update).chat.type == ChatType.PRIVATE:
        return True
    await send_html(message_of(update), PRIVATE_ONLY)  # a group would see residents' questions
    return False


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: templates and index, at once."""
    if await refuse_unless_admin(update, context):
        await send_html(message_of(update), html.escape(await reload_all(services(context))))


async def questions_today(s) -> int | str:
    """Today's count, or '?' while the log cannot be read (a staff member holding a lock on it)."""
    try:
        return await asyncio.to_thread(s.log.questions_today)
    except sqlite3.Error as exc:
        logger.warning("question log not readable for /status: %s", exc)
        return "?"


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: index version, issues, articles, last build, uptime, questions today."""
    if not await refuse_unless_admin(update, context):
        return
    s = services(context)
    loaded = s.engine.loaded
    manifest = loaded.snapshot.manifest
    uptime, zone = int(time.time() - s.started_at), s.settings.zone
    lines = [
        f"索引版本：{loaded.version}（磁盘上的当前版本：{s.engine.store.pointer_text()}）",
        f"期数：{len(loaded.snapshot.issues)}，文章：{len(loaded.snapshot.articles)}，"
        f"段落：{len(loaded.snapshot.passages)}",
        f"最近构建：{local_time(manifest.get('created'), zone)}，模型：{manifest.get('model', '?')}",
        f"运行时间：{uptime // 3600}小时{uptime % 3600 // 60}分（启动于 {local_time(s.started_at, zone)}）",
        f"今日提问：{await questions_today(s)}，问题日志写入失败：{s.log.failures} 次",
        f"关注者：{s.follows.follower_count()} 个聊天",
        push_line(s.follows.last_push()),
        f"时间：{local_time(time.time(), zone)}（{zone.key}）",
    ] + judge_lines(s.engine.judges)
    await send_html(message_of(update), html.escape("\n".join(lines)))


def judge_lines(judges: Judges) -> list[str]:
    """/status lines for the optional judges: how often the LLM was asked and fell back, which reranker."""
    lines = []
    if judges.selector:
        sel = judges.selector
        last = f"（最近一次：{sel.last_failure}）" if sel.last_failure else ""
        lines.append(
            f"LLM 选句：{sel.model}，提示词版本 {sel.prompt.version}，询问 {sel.calls} 次，"
            f"回退离线判断 {sel.failures} 次{last}"
        )
    if judges.reranker:
        lines.append(f"重排模型：{judges.reranker.folder}，阈值 {judges.reranker.threshold:g}")
    if judges.reader:
        lines.append(f"本地阅读模型：{judges.reader.status_zh()}")
    return lines


async def unanswered_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unanswered [n]: the most frequent questions that got the no-answer reply."""
    if not await refuse_unless_admin_in_private(update, context):
        return
    args = context.args or []
    asked = ascii_number(args[0]) if args else None
    limit = min(asked, 50) if asked else 10
    rows = await asyncio.to_thread(services(context).log.unanswered, limit)
    text = "\n".join(f"{n} × {q}" for q, n in rows) or "最近没有未能回答的问题。"
    await send_html(message_of(update), html.escape(text))


async def preview_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/preview 问题: the answer as the current templates render it (not logged)."""
    if not await refuse_unless_admin_in_private(update, context):
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await send_html(message_of(update), html.escape(PREVIEW_USAGE))
        return
    s = services(context)
    answer = await s.engine.ask_async(question)
    reply = await asyncio.to_thread(s.engine.render, answer)
    await send_html(message_of(update), f"{reply}\n\n<i>{html.escape(preview_line(answer))}</i>")


def preview_line(answer: Answer) -> str:
    """One line for admins: how the engine decided, and from which article(s)."""
    quoted = "；".join(f"《{p.title}》（{p.issue_date.isoformat()}）" for p in answer.parts or answer.related) or "无"
    return (
        f"结果：{answer.outcome}，置信度：{answer.confidence:.2f}，原因：{answer.reason}，判断：{answer.path}，"
        f"引用：{quoted}"
    )
