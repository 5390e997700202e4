"""Pushing new issues to followers: plan the messages when the serving index gains issues, then send the
outbox within Telegram's limits (the Application's AIORateLimiter), from PTB's job queue.

Planning is a plain function (no Telegram): which issues are new to the follow store, which of their
articles match each chat's topics (all topics at once, capped: bot/following/topic_batch.py), and the message
text (template `new_issue`).
Sending moves each outbox row planned → sending → sent | failed (bot/following/store.py), so a restart
sends nothing twice; a chat that blocked the bot (403) is forgotten."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot.engine import Engine
from bot.following.store import FollowStore, OutboxRow, Planned, PushSummary, Subscription
from bot.following.topic_batch import in_priority, match_batched
from bot.following.topics import TopicMatch, issue_articles
from bot.replies.buttons import ARTICLE, article_data
from bot.replies.html_check import TELEGRAM_LIMIT
from bot.replies.reply import split_message
from bot.tuning import TOPICS
from index.manifest import describe_operation
from index.store import Snapshot
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

logger = logging.getLogger(__name__)

MAX_MATCHES, MAX_HEADLINES = 6, 20  # per message: with the limits below it stays under 4,096 characters
MAX_TITLE_CHARS, MAX_SENTENCE_CHARS = 60, 160
SHRINK_STEPS = (1, 2, 4, 8)  # the cuts above divided by these until the escaped message fits
CONCURRENCY = 3  # messages in flight at once: enough for PER_SECOND at Telegram's ~100 ms round trip
# Telegram allows about 30 messages a second per bot; the push keeps to 25, evenly (no burst), so residents'
# answers, paced by the Application's AIORateLimiter within the same 30, are not held up behind it
PER_SECOND = 25
BUTTONS_PER_ROW = 5


@dataclass(frozen=True)
class PushPlan:
    """What one planning pass decided."""

    version: str
    issues: list[str]
    messages: int


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chat_matches(sub: Subscription, by_topic: dict[str, list[TopicMatch]]) -> list[TopicMatch]:
    """The articles matching any of a chat's topics, each once (under its first topic), in issue order."""
    seen: dict[str, TopicMatch] = {}
    for topic in sub.topics:
        for match in by_topic.get(topic, []):
            seen.setdefault(match.article_id, match)
    return list(seen.values())


