"""Pushing a new issue to many followers through the real Application and AIORateLimiter, against the
fake Bot API of the tests (tests/fake_telegram.py, on 127.0.0.1).

    .venv/bin/python -m benchmarks.push --followers 2000

Builds an index of the bundled issues in benchmarks/out/push/, makes N followers (all follow 医保, every
fourth also the headlines), adds tests/data/2023-03-27.txt while the bot serves, and measures the time to
plan (match topics, render, write the outbox) and to send, the messages per second held and the most
sent in any one second (Telegram allows about 30). Writes benchmarks/push_results.json and its section of
RESULTS.md.

    .venv/bin/python -m benchmarks.push --topics 20

Planning only, for many distinct topics: 1,000 chats each following 20 topics no other chat follows
(20,000 topics), the latest bundled issue new; the time `plan_push` takes (capped at TOPICS.plan_seconds),
the topics weighed and skipped, and one topic at a time on a sample for comparison."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import time
from itertools import islice
from pathlib import Path

from benchmarks.sections import PUSH_RESULTS, write_results
from bot.cli.serve import make_services
from bot.engine import Engine
from bot.following.push import plan_push
from bot.following.store import FollowStore
from bot.following.topics import issue_articles, match_topics
from bot.settings import load_settings
from bot.telegram.app import build_application
from bot.tuning import TOPICS
from index.builder import IndexBuilder, bulletin_files
from index.embed import Embedder
from index.store import IndexStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
from fake_telegram import FakeBotApi  # noqa: E402 (the tests' fake server, found through the path above)

TOKEN = "123456:benchmark-token"
ISSUE = REPO / "tests" / "data" / "2023-03-27.txt"


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


class Skipped(logging.Handler):
    """Keeps the counts of plan_push's cap warning (topics skipped, topics)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: tuple[int, int] = (0, 0)

    def emit(self, record: logging.LogRecord) -> None:
        if "TOPICS.plan_seconds" in record.msg and isinstance(record.args, tuple):
            self.counts = (int(record.args[2]), int(record.args[3]))


def distinct_topics(engine: Engine, count: int) -> list[str]:
    """`count` different topics made of two words of the bulletins (医保 + 缴费 → 医保缴费)."""
    vocab = sorted(w for w in engine.loaded.snapshot.lexical.vocab if len(w) == 2 and "\u4e00" <= w[0] <= "\u9fff")
    return list(islice((a + b for b in vocab for a in vocab if a != b), count))


def measure_topics(chats: int, per_chat: int, out: Path) -> dict:
    """plan_push for `chats` followers of `per_chat` topics each, no topic followed twice."""
    data = out / "data"
    shutil.rmtree(out, ignore_errors=True)
    embedder = Embedder("use-m3", threads=2)
    IndexBuilder(IndexStore(data, 5), embedder, 5_000_000).build(bulletin_files(REPO / "samples" / "bulletins"))
    engine = Engine(load_settings(data_dir=data, embedding_threads=2))
    engine.embedder = embedder
    engine.warm_up()
    snapshot = engine.loaded.snapshot
    new = max(snapshot.issues, key=lambda i: (snapshot.issues[i].dated, i))
    topics = distinct_topics(engine, chats * per_chat)
    store = FollowStore(out / "follow.sqlite")
    for chat in range(chats):
        for topic in topics[chat * per_chat : (chat + 1) * per_chat]:
            store.follow(chat, topic)
    store.plan("old", "baseline", [i for i in snapshot.issues if i != new], [])
    skipped = Skipped()
    logging.getLogger("bot.following.push").addHandler(skipped)
    started = time.monotonic()
    plan = plan_push(engine, store)
    plan_s = time.monotonic() - started
    logging.getLogger("bot.following.push").removeHandler(skipped)
    # afterwards, so one topic at a time finds the issue's sentences embedded (it is not slowed by them)
    sample = topics[:: max(1, len(topics) // 40)][:40]
    started = time.monotonic()
    match_topics(engine.loaded.retriever, engine.model, sample, issue_articles(snapshot, new))
    one_at_a_time = (time.monotonic() - started) / len(sample)
    store.close()
    weighed = len(topics) - skipped.counts[0]
    return {
        "chats": chats,
        "topics_per_chat": per_chat,
        "distinct_topics": len(topics),
        "issue_articles": len(issue_articles(snapshot, new)),
        "cap_s": TOPICS.plan_seconds,
        "plan_s": round(plan_s, 1),
        "weighed": weighed,
        "skipped": skipped.counts[0],
        "messages": plan.messages if plan else 0,
        "batched_ms_per_topic": round(1000 * plan_s / max(weighed, 1), 1),
        "one_at_a_time_ms_per_topic": round(1000 * one_at_a_time, 1),
        "one_at_a_time_s_all": round(one_at_a_time * len(topics)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=2000)
    parser.add_argument("--topics", type=int, default=0, help="planning only: 1,000 chats with this many topics each")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "push")
    args = parser.parse_args()
    saved = json.loads(PUSH_RESULTS.read_text("utf-8")) if PUSH_RESULTS.exists() else {}
    if args.topics:
        result = saved | {"topics": measure_topics(1000, args.topics, args.out.with_name("push_topics"))}
        print(json.dumps(result["topics"]))
    else:
        result = asyncio.run(measure(args.followers, args.out)) | {k: v for k, v in saved.items() if k == "topics"}
        print(json.dumps(result))
    PUSH_RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    write_results()


if __name__ == "__main__":
    main()
