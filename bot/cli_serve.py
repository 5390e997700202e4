"""`bulletin-bot serve | report`: run the Telegram bot; print the question-log report."""

from __future__ import annotations

import argparse

from bot.engine import Engine
from bot.flood import FloodLimiter
from bot.follow_store import FollowStore
from bot.pseudonym import Pseudonyms
from bot.qlog import QuestionLog, format_report
from bot.services import Services
from bot.settings import Settings


def add_serve_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register serve and report."""
    subparsers.add_parser("serve", help="run the Telegram bot (token from BULLETIN_TELEGRAM_TOKEN)")
    report = subparsers.add_parser("report", help="questions per day, answer rate, feedback, unanswered")
    report.add_argument("--days", type=int, default=14)
    report.add_argument("--top", type=int, default=10)


def open_log(settings: Settings) -> QuestionLog:
    """The question log in the data directory; its pseudonym key comes from Settings, never from a file."""
    key = settings.log_key.get_secret_value().encode() if settings.log_key else None
    return QuestionLog(
        settings.data_dir / "questions.sqlite",
        Pseudonyms(key, settings.log_key_period),
        settings.log_retention_days,
        zone=settings.zone,
    )


def open_follows(settings: Settings) -> FollowStore:
    """The followers and the push outbox, in the data directory."""
    return FollowStore(settings.data_dir / "follow.sqlite")


def make_services(settings: Settings) -> Services:
    """Everything the bot needs, from Settings."""
    return Services(
        settings, Engine(settings), open_log(settings), FloodLimiter(settings.flood_limit), open_follows(settings)
    )


def format_followers(follows: FollowStore) -> str:
    """Follower counts per topic, for the report: counts only, never a chat id."""
    counts = follows.topic_counts()
    lines = [f"followers: {follows.follower_count()} chats"]
    lines += [f"  {n:5d}  {topic}" for topic, n in counts.most_common()] or ["  (no topics followed)"]
    return "\n".join(lines)


def run_serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run serve or report."""
    if args.command == "report":
        log, follows = open_log(settings), open_follows(settings)
        try:
            print(format_report(log, max(1, args.days), max(1, args.top)))
            print()
            print(format_followers(follows))
        finally:
            log.close()
            follows.close()
        return 0
    from bot.app import run

    services = make_services(settings)
    services.engine.warm_up()  # fail early, before connecting, when there is no usable index
    run(services)
    return 0
