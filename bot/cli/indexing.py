"""`bulletin-bot index ...`: the staff commands, a thin layer over index.builder and index.store."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from bot.answering.retrieve import HybridRetriever
from bot.settings import Settings
from bot.tuning import LINKS
from index.builder import IndexBuilder, bulletin_files
from index.embed import Embedder
from index.links import topic_links
from index.manifest import describe_operation
from index.preview import known_dates, preview_issue, preview_lines
from index.report import BuildReport, report_lines, version_history
from index.store import IndexStore
from index.types import BulletinError


def add_index_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the `index` command group."""
    index = subparsers.add_parser("index", help="build and manage the bulletin index (staff)")
    sub = index.add_subparsers(dest="index_command", required=True)
    build = sub.add_parser(
        "build", help="index every issue file (.txt .pdf .docx .html) in a folder (replaces the index)"
    )
    build.add_argument("folder", type=Path)
    add = sub.add_parser("add", help="add new issue files; unchanged issues are skipped")
    add.add_argument("files", type=Path, nargs="+")
    add.add_argument(
        "--replace",
        action="store_true",
        help="a file whose issue id is already indexed replaces that issue (else it is refused)",
    )
    preview = sub.add_parser("preview", help="show what `add FILE` would index (titles, date, repairs), index nothing")
    preview.add_argument("file", type=Path)
    preview.add_argument("--json", action="store_true")
    for p in (build, add, preview):
        p.add_argument("--date", type=date.fromisoformat, help="issue date YYYY-MM-DD (else from name/text)")
    remove = sub.add_parser("remove", help="remove one issue")
    remove.add_argument("issue")
    listing = sub.add_parser("list", help="versions, the current one, issues and counts")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--links", action="store_true", help="also: articles of different issues on one topic")
    rollback = sub.add_parser(
        "rollback", help="undo the last change (restore the current version's parent), or make VERSION current"
    )
    rollback.add_argument("version", nargs="?")
    past = sub.add_parser("history", help="the chain of versions: parent, operation, time")
    past.add_argument("--json", action="store_true")
    verify = sub.add_parser("verify", help="check that versions are complete and consistent")
    verify.add_argument("version", nargs="?")


def print_report(report: BuildReport) -> None:
    print("\n".join(report_lines(report)))


def _listing(store: IndexStore) -> dict:
    try:
        current, problem = store.current(), None
    except BulletinError as exc:
        current, problem = None, str(exc)
    versions = []
    for name in store.versions():
        try:
            m = store.manifest(name)
            versions.append(
                {
                    "version": name,
                    "current": name == current,
                    "created": m["created"],
                    "model": m["model"],
                    **m["counts"],
                    "issues_list": m.get("issues", {}),
                }
            )
        except BulletinError as exc:
            versions.append({"version": name, "current": name == current, "error": str(exc)})
    return {"current": current, "current_error": problem, "versions": versions}


def _operation(store: IndexStore, name: str) -> str:
    try:
        return describe_operation(store.manifest(name))
    except BulletinError:
        return "unknown operation"


def print_history(past: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(past, ensure_ascii=False, indent=1))
        return 0
    if not past["chain"] and not past["other"]:
        print("no index versions yet: run `bulletin-bot index build DIR`")
    for label, rows in (
        ("current chain (newest first; `rollback` steps back along it)", past["chain"]),
        ("other kept versions (undone or replaced; `rollback VERSION` restores one)", past["other"]),
    ):
        if rows:
            print(label + ":")
        for row in rows:
            mark = "*" if row["version"] == past["current"] else " "
            print(
                f"{mark} {row['version']}  parent {row['parent'] or '-'}  {row['operation']}  {row['created']}"
                + (f"  {row['error']}" if "error" in row else "")
            )
    return 0


