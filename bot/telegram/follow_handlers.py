"""Telegram handlers for browsing issues (/latest, /issues) and following topics (/follow, /following,
/unfollow, /digest). In a group, following is for the group and only its admins may change it."""

from __future__ import annotations

import asyncio
import html
import logging
from collections import Counter

from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.following.store import clean_topic
from bot.following.topics import common_topics, issue_articles
from bot.replies.buttons import decode_rest, issue_key, issues_keyboard, titles_keyboard, topics_keyboard
from bot.telegram.handlers import send_html
from bot.telegram.services import message_of, query_of, services
from index.store import Snapshot
from telegram import Chat, Message, Update, User

logger = logging.getLogger(__name__)

RECENT_ISSUES = 10
GROUP_ADMINS_ONLY = "在群里，只有群管理员可以为本群设置关注。"
FOLLOW_USAGE = "请选择要关注的话题，或发送 /follow 话题，例如 /follow 医保："
UNFOLLOW_USAGE = "用法：/unfollow 话题（取消一个话题），/unfollow all（全部取消并删除记录）"
DIGEST_USAGE = "用法：/digest on（每期简报发布时收到全部标题）或 /digest off"
NOT_INDEXED = "这一期已不在当前简报索引中，请发送 /issues 重新选择。"


def _issue_list(snapshot: Snapshot, issue_id: str) -> tuple[str, list]:
    """Heading and article list of one issue."""
    issue = snapshot.issues[issue_id]
    articles = [snapshot.articles[a] for a in issue_articles(snapshot, issue_id)]
    return f"📰 <b>{issue.dated.isoformat()} 简报</b>，共 {len(articles)} 篇，点标题阅读全文：", articles


async def latest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest: the newest issue's date and its titles as buttons."""
    snapshot = services(context).engine.loaded.snapshot
    if not snapshot.issues:
        await send_html(message_of(update), "目前还没有收录简报。")
        return
    newest = max(snapshot.issues, key=lambda i: (snapshot.issues[i].dated, i))
    heading, articles = _issue_list(snapshot, newest)
    await send_html(message_of(update), heading, titles_keyboard(articles))


async def issues_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/issues: the recent issues as buttons."""
    snapshot = services(context).engine.loaded.snapshot
    recent = sorted(snapshot.issues, key=lambda i: (snapshot.issues[i].dated, i), reverse=True)[:RECENT_ISSUES]
    sizes = Counter(a.issue_id for a in snapshot.articles.values())
    labels = [(i, f"{snapshot.issues[i].dated.isoformat()}（{sizes[i]} 篇）") for i in recent]
    await send_html(message_of(update), "最近几期简报，点日期查看标题：", issues_keyboard(labels))


async def issue_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An issue of /issues: its titles as buttons, in place of the list."""
    query = query_of(update)
    snapshot = services(context).engine.loaded.snapshot
    key = decode_rest(query.data or "")
    issue_id = next((i for i in snapshot.issues if issue_key(i) == key), None)
    await query.answer()
    if issue_id is None:
        await query.edit_message_text(NOT_INDEXED)
        return
    heading, articles = _issue_list(snapshot, issue_id)
    await query.edit_message_text(heading, parse_mode=ParseMode.HTML, reply_markup=titles_keyboard(articles))


async def may_manage(context: ContextTypes.DEFAULT_TYPE, chat: Chat, user: User | None) -> bool:
    """True in a private chat, or for an admin of the group (asked of Telegram each time: admins change)."""
    if chat.type == ChatType.PRIVATE:
        return True
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        logger.warning("could not check group admin status: %s", exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _managed_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Message | None:
    """The command's message when its sender may change what the chat follows; otherwise says so, and None."""
    message = message_of(update)
    if await may_manage(context, message.chat, update.effective_user):
        return message
    await send_html(message, GROUP_ADMINS_ONLY)
    return None


async def keyboard_topics(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """The /follow keyboard's topics, worked out once per index version (off the event loop)."""
    loaded = services(context).engine.loaded
    cached = context.bot_data.get("follow_keyboard")
    if cached is None or cached[0] != loaded.version:
        cached = (loaded.version, await asyncio.to_thread(common_topics, loaded.snapshot))
        context.bot_data["follow_keyboard"] = cached
    return cached[1]


def _followed(topic: str, result: str) -> str:
    return {
        "added": f"已关注「{topic}」。新一期简报中有相关文章时，我会发消息告诉您。发送 /following 查看关注。",
        "known": f"您已经关注了「{topic}」。",
        "full": "关注的话题已达上限，请先用 /unfollow 取消一些。",
    }[result]


async def follow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/follow 话题: follow a topic; without one, a keyboard of common topics."""
    s, message = services(context), await _managed_message(update, context)
    if message is None:
        return
    topic = clean_topic(" ".join(context.args or []))
    if not topic:
        await send_html(message, html.escape(FOLLOW_USAGE), topics_keyboard(await keyboard_topics(context)))
        return
    await send_html(message, html.escape(_followed(topic, s.follows.follow(message.chat.id, topic))))


async def follow_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic of the /follow keyboard: follow it."""
    query = query_of(update)
    message = query.message
    topic = clean_topic(decode_rest(query.data or ""))
    if not isinstance(message, Message) or not topic:
        await query.answer()
        return
    if not await may_manage(context, message.chat, query.from_user):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    result = services(context).follows.follow(message.chat.id, topic)
    await query.answer()
    await send_html(message, html.escape(_followed(topic, result)))


async def following_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/following: the chat's topics and digest setting."""
    message = message_of(update)
    sub = services(context).follows.subscription(message.chat.id)
    if sub is None:
        text = "您还没有关注任何话题。发送 /follow 话题（例如 /follow 医保）开始关注。"
    else:
        topics = "、".join(f"「{t}」" for t in sub.topics) or "（无）"
        text = (
            f"关注的话题：{topics}\n每期标题推送：{'开' if sub.digest else '关'}\n取消：/unfollow 话题 或 /unfollow all"
        )
    await send_html(message, html.escape(text))


async def unfollow_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unfollow 话题 | all: stop following one topic, or everything (the chat's record is deleted)."""
    s, message = services(context), await _managed_message(update, context)
    if message is None:
        return
    topic = clean_topic(" ".join(context.args or []))
    if not topic:
        text = UNFOLLOW_USAGE
    elif topic.lower() == "all":
        s.follows.forget(message.chat.id)
        text = "已取消全部关注，并删除了您的关注记录。"
    elif s.follows.unfollow(message.chat.id, topic):
        text = f"已取消关注「{topic}」。"
    else:
        text = f"您没有关注「{topic}」。发送 /following 查看关注。"
    await send_html(message, html.escape(text))


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/digest on|off: every new issue's headlines, or not."""
    s, message = services(context), await _managed_message(update, context)
    if message is None:
        return
    choice = (context.args or [""])[0].lower()
    if choice not in ("on", "off"):
        await send_html(message, html.escape(DIGEST_USAGE))
        return
    s.follows.set_digest(message.chat.id, choice == "on")
    text = "已开启：每期简报发布时，我会发来全部标题。" if choice == "on" else "已关闭每期标题推送。"
    await send_html(message, html.escape(text))
