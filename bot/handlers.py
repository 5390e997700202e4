"""Telegram handlers: each parses the update, calls plain code, and replies."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.answer import Answer
from bot.engine import Engine
from bot.flood import FloodLimiter
from bot.pages import article_texts
from bot.qlog import QuestionLog
from bot.reply import split_message
from bot.settings import Settings
from bot.templates import TemplateError, html_to_text
from index.types import BulletinError

logger = logging.getLogger(__name__)

VOTED = " ✓"


@dataclass
class Services:
    """What the handlers need, built once at start-up and kept in `application.bot_data`."""

    settings: Settings
    engine: Engine
    log: QuestionLog
    flood: FloodLimiter
    started_at: float = field(default_factory=time.time)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """True when the message is a reply to one of the bot's own messages."""
    original = message.reply_to_message
    return original is not None and original.from_user is not None and original.from_user.id == bot_id


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a message (or a photo's caption), or None when a group message is not meant for the bot."""
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{bot_username}".lower()
    if mention in text.lower():
        start = text.lower().index(mention)
        return (text[:start] + text[start + len(mention):]).strip()
    return text if replies_to_bot(message, bot_id) else None


def answer_keyboard(answer: Answer, log_id: int) -> InlineKeyboardMarkup:
    """原文 button(s) for the quoted articles, and 👍 / 👎 feedback."""
    rows = []
    if answer.answered:
        labels = ["原文"] if len(answer.parts) == 1 else [f"原文 {i}" for i in range(1, len(answer.parts) + 1)]
        rows.append([InlineKeyboardButton(label, callback_data=f"art:{part.article_id}:0")
                     for label, part in zip(labels, answer.parts)])
    rows.append([InlineKeyboardButton("👍", callback_data=f"fb:{log_id}:1"),
                 InlineKeyboardButton("👎", callback_data=f"fb:{log_id}:0")])
    return InlineKeyboardMarkup(rows)


async def send_html(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Reply in HTML mode, split below Telegram's limit; buttons go on the last piece."""
    chunks = split_message(text)
    for i, chunk in enumerate(chunks):
        await message.reply_html(chunk, reply_markup=markup if i == len(chunks) - 1 else None,
                                 disable_web_page_preview=True)


async def render(s: Services, name: str, **values) -> str:
    """A template rendered in a worker thread: a slow one (stopped after 2 s) holds up no one else."""
    return await asyncio.to_thread(s.engine.templates.render, name, **values)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: the greeting template."""
    s = services(context)
    await send_html(update.effective_message, await render(s, "greeting", **s.engine.overview()))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the help template."""
    s = services(context)
    await send_html(update.effective_message, await render(s, "help", **s.engine.overview()))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message: answer it from the bulletins."""
    s, message, user = services(context), update.effective_message, update.effective_user
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None or user is None:
        return
    wait, notify = s.flood.hit(user.id)
    if wait:
        if notify:  # once per flood: a notice per message would flood the chat in turn
            await send_html(message, await render(s, "flood", seconds=wait))
        return
    try:
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    except TelegramError as exc:  # only cosmetic: the answer matters more
        logger.info("could not send the typing action: %s", exc)
    started = time.perf_counter()
    answer = await asyncio.to_thread(s.engine.ask, text)  # off the event loop: others keep being served
    latency = (time.perf_counter() - started) * 1000
    lead = answer.parts[0] if answer.parts else (answer.related[0] if answer.related else None)
    log_id = s.log.record(  # only queued: a slow or failing log never holds up the reply
        user_id=user.id, chat_type=message.chat.type, question=text, answered=answer.answered,
        reason=answer.reason, top_article=lead.title if lead else None, top_issue=lead.issue_id if lead else None,
        score=answer.confidence, latency_ms=latency)
    markup = answer_keyboard(answer, log_id) if answer.reason != "empty_question" else None
    await send_html(message, await asyncio.to_thread(s.engine.render, answer), markup)


def command_for_me(message: Message, bot_username: str) -> bool:
    """True for a command in a private chat, or addressed to this bot (/cmd@this_bot) anywhere."""
    _, _, target = (message.text or "").split(maxsplit=1)[0].partition("@")
    return target.lower() == bot_username.lower() if target else message.chat.type == ChatType.PRIVATE


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: point to /help (in groups only when it names this bot)."""
    if command_for_me(update.effective_message, context.bot.username):
        await send_html(update.effective_message, await render(services(context), "unknown_command"))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photo, sticker, voice, location…: ask for a text question (in groups only when addressed)."""
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE and not replies_to_bot(message, context.bot.id):
        return
    await send_html(message, await render(services(context), "non_text"))


def article_page(engine: Engine, article_id: str, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of a full article as HTML, with previous/next buttons when it is long."""
    article = engine.article(article_id)
    if article is None:
        return "这篇文章已不在当前简报索引中。", None
    issue = engine.loaded.snapshot.issues[article.issue_id]
    texts = article_texts(article.title, f"{issue.issue_date.isoformat()} {article.source}", article.body)
    pages = len(texts)
    page = min(max(page, 0), pages - 1)
    text = texts[page]
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ 上一页", callback_data=f"pg:{article_id}:{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton("下一页 ▶", callback_data=f"pg:{article_id}:{page + 1}"))
    return text, InlineKeyboardMarkup([buttons]) if buttons else None


def ticked_vote(markup: InlineKeyboardMarkup, pressed: str) -> InlineKeyboardMarkup | None:
    """The buttons with the pressed 👍/👎 ticked and the other not; None when it already was."""
    def tick(b: InlineKeyboardButton) -> InlineKeyboardButton:
        if not (b.callback_data or "").startswith("fb:"):
            return b
        return InlineKeyboardButton(b.text.removesuffix(VOTED) + (VOTED if b.callback_data == pressed else ""),
                                    callback_data=b.callback_data)

    rows = [[tick(b) for b in row] for row in markup.inline_keyboard]
    before = [b.text for row in markup.inline_keyboard for b in row]
    return None if [b.text for row in rows for b in row] == before else InlineKeyboardMarkup(rows)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: 原文 (full article, paged) or 👍/👎 feedback."""
    s, query = services(context), update.callback_query
    kind, _, rest = (query.data or "").partition(":")
    if kind == "fb":
        log_id, _, value = rest.partition(":")
        shown = query.message.reply_markup if query.message is not None else None
        ticked = ticked_vote(shown, query.data) if shown is not None else None
        if log_id.isdigit() and (ticked is not None or shown is None):  # the same vote again is not stored again
            s.log.feedback(int(log_id), value == "1")
        await query.answer(html_to_text(await render(s, "feedback_thanks")))  # a toast shows no HTML
        if ticked is not None:
            await query.edit_message_reply_markup(ticked)
        return
    if kind in ("art", "pg"):  # art: from an answer, sent as a new message; pg: turn its page
        article_id, _, page = rest.partition(":")
        text, markup = article_page(s.engine, article_id, int(page) if page.isdigit() else 0)
        await query.answer()
        if kind == "art" and query.message is not None:
            await send_html(query.message, text, markup)
        else:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    await query.answer()


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error and answer the resident politely."""
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_html(await render(services(context), "error"))
        except Exception:  # the reply itself failed (network): the log line above is what remains
            logger.warning("could not send the error reply")


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