def run_index_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `index` subcommand; BulletinError propagates to the CLI edge."""
    store = IndexStore(settings.data_dir, settings.keep_versions)
    embedder = Embedder(settings.embedding_model, settings.embedding_threads, settings.embedding_batch_size)
    builder = IndexBuilder(
        store,
        embedder,
        settings.max_file_bytes,
        parse_seconds=settings.parse_seconds,
        parse_memory_bytes=settings.parse_memory_bytes,
    )
    command = args.index_command
    if command == "preview":
        shown = preview_issue(
            args.file,
            settings.max_file_bytes,
            args.date,
            known_dates(store),
            settings.parse_seconds,
            settings.parse_memory_bytes,
        )
        print(
            json.dumps(shown.as_dict(), ensure_ascii=False, indent=1) if args.json else "\n".join(preview_lines(shown))
        )
        return 0
    if command in ("build", "add", "remove"):
        if command == "build":
            report = builder.build(bulletin_files(args.folder), args.date)
        elif command == "add":
            report = builder.add(args.files, args.date, replace=args.replace)
        else:
            report = builder.remove(args.issue)
        print_report(report)
        return 1 if report.failed_files else 0
    if command == "rollback":
        restored, left = builder.rollback(args.version)
        undone = f" (undid {_operation(store, left)} ({left}))" if args.version is None and left else ""
        print(f"rolled back: {restored} is now current{undone}")
        return 0
    if command == "history":
        return print_history(version_history(store), args.json)
    if command == "list":
        listing = _listing(store)
        if args.json:
            print(json.dumps(listing, ensure_ascii=False, indent=1))
            return 0
        if not listing["versions"]:
            print("no index versions yet: run `bulletin-bot index build DIR`")
        if listing["current_error"]:
            print(f"! {listing['current_error']}")
        for v in listing["versions"]:
            mark = "*" if v["current"] else " "
            detail = v.get("error") or (
                f"{v['issues']} issues, {v['articles']} articles, "
                f"{v['passages']} passages, model {v['model']}, {v['created']}"
            )
            print(f"{mark} {v['version']}  {detail}")
        current = next((v for v in listing["versions"] if v["current"]), None)
        for issue_id, info in (current or {}).get("issues_list", {}).items():
            print(f"    {info['date']}  {issue_id}  ({info['articles']} articles)")
        if args.links and current:
            print_links(store, embedder)
        return 0
    return verify(store, settings.embedding_model, args.version)


def print_links(store: IndexStore, embedder: Embedder) -> None:
    """The topic links answers use to prefer the newest article (older → newer, with their cosine)."""
    snapshot = store.load(model=embedder.model_name)
    rows, vectors = HybridRetriever(snapshot, embedder).article_vectors()  # article id → row of vectors
    ids = list(rows)
    dates = [snapshot.issues[snapshot.articles[a].issue_id].dated for a in ids]
    print("topic links (older → newer):")
    for link in topic_links(ids, vectors, dates, min_cosine=LINKS.min_cosine, per_article=LINKS.per_article):
        old, new = snapshot.articles[link.older], snapshot.articles[link.newer]
        print(f"    {old.issue_id} 《{old.title}》 → {new.issue_id} 《{new.title}》  {link.similarity:.2f}")


def verify(store: IndexStore, model: str, version: str | None) -> int:
    """Check one version or all, and the CURRENT pointer; 1 when anything is broken."""
    failures = 0
    for name in [version] if version else store.versions():
        try:
            snapshot = store.load(name, model=model)
            print(f"ok      {name}  {len(snapshot.passages)} passages")
        except BulletinError as exc:
            failures += 1
            print(f"BROKEN  {exc}")
    try:
        current = store.current()
        if current is None and store.versions():
            raise BulletinError(
                "CURRENT is missing although versions exist; choose one with `bulletin-bot index rollback VERSION`"
            )
        print(f"current: {current or 'none'}")
    except BulletinError as exc:
        failures += 1
        print(f"BROKEN  {exc}")
    return 1 if failures else 0
