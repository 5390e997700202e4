"""One flood budget per user for everything the bot acts on: questions, commands and button presses.

bot/telegram/flood.py counts; this module refuses the flooded. When only questions were counted, 300 /latest from one
user were all answered and delayed another user's question by 9.2 s (Telegram's 30 messages a second)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.constants import CallbackQueryLimit
from telegram.ext import ContextTypes

from bot.replies.templates import html_to_text
from bot.telegram.services import render, services
from telegram import Update

logger = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


async def admitted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Count the update against its sender's budget (an admin's too, by the account that sent it); False when
    over it, after telling them: a button press always gets a short notice on the button (no message), a
    message the flood template once per flood, later ones nothing."""
    s, user = services(context), update.effective_user
    if user is None:  # channel posts and the like carry no sender; no handler acts on them
        return True
    wait, notify = s.flood.hit(user.id)
    if not wait:
        return True
    query = update.callback_query
    if query is not None:  # stops the client's spinner; a toast is shown to the presser only
        notice = html_to_text(await render(s, "flood", seconds=wait))
        await query.answer(notice[: CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH])  # Telegram's 200
    elif notify and update.effective_message is not None:
        await update.effective_message.reply_html(await render(s, "flood", seconds=wait))
    if notify:
        logger.info("flood limit reached by user %s for %d s", s.log.user_hash(user.id), wait)
    return False


def limited(callback: Handler) -> Handler:
    """The handler, run only when its update is within the sender's budget."""

    @functools.wraps(callback)
    async def gated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await admitted(update, context):
            await callback(update, context)

    return gated
