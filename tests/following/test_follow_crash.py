"""kill -9 in the middle of a push: a real `bulletin-bot serve` process against the fake Bot API is killed
while messages are in flight, then restarted; every follower gets the new issue exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from bot.following.push import CONCURRENCY
from bot.following.store import FollowStore
from index.builder import IndexBuilder
from index.store import IndexStore

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES, REPO, TOKEN, serve_env

ISSUE = REPO / "tests" / "data" / "2023-03-27.txt"
FOLLOWERS = list(range(5000, 5040))


def start(data_dir, tmp_path, fake_api) -> subprocess.Popen:
    env = serve_env(data_dir, fake_api.base_url, TOKEN) | {"BULLETIN_RELOAD_INTERVAL": "0.3"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def pushed(fake_api) -> dict[int, int]:
    counts = dict.fromkeys(FOLLOWERS, 0)
    for call in fake_api.sent("sendMessage"):
        if call["chat_id"] in counts and "新一期简报" in call["text"]:
            counts[call["chat_id"]] += 1
    return counts


def test_kill_during_a_push_then_restart_sends_each_message_once(data_dir, tmp_path, fake_api, embedder):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    follows = FollowStore(data_dir / "follow.sqlite")
    follows.plan(store.current(), "baseline", list(store.manifest(store.current())["issues"]), [])
    for chat_id in FOLLOWERS:
        follows.follow(chat_id, "医保")
    follows.close()

    fake_api.send_delay = 0.2  # Telegram answering slowly: several messages are in flight at once
    process = start(data_dir, tmp_path, fake_api)
    try:
        IndexBuilder(store, embedder, MAX_FILE_BYTES).add([ISSUE])
        deadline = time.monotonic() + 120
        # kill while every worker waits for Telegram's answer, after some of the push went out
        while not (sum(pushed(fake_api).values()) >= 10 and fake_api.in_flight == CONCURRENCY):
            assert time.monotonic() < deadline, "the push did not start"
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    before = pushed(fake_api)
    assert 10 <= sum(before.values()) < len(FOLLOWERS)

    fake_api.send_delay = 0.0
    process = start(data_dir, tmp_path, fake_api)
    try:
        deadline = time.monotonic() + 120
        while min(pushed(fake_api).values()) < 1:
            assert time.monotonic() < deadline, f"missed: {[c for c, n in pushed(fake_api).items() if not n]}"
            time.sleep(0.2)
        time.sleep(1.5)  # a duplicate would arrive now
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert set(pushed(fake_api).values()) == {1}
    db = sqlite3.connect(data_dir / "follow.sqlite")
    states = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    db.close()
    # the messages in flight at the kill were delivered, recorded "unknown" and not sent again
    assert states == {"sent": len(FOLLOWERS) - CONCURRENCY, "unknown": CONCURRENCY}
