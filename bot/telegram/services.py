"""What the Telegram handlers share: the services built at start-up, template rendering, and reload."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import ContextTypes

from bot.engine import Engine
from bot.following.store import FollowStore
from bot.log.questions import QuestionLog
from bot.replies.templates import TemplateError
from bot.settings import Settings
from bot.telegram.flood import FloodLimiter
from index.types import BulletinError
from telegram import CallbackQuery, Message, Update

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """What the handlers need, built once at start-up and kept in `application.bot_data`."""

    settings: Settings
    engine: Engine
    log: QuestionLog
    flood: FloodLimiter
    follows: FollowStore
    started_at: float = field(default_factory=time.time)
    notices: list[str] = field(default_factory=list)  # for admins once serving (a store set aside…)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services of the running application."""
    return context.bot_data["services"]


def message_of(update: Update) -> Message:
    """The update's message: message and command handlers are only routed updates that carry one."""
    message = update.effective_message
    if message is None:
        raise TypeError("a message handler got an update without a message")
    return message


def query_of(update: Update) -> CallbackQuery:
    """The update's button press: button handlers are only routed callback queries."""
    query = update.callback_query
    if query is None:
        raise TypeError("a button handler got an update without a callback query")
    return query


async def render(s: Services, name: str, **values: Any) -> str:
    """A template rendered in a worker thread: a slow one (stopped after 2 s) holds up no one else."""
    return await asyncio.to_thread(s.engine.templates.render, name, **values)


async def reload_all(s: Services) -> str:
    """Reload templates and the index; say what happened (the old ones stay on failure)."""
    notes = []
    try:
        await asyncio.to_thread(s.engine.templates.reload)  # renders every template: seconds, not milliseconds
        notes.append("模板已重新加载")
    except TemplateError as exc:
        logger.warning("templates not reloaded, the old ones stay: %s", exc)
        notes.append(f"模板未更新，继续使用旧模板：{exc}")
    try:
        changed = await asyncio.to_thread(s.engine.reload_index)
        notes.append(f"索引版本 {s.engine.loaded.version}" + ("（已切换）" if changed else "（未变化）"))
    except BulletinError as exc:
        notes.append(f"索引未切换，继续使用 {s.engine.loaded.version}：{exc}")
    return "\n".join(notes)
