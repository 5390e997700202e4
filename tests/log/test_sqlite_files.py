"""The bot's SQLite files damaged (first 100 bytes overwritten) or locked (BEGIN EXCLUSIVE elsewhere): `check`
names the file, `serve` sets a damaged one aside and keeps answering, `report` says what is wrong in one line."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from datetime import datetime

import pytest

from bot.cli import main
from bot.following.store import SCHEMA, FollowStore
from bot.log.pseudonym import Pseudonyms
from bot.log.questions import QuestionLog
from bot.sqlite_files import READ_BUSY_TIMEOUT, open_store

from conftest import ADMIN, RETENTION_DAYS
from fake_telegram import message

NOT_A_DATABASE = "not an SQLite database (its header is overwritten, or it is another kind of file)"


def damage(path):
    """Overwrite the SQLite header (the first 100 bytes), as a bad disk block or a stray write would."""
    with open(path, "r+b") as file:
        file.write(b"\xa5" * 100)


def make_log(path):
    log = QuestionLog(path, Pseudonyms(None), RETENTION_DAYS)
    log.record(
        user_id=5,
        chat_type="private",
        question="公积金怎么提取",
        answered=False,
        reason="no_match",
        top_article=None,
        top_issue=None,
        score=None,
        latency_ms=1.0,
    )
    log.close()


def make_follows(path):
    store = FollowStore(path)
    store.follow(987654321, "医保")
    store.close()


@pytest.fixture
def damaged_stores(data_dir):
    """questions.sqlite and follow.sqlite with rows, then their headers overwritten; their bytes as damaged."""
    make_log(data_dir / "questions.sqlite")
    make_follows(data_dir / "follow.sqlite")
    for name in ("questions.sqlite", "follow.sqlite"):
        damage(data_dir / name)
    return {name: (data_dir / name).read_bytes() for name in ("questions.sqlite", "follow.sqlite")}


def test_check_names_each_damaged_file(damaged_stores, data_dir, capsys):
    assert main(["check"]) == 0  # a warning: `serve` sets such a file aside, so it can start
    lines = capsys.readouterr().out.splitlines()
    for label, name in (("question log", "questions.sqlite"), ("follow store", "follow.sqlite")):
        assert f"! {label}: {data_dir / name}: {NOT_A_DATABASE}; `serve` renames it to {name}.corrupt-" in (
            "\n".join(lines)
        )
    assert sorted(p.name for p in data_dir.glob("*.sqlite*")) == ["follow.sqlite", "questions.sqlite"]  # untouched


def test_opener_sets_a_damaged_file_and_its_wal_aside_and_starts_fresh(tmp_path):
    live = tmp_path / "live" / "follow.sqlite"
    store = FollowStore(live)
    store.follow(987654321, "医保")
    other = sqlite3.connect(live)
    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so that page 1 (the damaged one) is not in the -wal
    other.close()
    store.follow(987654322, "供暖")  # in follow.sqlite-wal until the next checkpoint
    path = tmp_path / "follow.sqlite"
    for suffix in ("", "-wal", "-shm"):  # the files as a killed process leaves them
        shutil.copy(f"{live}{suffix}", f"{path}{suffix}")
    store.close()
    damage(path)
    old = {suffix: (tmp_path / f"follow.sqlite{suffix}").read_bytes() for suffix in ("", "-wal")}
    before = datetime.now().replace(microsecond=0)

    fresh, notice = open_store(path, SCHEMA, FollowStore)

    assert fresh.subscriptions() == []
    fresh.follow(5, "供暖")
    fresh.close()
    (aside,) = tmp_path.glob("follow.sqlite.corrupt-*[0-9]")
    stamp = datetime.strptime(aside.name.removeprefix("follow.sqlite.corrupt-"), "%Y%m%d-%H%M%S")
    assert before <= stamp <= datetime.now()
    for suffix, data in old.items():  # nothing lost: the damaged bytes kept, each side file with its database
        assert (tmp_path / f"{aside.name}{suffix}").read_bytes() == data
    assert (tmp_path / f"{aside.name}-shm").exists()  # moved too (an index of the -wal: a reader rewrites it)
    assert notice is not None and "follow.sqlite" in notice and aside.name in notice
    assert FollowStore(path).subscriptions()[0].topics == ("供暖",)


def test_opener_leaves_a_sound_file_alone(tmp_path):
    path = tmp_path / "follow.sqlite"
    make_follows(path)
    store, notice = open_store(path, SCHEMA, FollowStore)
    assert notice is None and store.follower_count() == 1
    store.close()
    assert not list(tmp_path.glob("*corrupt*"))


async def test_serve_with_damaged_stores_answers_and_tells_admins(damaged_stores, bot, fake_api, data_dir):
    notice = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 2, ADMIN))[:2]
    for name in ("questions.sqlite", "follow.sqlite"):
        (aside,) = data_dir.glob(f"{name}.corrupt-*[0-9]")
        assert aside.read_bytes() == damaged_stores[name]
        assert any(name in n["text"] and aside.name in n["text"] for n in notice)
    fake_api.push(message("医保能在网上办吗", 301))
    reply = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 301))[0]
    assert "聊城医保" in reply["text"]
    await asyncio.to_thread(bot.log.flush)
    db = sqlite3.connect(data_dir / "questions.sqlite")
    assert db.execute("SELECT question FROM questions").fetchall() == [("医保能在网上办吗",)]  # the fresh log
    db.close()


def test_report_on_a_locked_log_says_so_within_seconds(data_dir, capsys):
    make_log(data_dir / "questions.sqlite")
    staff = sqlite3.connect(data_dir / "questions.sqlite", isolation_level=None)
    staff.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        code = main(["report"])
        took = time.monotonic() - started
    finally:
        staff.execute("ROLLBACK")
        staff.close()
    out, err = capsys.readouterr()
    assert code == 1 and took < READ_BUSY_TIMEOUT + 1.5  # it waited 42 s, then printed a traceback
    assert err.splitlines() == [
        f"error: {data_dir / 'questions.sqlite'}: locked by another connection (waited {READ_BUSY_TIMEOUT:g} s):"
        " try again when it is done"
    ]


@pytest.mark.parametrize("name", ["questions.sqlite", "follow.sqlite"])
def test_report_on_a_damaged_file_names_it_and_changes_nothing(name, data_dir, capsys):
    make_log(data_dir / "questions.sqlite")
    make_follows(data_dir / "follow.sqlite")
    damage(data_dir / name)
    files = {p.name: p.read_bytes() for p in data_dir.glob("*.sqlite*")}
    started = time.monotonic()
    assert main(["report"]) == 1
    assert time.monotonic() - started < READ_BUSY_TIMEOUT + 1.5
    assert capsys.readouterr().err.splitlines() == [f"error: {data_dir / name}: {NOT_A_DATABASE}"]
    assert {p.name: p.read_bytes() for p in data_dir.glob("*.sqlite*")} == files  # read-only: nothing written


def test_report_reads_without_creating_files(data_dir, capsys):
    assert main(["report"]) == 0
    assert "(no questions in the last 14 days)" in capsys.readouterr().out
    assert not list(data_dir.glob("*.sqlite*"))


async def test_log_damaged_while_serving_is_set_aside_and_admins_told(bot, fake_api, data_dir):
    fake_api.push(message("医保能在网上办吗", 311))
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 311)
    await asyncio.to_thread(bot.log.flush)
    damage(data_dir / "questions.sqlite")  # under the running bot
    damaged = (data_dir / "questions.sqlite").read_bytes()

    fake_api.push(message("公积金怎么提取", 312))
    assert (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 312))[0]["text"]
    notice = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, ADMIN))[0]["text"]
    await asyncio.to_thread(bot.log.flush)
    (aside,) = data_dir.glob("questions.sqlite.corrupt-*[0-9]")
    assert aside.read_bytes() == damaged and aside.name in notice
    assert bot.log.failures == 0  # the question that found the damage is in the fresh file
    db = sqlite3.connect(data_dir / "questions.sqlite")
    assert db.execute("SELECT question FROM questions").fetchall() == [("公积金怎么提取",)]
    db.close()
    fake_api.push(message("/status", ADMIN))
    assert (
        "今日提问：1，问题日志写入失败：0 次"
        in (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 2, ADMIN))[1]["text"]
    )
