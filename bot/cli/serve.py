"""`bulletin-bot serve | report`: run the Telegram bot; print the question-log report."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.engine import Engine
from bot.following import store as follow_store
from bot.following.store import FollowStore
from bot.log import questions as qlog
from bot.log.pseudonym import Pseudonyms
from bot.log.questions import LogReader, QuestionLog, format_report
from bot.settings import Settings
from bot.sqlite_files import open_store, read_only, reading
from bot.telegram.flood import FloodLimiter
from bot.telegram.services import Services


def add_serve_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register serve and report."""
    subparsers.add_parser("serve", help="run the Telegram bot (token from BULLETIN_TELEGRAM_TOKEN)")
    report = subparsers.add_parser("report", help="questions per day, answer rate, feedback, unanswered")
    report.add_argument("--days", type=int, default=14)
    report.add_argument("--top", type=int, default=10)


def log_path(settings: Settings) -> Path:
    return settings.data_dir / "questions.sqlite"


def follows_path(settings: Settings) -> Path:
    return settings.data_dir / "follow.sqlite"


def open_log(settings: Settings) -> tuple[QuestionLog, str | None]:
    """The question log in the data directory (its pseudonym key comes from Settings, never from a file);
    a damaged file is set aside for a fresh one, with the notice for admins."""
    key = settings.log_key.get_secret_value().encode() if settings.log_key else None
    pseudonyms = Pseudonyms(key, settings.log_key_period)
    return open_store(
        log_path(settings),
        qlog.SCHEMA,
        lambda path: QuestionLog(path, pseudonyms, settings.log_retention_days, zone=settings.zone),
    )


def open_follows(settings: Settings) -> tuple[FollowStore, str | None]:
    """The followers and the push outbox, in the data directory; a damaged file set aside as for the log."""
    return open_store(follows_path(settings), follow_store.SCHEMA, FollowStore)


def make_services(settings: Settings) -> Services:
    """Everything the bot needs, from Settings."""
    engine = Engine(settings)
    (log, log_notice), (follows, follows_notice) = open_log(settings), open_follows(settings)
    notices = [n for n in (log_notice, follows_notice) if n]
    return Services(settings, engine, log, FloodLimiter(settings.flood_limit), follows, notices=notices)


def report(settings: Settings, days: int, top: int) -> str:
    """The staff report, read through read-only connections: a locked or damaged file is one StoreError."""
    path = log_path(settings)
    db = read_only(path, qlog.SCHEMA)
    try:
        with reading(path):
            text = format_report(LogReader(db, settings.zone), days, top)
    finally:
        db.close()
    path = follows_path(settings)
    with reading(path):
        follows = FollowStore.read_only(path)
        try:
            return f"{text}\n\n{format_followers(follows)}"
        finally:
            follows.close()


def format_followers(follows: FollowStore) -> str:
    """Follower counts per topic, for the report: counts only, never a chat id."""
    counts = follows.topic_counts()
    lines = [f"followers: {follows.follower_count()} chats"]
    lines += [f"  {n:5d}  {topic}" for topic, n in counts.most_common()] or ["  (no topics followed)"]
    return "\n".join(lines)


def run_serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run serve or report."""
    if args.command == "report":
        print(report(settings, max(1, args.days), max(1, args.top)))
        return 0
    from bot.telegram.app import run

    services = make_services(settings)
    services.engine.warm_up()  # fail early, before connecting, when there is no usable index
    run(services)
    return 0