def compose(
    engine: Engine, snapshot: Snapshot, issue_id: str, matches: list[TopicMatch], digest: bool
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The message for one chat and issue: matched articles (title, date, topic, the matched sentence),
    then, for digest subscribers, the other headlines; a 原文 button per numbered article."""
    matches = matches[:MAX_MATCHES]
    shown = {m.article_id for m in matches}
    others = [a for a in issue_articles(snapshot, issue_id) if a not in shown] if digest else []
    numbered = [m.article_id for m in matches] + others[:MAX_HEADLINES]
    # The limits count characters before HTML escaping: titles of "<" and sentences of "&" rendered 11,267
    # characters, which Telegram refuses. The measured text is the escaped one: the cuts halve until it fits.
    for shrink in SHRINK_STEPS:
        text = engine.templates.render(
            "new_issue",
            issue_date=snapshot.issues[issue_id].dated.isoformat(),
            matches=[
                {
                    "number": i,
                    "title": _cut(m.title, MAX_TITLE_CHARS // shrink),
                    "date": m.issue_date.isoformat(),
                    "topic": m.topic,
                    "sentence": _cut(m.sentence, MAX_SENTENCE_CHARS // shrink),
                }
                for i, m in enumerate(matches, 1)
            ],
            headlines=[
                {"number": i, "title": _cut(snapshot.articles[a].title, MAX_TITLE_CHARS // shrink)}
                for i, a in enumerate(others[:MAX_HEADLINES], len(matches) + 1)
            ],
        )
        if len(text) <= TELEGRAM_LIMIT:
            break
    else:
        text = split_message(text)[0]
    return text, tuple((f"原文 {i}", article_data(ARTICLE, a, 0)) for i, a in enumerate(numbered, 1))


def plan_push(engine: Engine, store: FollowStore, clock: Callable[[], float] = time.monotonic) -> PushPlan | None:
    """Plan the messages for the issues of the serving version that no push has covered (None when there
    are none). The first version ever seen is only recorded: its issues are not news. Topic matching
    stops after TOPICS.plan_seconds (of `clock`), the topics not reached skipped and counted in the log."""
    loaded = engine.loaded
    snapshot = loaded.snapshot
    issue_ids = sorted(snapshot.issues, key=lambda i: (snapshot.issues[i].dated, i))
    if not store.announced_any():
        store.plan(loaded.version, "baseline", issue_ids, [])
        return None
    new = store.unannounced(issue_ids)
    if not new:
        return None
    subs = store.subscriptions()
    followers = Counter(t for sub in subs for t in sub.topics)
    deadline = clock() + TOPICS.plan_seconds  # for all the new issues together
    messages = []
    for issue_id in new:
        topics = in_priority(followers, issue_id)
        found = match_batched(
            loaded.retriever, engine.model, topics, issue_articles(snapshot, issue_id), deadline, clock
        )
        if found.skipped:
            skipped = set(found.skipped)
            logger.warning(
                "topic matching for issue %s stopped at the %.0f s cap (TOPICS.plan_seconds): %d of %d topics "
                "skipped, %d chats get this issue's matches for their other topics only",
                issue_id,
                TOPICS.plan_seconds,
                len(skipped),
                len(topics),
                sum(1 for sub in subs if skipped.intersection(sub.topics)),
            )
        by_topic = found.matches
        composed: dict[tuple, tuple[str, tuple[tuple[str, str], ...]]] = {}  # many chats get the same message
        for sub in subs:
            matches = chat_matches(sub, by_topic)
            if matches or sub.digest:
                key = (tuple((m.article_id, m.topic) for m in matches), sub.digest)
                if key not in composed:
                    composed[key] = compose(engine, snapshot, issue_id, matches, sub.digest)
                messages.append(Planned(issue_id, sub.chat_id, *composed[key]))
    store.plan(loaded.version, describe_operation(snapshot.manifest), new, messages)
    logger.info(
        "push planned for index version %s: %d new issue(s), %d messages", loaded.version, len(new), len(messages)
    )
    return PushPlan(loaded.version, new, len(messages))


def keyboard(buttons: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """The stored (label, data) buttons as rows of BUTTONS_PER_ROW."""
    made = [InlineKeyboardButton(label, callback_data=data) for label, data in buttons]
    rows = [made[i : i + BUTTONS_PER_ROW] for i in range(0, len(made), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows) if rows else None


async def send_one(bot: Bot, store: FollowStore, row: OutboxRow, pace: AsyncLimiter) -> bool:
    """Send one outbox message when `pace` allows, recording it before and after; False when the network
    is down (the row goes back to planned and the round stops)."""
    async with pace:
        store.mark(row.row_id, "sending")
        return await _send(bot, store, row)


async def _send(bot: Bot, store: FollowStore, row: OutboxRow) -> bool:
    message = row.planned
    try:
        await bot.send_message(
            message.chat_id,
            message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(message.buttons),
            disable_web_page_preview=True,
        )
    except Forbidden:  # blocked, or removed from the group: stop following on its behalf
        store.forget(message.chat_id)
        store.mark(row.row_id, "failed", "blocked")
        logger.info("a follower blocked the bot; unsubscribed")
    except BadRequest as exc:  # chat gone, or a message Telegram refuses: retrying will not help
        store.mark(row.row_id, "failed", str(exc)[:200])
        logger.warning("push message refused: %s", exc)
    except TimedOut:  # the request may have reached Telegram: do not send it twice
        store.mark(row.row_id, "unknown", "timed out")
    except NetworkError as exc:  # not sent: try again next round
        store.mark(row.row_id, "planned")
        logger.warning("push paused, network error: %s", exc)
        return False
    except TelegramError as exc:  # e.g. still rate-limited after the limiter's retries
        store.mark(row.row_id, "failed", str(exc)[:200])
        logger.warning("push message failed: %s", exc)
    else:
        store.mark(row.row_id, "sent")
    return True


async def send_pending(bot: Bot, store: FollowStore) -> int:
    """Send every planned message, CONCURRENCY at a time and PER_SECOND at most; return how many were
    attempted. Stops early when the network is down (the rest stay planned)."""
    attempted, online = 0, True
    pace = AsyncLimiter(1, 1 / PER_SECOND)  # a bucket of one: evenly spaced, never a burst

    async def worker(queue: asyncio.Queue[OutboxRow]) -> None:
        nonlocal attempted, online
        while online and not queue.empty():
            row = queue.get_nowait()
            attempted += 1
            online = await send_one(bot, store, row, pace) and online

    while online and (rows := store.pending()):
        queue: asyncio.Queue[OutboxRow] = asyncio.Queue()
        for row in rows:
            queue.put_nowait(row)
        await asyncio.gather(*(worker(queue) for _ in range(CONCURRENCY)))
    return attempted


async def push_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: plan a push when the serving version has new issues, send what is planned, then run again
    after BULLETIN_RELOAD_INTERVAL (chained, so two rounds never overlap)."""
    s = context.bot_data["services"]
    try:
        serving = s.engine.serving
        if serving != context.bot_data.get("push_planned_for"):  # plan once per version switch
            await asyncio.to_thread(plan_push, s.engine, s.follows)
            context.bot_data["push_planned_for"] = serving
        await send_pending(context.bot, s.follows)
    except Exception:  # the next round tries again; a stopped push job would silently end all pushes
        logger.exception("push round failed")
    finally:
        if context.job_queue is not None:
            context.job_queue.run_once(push_job, s.settings.reload_interval, name="push")


def push_line(push: PushSummary | None) -> str:
    """The last push for /status: version, operation, messages sent, failed and still to send."""
    if push is None:
        return "最近推送：无"
    c = push.counts
    return (
        f"最近推送：{push.version}（{push.operation}），已发送 {c.get('sent', 0)}，失败 {c.get('failed', 0)}，"
        f"待发送 {c.get('planned', 0) + c.get('sending', 0)}，不确定 {c.get('unknown', 0)}"
    )
