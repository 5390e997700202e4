"""The live index watcher and start-up with a broken current version, through the real Application
long-polling the fake Bot API server."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest

from index.builder import IndexBuilder
from index.store import IndexStore

from conftest import ADMIN, KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE
from fake_telegram import message


async def replies(api, chat_id, count=1):
    return await asyncio.to_thread(api.wait_for, "sendMessage", count, chat_id)


def copy_version(data_dir, source: str, name: str, files_as_list: bool = False) -> str:
    """A new version folder copied from another (optionally with a malformed manifest), not yet current."""
    shutil.copytree(data_dir / "versions" / source, data_dir / "versions" / name)
    if files_as_list:
        path = data_dir / "versions" / name / "manifest.json"
        manifest = json.loads(path.read_text("utf-8"))
        manifest["files"] = list(manifest["files"])
        path.write_text(json.dumps(manifest), "utf-8")
    return name


async def wait_serving(services, version, seconds=10.0):
    for _ in range(int(seconds * 10)):
        if services.engine.serving == version:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"still serving {services.engine.serving}, not {version}")


async def test_watcher_survives_a_malformed_manifest_and_keeps_watching(bot, fake_api, data_dir, caplog):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    before = bot.engine.serving
    broken = copy_version(data_dir, before, "v0098-20990101T000000", files_as_list=True)
    store.switch(broken)
    warning = (await replies(fake_api, ADMIN))[0]["text"]
    assert broken in warning and f"继续使用 {before}" in warning and "'files'" in warning
    assert f"index version {broken} not loaded, still serving {before}" in caplog.text
    fake_api.push(message("医保能在网上办吗", 301))
    assert "聊城医保" in (await replies(fake_api, 301))[0]["text"]
    await asyncio.sleep(1.0)  # three more checks of the same broken version: no second message
    assert len([m for m in fake_api.sent(chat_id=ADMIN) if broken in m["text"]]) == 1

    fixed = copy_version(data_dir, before, "v0099-20990101T000000")
    store.switch(fixed)  # the watcher is still alive and switches to the next good version
    await wait_serving(bot, fixed)


async def test_watcher_survives_an_unexpected_error(bot, fake_api, data_dir, caplog, monkeypatch):
    """Not only BulletinError: any exception while loading (here a failure injected into loading,
    as an out-of-memory error in FAISS would be) is logged and reported, and watching goes on."""
    store = IndexStore(data_dir, KEEP_VERSIONS)
    before = bot.engine.serving
    real_load = store.load.__func__

    def failing_load(self, name=None, model=None):
        if name == "v0098-20990101T000000":
            raise RuntimeError("std::bad_alloc")
        return real_load(self, name, model)

    monkeypatch.setattr(IndexStore, "load", failing_load)
    failing = copy_version(data_dir, before, "v0098-20990101T000000")
    store.switch(failing)
    warning = (await replies(fake_api, ADMIN))[0]["text"]
    assert failing in warning and "RuntimeError: std::bad_alloc" in warning and f"继续使用 {before}" in warning
    assert "Traceback" in caplog.text  # an unexpected error is logged with where it came from
    fixed = copy_version(data_dir, before, "v0099-20990101T000000")
    store.switch(fixed)
    await wait_serving(bot, fixed)


def test_start_up_serves_the_newest_loadable_version_when_current_does_not_load(settings, embedder, data_dir):
    from bot.engine import Engine

    store = IndexStore(data_dir, KEEP_VERSIONS)
    first = store.current()
    IndexBuilder(store, embedder, MAX_FILE_BYTES).add([NEW_ISSUE])
    second = store.current()
    (data_dir / "versions" / second / "meta.sqlite").write_bytes(b"not a database")
    engine = Engine(settings)
    engine.embedder = embedder
    engine.warm_up()
    assert engine.serving == first
    assert engine.fallback.wanted == second and engine.fallback.serving == first
    assert "meta.sqlite is missing or corrupted" in engine.fallback.reason
    assert engine.ask("医保能在网上办吗").answered

    (data_dir / "CURRENT").write_text("../../evil/v0001\n", "utf-8")
    engine = Engine(settings)
    engine.embedder = embedder
    engine.warm_up()
    assert engine.serving == first and "CURRENT points to '../../evil/v0001'" in engine.fallback.reason


@pytest.fixture
def broken_current(data_dir, embedder):
    """Before the bot starts: a newer version is current but its metadata is damaged."""
    store = IndexStore(data_dir, KEEP_VERSIONS)
    first = store.current()
    IndexBuilder(store, embedder, MAX_FILE_BYTES).add([NEW_ISSUE])
    (data_dir / "versions" / store.current() / "meta.sqlite").write_bytes(b"not a database")
    return first, store.current()


async def test_bot_starts_on_an_older_version_and_tells_admins(broken_current, bot, fake_api):
    first, broken = broken_current
    notice = (await replies(fake_api, ADMIN))[0]["text"]
    assert f"当前索引版本 {broken} 无法加载，已改用 {first}" in notice
    fake_api.push(message("医保能在网上办吗", 302))
    assert "聊城医保" in (await replies(fake_api, 302))[0]["text"]
    await asyncio.sleep(1.0)  # the watcher retries the broken version but does not repeat the notice
    assert len(fake_api.sent(chat_id=ADMIN)) == 1 and bot.engine.serving == first
