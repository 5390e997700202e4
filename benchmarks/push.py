"""Pushing a new issue to many followers through the real Application and AIORateLimiter, against the
fake Bot API of the tests (tests/fake_telegram.py, on 127.0.0.1).

    .venv/bin/python -m benchmarks.push --followers 2000

Builds an index of the bundled issues in benchmarks/out/push/, makes N followers (all follow 医保, every
fourth also the headlines), adds tests/data/2023-03-27.txt while the bot serves, and measures the time to
plan (match topics, render, write the outbox) and to send, the messages per second held and the most
sent in any one second (Telegram allows about 30). Writes benchmarks/push_results.json and its section of
RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.sections import write_results
from bot.app import build_application
from bot.cli_serve import make_services
from bot.settings import load_settings
from index.builder import IndexBuilder, bulletin_files
from index.embed import Embedder
from index.store import IndexStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
from fake_telegram import FakeBotApi  # noqa: E402 (the tests' fake server, found through the path above)

TOKEN = "123456:benchmark-token"
ISSUE = REPO / "tests" / "data" / "2023-03-27.txt"
HEADING = "## Pushing a new issue to followers"
PUSH_RESULTS = HERE / "push_results.json"


def most_in_one_second(times: list[float]) -> int:
    """The most messages sent within any one-second window."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def measure(followers: int, out: Path) -> dict:
    data = out / "data"
    shutil.rmtree(out, ignore_errors=True)
    embedder = Embedder("use-m3", threads=2)
    IndexBuilder(IndexStore(data, 5), embedder, 5_000_000).build(bulletin_files(REPO / "samples" / "bulletins"))
    api = FakeBotApi(TOKEN).start()
    settings = load_settings(
        data_dir=data, telegram_token=TOKEN, telegram_base_url=api.base_url, reload_interval=0.5, embedding_threads=2
    )
    services = make_services(settings)
    services.engine.embedder = embedder
    for chat_id in range(10_000, 10_000 + followers):
        services.follows.follow(chat_id, "医保")
        if chat_id % 4 == 0:
            services.follows.set_digest(chat_id, True)
    app = build_application(services)
    await app.initialize()
    await app.post_init(app)
    await app.start()
    try:
        while not services.follows.announced_any():
            await asyncio.sleep(0.05)
        await asyncio.to_thread(IndexBuilder(IndexStore(data, 5), embedder, 5_000_000).add, [ISSUE])
        version = IndexStore(data, 5).current()
        while services.engine.serving != version:
            await asyncio.sleep(0.02)
        switched = time.monotonic()
        while (push := services.follows.last_push()) is None or push.version != version:
            await asyncio.sleep(0.02)
        planned = time.monotonic()
        while services.follows.pending() or (push := services.follows.last_push()).counts.get("sending"):
            await asyncio.sleep(0.1)
        done = time.monotonic()
    finally:
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()
        api.stop()
    times = [t for (method, _), t in zip(api.calls, api.times) if method == "sendMessage" and t >= planned]
    sent = push.counts.get("sent", 0)
    return {
        "followers": followers,
        "messages": sent,
        "failed": push.counts.get("failed", 0),
        "plan_s": round(planned - switched, 2),
        "send_s": round(done - planned, 1),
        "per_second": round(sent / (times[-1] - times[0]), 1) if len(times) > 1 else 0.0,
        "max_in_one_second": most_in_one_second(times),
    }


def push_section() -> str:
    """The RESULTS.md section for the saved push measurement ('' when there is none)."""
    if not PUSH_RESULTS.exists():
        return ""
    result = json.loads(PUSH_RESULTS.read_text("utf-8"))
    return (
        f"\n{HEADING}\n\n`python -m benchmarks.push --followers {result['followers']}`: the real Application "
        "(AIORateLimiter, job queue) against the tests' fake Bot API on 127.0.0.1; every follower follows 医保 "
        "(every fourth also /digest on); `index add` of a small issue while serving. *plan*: from the version "
        "switch to the outbox written (topic matching, rendering, one transaction); *send*: from then to the "
        "last message recorded sent.\n\n"
        "| followers | messages sent | failed | plan s | send s | messages/s held | most in any 1 s |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {result['followers']:,} | {result['messages']:,} | {result['failed']} | {result['plan_s']} | "
        f"{result['send_s']} | {result['per_second']} | {result['max_in_one_second']} |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "push")
    args = parser.parse_args()
    result = asyncio.run(measure(args.followers, args.out))
    print(json.dumps(result))
    PUSH_RESULTS.write_text(json.dumps(result, indent=1), "utf-8")
    write_results()


if __name__ == "__main__":
    main()
