"""`bulletin-bot corrections list | articles | sentences | pin | not-covered | confirm | remove | export | fit`."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from bot.corrections.export import export
from bot.corrections.store import FILE_NAME, Correction, CorrectionError, CorrectionStore
from bot.settings import Settings


def add_corrections_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `corrections` and its subcommands."""
    parser = subparsers.add_parser("corrections", help="staff corrections of answers (pin, not covered, confirm)")
    commands = parser.add_subparsers(dest="corrections_command", required=True)
    listing = commands.add_parser("list", help="the active corrections, and which need review")
    listing.add_argument("--review", action="store_true", help="only those flagged for review (not served)")
    articles = commands.add_parser("articles", help="the current index's article ids, dates and titles")
    articles.add_argument("words", nargs="?", default="", help="only titles containing these characters")
    sentences = commands.add_parser("sentences", help="an article's sentences with the numbers a pin names")
    sentences.add_argument("article")
    pin = commands.add_parser("pin", help="answer a question with sentences of an article")
    pin.add_argument("question")
    pin.add_argument("--article", required=True, help="article id (see `corrections articles`)")
    pin.add_argument("--sentences", required=True, help="sentence numbers, e.g. 0,2")
    not_covered = commands.add_parser("not-covered", help="the bulletins do not answer this question (简报未涉及)")
    not_covered.add_argument("question")
    confirm = commands.add_parser("confirm", help="the answer given from this article is right")
    confirm.add_argument("question")
    confirm.add_argument("--article", required=True)
    remove = commands.add_parser("remove", help="stop serving a correction (its record is kept)")
    remove.add_argument("id", type=int)
    for command in (pin, not_covered, confirm, remove):
        command.add_argument("--user", default=None, help="who makes the correction (default: the login name)")
    exporting = commands.add_parser("export", help="write the corrections as labelled questions (eval format)")
    exporting.add_argument("file", type=Path)
    fitting = commands.add_parser("fit", help="the matching threshold's figures on labelled question sets")
    fitting.add_argument("--tune", type=Path, nargs="+", required=True, help="questions files the threshold is set on")
    fitting.add_argument("--held", type=Path, nargs="*", default=[], help="questions files only measured")


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise CorrectionError(
            f"correction: --sentences {text!r}: give sentence numbers separated by commas, e.g. 0,2"
        ) from None


def describe(c: Correction) -> str:
    """One correction in two lines for the terminal."""
    head = f"#{c.id} {c.kind:<11} {c.question}"
    if c.kind == "not_covered":
        detail = "简报未涉及"
    else:
        detail = f"《{c.title}》 {c.issue_date} [{c.article_id}] sentences {list(c.sentence_indices)}"
    review = f"\n     ⚠ review: {c.review}" if c.review else ""
    return f"{head}\n     {detail}; by {c.user} {c.created_at}{review}"


def run_corrections_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run one corrections subcommand; CorrectionError (a BulletinError) reaches the CLI edge."""
    store = CorrectionStore(settings.data_dir / FILE_NAME)
    try:
        return _run(args, settings, store)
    finally:
        store.close()


def _run(args: argparse.Namespace, settings: Settings, store: CorrectionStore) -> int:
    command = args.corrections_command
    user = getattr(args, "user", None) or getpass.getuser()
    if command == "list":
        flagged = {c.id: c for c in store.for_review()}
        shown = list(flagged.values()) if args.review else [flagged.get(c.id, c) for c in store.all()]
        print("\n".join(describe(c) for c in shown) or "(no corrections)")
        return 0
    if command == "articles":
        view = store.index_view()
        found = sorted(
            (view.dates[a], a, article.title) for a, article in view.articles.items() if args.words in article.title
        )
        print("\n".join(f"{a}  {d}  {title}" for d, a, title in found) or f"(no title contains {args.words!r})")
        return 0
    if command == "sentences":
        view = store.index_view()
        sentences = view.sentences(args.article)
        if not sentences:
            raise CorrectionError(f"article {args.article!r} is not in index version {view.version}")
        print(f"《{view.articles[args.article].title}》 ({view.dates[args.article]})")
        print("\n".join(f"{s.index:>3}  {s.text}" for s in sentences))
        return 0
    if command == "pin":
        print(describe(store.pin(args.question, args.article, _numbers(args.sentences), user)))
    elif command == "not-covered":
        print(describe(store.not_covered(args.question, user)))
    elif command == "confirm":
        print(describe(store.confirm(args.question, args.article, user)))
    elif command == "remove":
        print(f"removed: {describe(store.remove(args.id, user))}")
    elif command == "export":
        left_out = {c.id for c in store.for_review()}
        written = export([c for c in store.all() if c.id not in left_out], args.file)
        left = f"; {len(left_out)} flagged for review left out (`corrections list --review`)" if left_out else ""
        print(f"{written} labelled questions written to {args.file}{left}")
    elif command == "fit":
        from bot.evaluation.corrections_fit import fit
        from index.embed import Embedder

        embedder = Embedder(settings.embedding_model, settings.embedding_threads, settings.embedding_batch_size)
        _, report = fit(store.index_view(), embedder, args.tune, args.held)
        print(report)
    return 0
