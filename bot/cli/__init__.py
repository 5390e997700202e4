"""The `bulletin-bot` command line: parse arguments, build Settings once, turn domain errors into messages.

May import: every package of bot and index (the command line sits on top).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bot.settings import SettingsError, load_settings
from index.types import BulletinError


def build_parser() -> argparse.ArgumentParser:
    from bot.cli.ask import add_ask_commands
    from bot.cli.check import add_check_command
    from bot.cli.corrections import add_corrections_commands
    from bot.cli.indexing import add_index_commands
    from bot.cli.reader import add_reader_commands
    from bot.cli.serve import add_serve_commands
    from bot.console.cli import add_console_commands

    parser = argparse.ArgumentParser(
        prog="bulletin-bot", description="Answer residents' questions from district news bulletins."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_index_commands(subparsers)
    add_ask_commands(subparsers)
    add_serve_commands(subparsers)
    add_check_command(subparsers)
    add_console_commands(subparsers)
    add_corrections_commands(subparsers)
    add_reader_commands(subparsers)
    topics = subparsers.add_parser("eval-topics", help="precision and recall of topic matching on labelled pairs")
    topics.add_argument("file", type=Path)
    topics.add_argument("--fit", action="store_true", help="also show the threshold fitted on the tune split now")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # Nothing may be fetched from a model hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "sentence_transformers", "jieba"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.WARNING)
    if args.command in ("serve", "web"):  # operators see start-up, index switches and failed reloads without -v
        for own in ("bot", "index"):
            logging.getLogger(own).setLevel(logging.INFO)
    if args.command == "check":  # reports bad settings itself, as one of its lines
        from bot.cli.check import run_check_command

        return run_check_command(args)
    try:
        settings = load_settings()
        if args.command == "index":
            from bot.cli.indexing import run_index_command

            return run_index_command(args, settings)
        if args.command == "corrections":
            from bot.cli.corrections import run_corrections_command

            return run_corrections_command(args, settings)
        if args.command == "reader":
            from bot.cli.reader import run_reader_command

            return run_reader_command(args, settings)
        if args.command == "eval-topics":
            from bot.engine import Engine
            from bot.evaluation.topic_eval import run_topic_eval

            print(run_topic_eval(Engine(settings), args.file, args.fit))
            return 0
        if args.command in ("web", "user"):
            from bot.console.cli import run_user_command, run_web_command

            return (run_web_command if args.command == "web" else run_user_command)(args, settings)
        if args.command in ("serve", "report"):
            from bot.cli.serve import run_serve_command

            return run_serve_command(args, settings)
        from bot.cli.ask import run_ask_command

        return run_ask_command(args, settings)
    except (SettingsError, BulletinError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
