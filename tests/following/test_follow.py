"""Following topics: the subscription store, topic matching on real articles, and pushes of a new issue
through the real Application talking to the fake Bot API (follow, index add while serving, one message
per follower naming only matching articles, digest on/off, a blocked user unsubscribed, groups)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.evaluation.topic_eval import load_pairs, split_of
from bot.following.store import FollowStore, Planned
from index.builder import IndexBuilder
from index.store import IndexStore
from index.types import BulletinError

from conftest import ADMIN, KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE, REPO
from fake_telegram import callback, message

MEDICAL_ISSUE = REPO / "tests" / "data" / "2023-03-27.txt"  # 医保 notice, a 医保 passing mention, 动物防疫
MEDICAL_TITLE = "城乡居民医疗保险新生儿参保登记可网上办"


def test_store_keeps_only_chat_ids_and_topics_and_forgets(tmp_path):
    store = FollowStore(tmp_path / "follow.sqlite")
    assert store.follow(5, "医保") == "added" and store.follow(5, "医保") == "known"
    store.follow(6, "医保")
    store.set_digest(6, True)
    assert store.topic_counts() == {"医保": 2, "(digest)": 1}
    assert store.unfollow(5, "医保") and store.subscription(5) is None  # nothing followed: no row
    store.plan("v2", "add x", ["x"], [Planned("x", 6, "<b>hi</b>", (("原文 1", "art:a:0"),))])
    assert store.forget(6) and store.subscriptions() == [] and store.pending() == []
    db = sqlite3.connect(tmp_path / "follow.sqlite")
    assert db.execute("SELECT COUNT(*) FROM followers").fetchone() == (0,)
    assert db.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)  # no chat id left anywhere
    db.close()
    store.close()


def test_report_shows_followers_per_topic_without_ids(capsys, tmp_path, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path))
    store = FollowStore(tmp_path / "follow.sqlite")
    for chat_id in (987654321, 987654322):
        store.follow(chat_id, "医保")
    store.follow(987654323, "供暖")
    store.set_digest(987654323, True)
    store.close()
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "followers: 3 chats" in out and "    2  医保" in out and "    1  供暖" in out and "    1  (digest)" in out
    assert "98765432" not in out


def test_rows_in_flight_at_a_crash_are_not_sent_again(tmp_path):
    store = FollowStore(tmp_path / "follow.sqlite")
    store.plan("v2", "add x", ["x"], [Planned("x", chat, "t", ()) for chat in (1, 2, 3)])
    first, second, _ = store.pending()
    store.mark(first.row_id, "sent")
    store.mark(second.row_id, "sending")  # the process dies here
    store.close()
    again = FollowStore(tmp_path / "follow.sqlite")
    assert [r.planned.chat_id for r in again.pending()] == [3]
    assert again.last_push().counts == {"sent": 1, "unknown": 1, "planned": 1}
    assert again.unannounced(["x", "y"]) == ["y"]
    again.close()


def test_topics_match_by_meaning_not_by_a_passing_word(engine, data_dir, embedder):
    from bot.following.topics import issue_articles, match_topics

    IndexBuilder(IndexStore(data_dir, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).add([MEDICAL_ISSUE])
    engine.reload_index()
    loaded = engine.loaded
    ids = issue_articles(loaded.snapshot, "2023-03-27")
    found = match_topics(loaded.retriever, engine.model, ["医保", "健身", "个税"], ids)
    assert [m.title for m in found["医保"]] == [MEDICAL_TITLE + " 出生当年免缴费"]
    assert "聊城医保" in found["医保"][0].sentence or "医疗保险" in found["医保"][0].sentence
    assert [m.title for m in found["健身"]] == ["区体育中心全民健身广场4月1日起免费开放"]
    assert found["个税"] == []


async def replies(api, chat_id, count=1, method="sendMessage"):
    return await asyncio.to_thread(api.wait_for, method, count, chat_id)


async def add_and_wait(bot, data_dir, embedder, issue) -> str:
    """index add while serving; wait until the push for the new version is planned and sent."""
    await asyncio.to_thread(IndexBuilder(IndexStore(data_dir, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).add, [issue])
    version = IndexStore(data_dir, KEEP_VERSIONS).current()
    for _ in range(300):
        push = bot.follows.last_push()
        if push and push.version == version and not bot.follows.pending():
            return version
        await asyncio.sleep(0.1)
    raise AssertionError("no push for the new version")


async def test_follow_push_digest_and_blocked(bot, fake_api, data_dir, embedder):
    while not bot.follows.announced_any():  # the first round records the served issues as old news
        await asyncio.sleep(0.1)
    for chat_id, text in ((301, "/follow 医保"), (302, "/digest on"), (303, "/follow 核酸"), (304, "/follow 医保")):
        fake_api.push(message(text, chat_id))
        await replies(fake_api, chat_id)
    assert "已关注「医保」" in fake_api.sent("sendMessage", 301)[0]["text"]
    fake_api.blocked.add(304)
    await add_and_wait(bot, data_dir, embedder, MEDICAL_ISSUE)
    await asyncio.sleep(1.0)  # a second message would come now

    pushed = fake_api.sent("sendMessage", 301)[1:]
    assert len(pushed) == 1
    text = pushed[0]["text"]
    assert MEDICAL_TITLE in text and "2023-03-27" in text and "〔医保〕" in text
    assert "健身广场" not in text and "动物防疫" not in text
    assert [b["text"] for row in pushed[0]["reply_markup"]["inline_keyboard"] for b in row] == ["原文 1"]
    digest = fake_api.sent("sendMessage", 302)[1:]
    assert len(digest) == 1 and all(t in digest[0]["text"] for t in ("新生儿参保", "健身广场", "动物防疫"))
    assert fake_api.sent("sendMessage", 303)[1:] == []
    assert bot.follows.subscription(304) is None  # blocked the bot: unsubscribed
    fake_api.push(callback(pushed[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"], 301))
    assert (await replies(fake_api, 301, 3))[2]["text"].startswith(f"<b>{MEDICAL_TITLE}")

    fake_api.push(message("/status", ADMIN))
    status = (await replies(fake_api, ADMIN))[0]["text"]
    assert "关注者：3 个聊天" in status and "add 2023-03-27），已发送 2，失败 1" in status

    fake_api.push(message("/digest off", 302))
    await replies(fake_api, 302, 3)
    await add_and_wait(bot, data_dir, embedder, NEW_ISSUE)  # 元宵节灯会, 个税: nothing on 医保
    await asyncio.sleep(1.0)
    assert len(fake_api.sent("sendMessage", 301)) == 3 and len(fake_api.sent("sendMessage", 302)) == 3


async def test_following_unfollow_and_groups(bot, fake_api):
    fake_api.push(message("/follow", 311))
    keyboard = (await replies(fake_api, 311))[0]["reply_markup"]["inline_keyboard"]
    topics = [b["callback_data"] for row in keyboard for b in row]
    assert "fol:医保" in topics and "fol:核酸" in topics and all(len(t.encode()) <= 64 for t in topics)
    fake_api.push(callback(topics[0], 311))
    await replies(fake_api, 311, 2)
    fake_api.push(message("/follow 供暖", 311))
    await replies(fake_api, 311, 3)
    fake_api.push(message("/following", 311))
    listed = (await replies(fake_api, 311, 4))[3]["text"]
    assert f"「{topics[0].removeprefix('fol:')}」" in listed and "「供暖」" in listed
    fake_api.push(message("/unfollow 供暖", 311))
    await replies(fake_api, 311, 5)
    assert bot.follows.subscription(311).topics == (topics[0].removeprefix("fol:"),)
    fake_api.push(message("/unfollow all", 311))
    await replies(fake_api, 311, 6)
    assert bot.follows.subscription(311) is None

    fake_api.admins.add((-900, 312))
    fake_api.push(message("/follow 医保", 313, chat_id=-900, kind="group"))  # a member, not an admin
    assert "只有群管理员" in (await replies(fake_api, -900))[0]["text"]
    fake_api.push(message("/follow 医保", 312, chat_id=-900, kind="group"))
    await replies(fake_api, -900, 2)
    assert bot.follows.subscription(-900).topics == ("医保",) and bot.follows.subscription(312) is None


async def test_latest_and_issues_browse_articles(bot, fake_api):
    fake_api.push(message("/latest", 321))
    latest = (await replies(fake_api, 321))[0]
    assert "2023-03-13 简报" in latest["text"]
    titles = [b for row in latest["reply_markup"]["inline_keyboard"] for b in row]
    assert titles[0]["text"].startswith("既有住宅加装电梯补贴")
    fake_api.push(callback(titles[0]["callback_data"], 321))
    assert (await replies(fake_api, 321, 2))[1]["text"].startswith("<b>既有住宅加装电梯补贴开始申请")
    fake_api.push(message("/issues", 321))
    issues = [b for row in (await replies(fake_api, 321, 3))[2]["reply_markup"]["inline_keyboard"] for b in row]
    assert issues[0]["text"].startswith("2023-03-13") and len(issues) == 7
    fake_api.push(callback(issues[-1]["callback_data"], 321))
    edited = (await replies(fake_api, 321, method="editMessageText"))[0]
    assert "简报" in edited["text"] and edited["reply_markup"]["inline_keyboard"]


def test_topic_pairs_split_by_a_stable_hash_of_the_id(tmp_path):
    pairs = load_pairs(REPO / "samples" / "eval" / "topics.jsonl")
    assert len(pairs) >= 60 and sum(not p.match for p in pairs) >= len(pairs) * 0.4
    assert {p.split for p in pairs} == {"tune", "check"} and split_of("t001") == split_of("t001")
    assert sum(p.split == "tune" for p in pairs) == 84  # the split the threshold in bot/tuning.py was fitted on
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"id": "x1", "topic": "医保"}\n', encoding="utf-8")
    with pytest.raises(BulletinError, match="pairs.jsonl, line 1"):
        load_pairs(bad)
