"""`bulletin-bot serve | report`: run the Telegram bot; print the question-log report."""

from __future__ import annotations

import argparse

from bot.engine import Engine
from bot.flood import FloodLimiter
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


def make_services(settings: Settings) -> Services:
    """Everything the bot needs, from Settings."""
    return Services(settings, Engine(settings), open_log(settings), FloodLimiter(settings.flood_limit))


def run_serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run serve or report."""
    if args.command == "report":
        log = open_log(settings)
        try:
            print(format_report(log, max(1, args.days), max(1, args.top)))
        finally:
            log.close()
        return 0
    from bot.app import run

    services = make_services(settings)
    services.engine.warm_up()  # fail early, before connecting, when there is no usable index
    run(services)
    return 0
