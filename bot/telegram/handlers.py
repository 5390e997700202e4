"""Telegram handlers: each parses the update, calls plain code, and replies.

Routing (which handler gets which update) is in bot/telegram/app.py; button data in bot/replies/buttons.py."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.answering.message import CONVERSATIONAL
from bot.replies.buttons import answer_keyboard, decode_article, decode_vote, ticked_vote
from bot.replies.reply import split_message
from bot.replies.templates import html_to_text
from bot.telegram.addressing import addressed_text, command_for_me, replies_to_bot
from bot.telegram.flood_gate import admitted
from bot.telegram.pages import article_page
from bot.telegram.services import message_of, query_of, render, services
from telegram import InlineKeyboardMarkup, Message, Update

logger = logging.getLogger(__name__)


async def send_html(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Reply in HTML mode, split below Telegram's limit; buttons go on the last piece."""
    chunks = split_message(text)
    for i, chunk in enumerate(chunks):
        await message.reply_html(
            chunk, reply_markup=markup if i == len(chunks) - 1 else None, disable_web_page_preview=True
        )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: the greeting template."""
    s = services(context)
    await send_html(message_of(update), await render(s, "greeting", **s.engine.overview()))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the help template."""
    s = services(context)
    await send_html(message_of(update), await render(s, "help", **s.engine.overview()))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message: answer it from the bulletins."""
    s, message, user = services(context), message_of(update), update.effective_user
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None or user is None:
        return
    if not await admitted(update, context):  # counted only when meant for the bot (group chatter is not)
        return
    try:
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError as exc:  # only cosmetic: the answer matters more
        logger.info("could not send the typing action: %s", exc)
    started = time.perf_counter()
    answer = await s.engine.ask_async(text)  # off the event loop, and its LLM wait holds no thread
    latency = (time.perf_counter() - started) * 1000
    lead = answer.parts[0] if answer.parts else (answer.related[0] if answer.related else None)
    log_id = s.log.record(  # only queued: a slow or failing log never holds up the reply
        user_id=user.id,
        chat_type=message.chat.type,
        question=text,
        answered=answer.answered,
        reason=answer.reason,
        top_article=lead.title if lead else None,
        top_issue=lead.issue_id if lead else None,
        score=answer.confidence,
        latency_ms=latency,
        path=answer.path,
        prompt_version=answer.prompt_version,
    )
    markup = answer_keyboard(answer, log_id) if answer.reason not in CONVERSATIONAL else None
    await send_html(message, await asyncio.to_thread(s.engine.render, answer), markup)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: point to /help (in groups only when it names this bot)."""
    if command_for_me(message_of(update), context.bot.username) and await admitted(update, context):
        await send_html(message_of(update), await render(services(context), "unknown_command"))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photo, sticker, voice, location…: ask for a text question (in groups only when addressed)."""
    message = message_of(update)
    if message.chat.type != ChatType.PRIVATE and not replies_to_bot(message, context.bot.id):
        return
    if await admitted(update, context):
        await send_html(message, await render(services(context), "non_text"))


async def article_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """原文 under an answer: the full article's first page, as a new message."""
    query = query_of(update)
    text, markup = article_page(services(context).engine, *decode_article(query.data or ""))
    await query.answer()
    if isinstance(query.message, Message):
        await send_html(query.message, text, markup)
    else:  # a button without its message (inline mode): the article replaces it
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ 上一页 / 下一页 ▶: turn the 原文 message to that page."""
    query = query_of(update)
    text, markup = article_page(services(context).engine, *decode_article(query.data or ""))
    await query.answer()
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def vote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎: store the vote once, thank, and tick the pressed button."""
    s, query = services(context), query_of(update)
    log_id, helpful = decode_vote(query.data or "")
    shown = query.message.reply_markup if isinstance(query.message, Message) else None
    ticked = ticked_vote(shown, query.data or "") if shown is not None else None
    # stored only from the message the button is on, and not again for the same vote
    if log_id is not None and ticked is not None:
        s.log.feedback(log_id, helpful)
    await query.answer(html_to_text(await render(s, "feedback_thanks")))  # a toast shows no HTML
    if ticked is not None:
        await query.edit_message_reply_markup(ticked)


async def other_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of no known kind (an old message): stop the client's spinner."""
    await query_of(update).answer()


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error and answer the resident politely."""
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_html(await render(services(context), "error"))
        except Exception:  # the reply itself failed (network): the log line above is what remains
            logger.warning("could not send the error reply")
