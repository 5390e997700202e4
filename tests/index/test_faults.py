"""Faults: SIGKILL mid-build, corrupted files, concurrent staff commands."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bot.cli import main
from index.store import IndexStore
from index.types import BulletinError

from conftest import BULLETINS, KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE, REPO


def cli_process(data_dir, *args):
    env = dict(
        os.environ,
        BULLETIN_DATA_DIR=str(data_dir),
        BULLETIN_EMBEDDING_THREADS="1",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(REPO),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder):
    """A data directory whose only version holds the small test issue."""
    from index.builder import IndexBuilder

    data = tmp_path_factory.mktemp("small") / "data"
    IndexBuilder(IndexStore(data, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).build([NEW_ISSUE])
    return data


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
def test_sigkill_during_build_leaves_a_loadable_current_version(small_index, tmp_path, monkeypatch, delay):
    """The killed build embeds ~200 passages and writes a version: the kill lands at import,
    model load, embedding or writing depending on the delay."""
    data = tmp_path / "data"
    shutil.copytree(small_index, data)
    store = IndexStore(data, KEEP_VERSIONS)
    old = store.current()
    process = cli_process(data, "index", "build", str(BULLETINS))
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    current = store.current()
    assert current == old or current in store.versions()
    snapshot = store.load()  # complete and consistent, whichever it is
    assert len(snapshot.passages) == snapshot.faiss_index.ntotal
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(data))
    assert main(["index", "verify", current]) == 0
    # the next command works and clears what the killed one left half-written
    after = cli_process(data, "index", "add", str(BULLETINS / "2022-12-05.txt"))
    assert after.wait(timeout=120) == 0, after.stderr.read().decode()
    assert not list((data / "versions").glob(".tmp-*"))
    expected = {"2022-12-05"} | ({"2023-02-06"} if current == old else {"2022-12-12", "2023-01-09"})
    assert expected <= set(store.load().issues)


def test_two_adds_at_once_are_serialised(data_dir, tmp_path):
    second = tmp_path / "2023-02-13.txt"
    second.write_text(
        NEW_ISSUE.read_text("utf-8").replace("元宵节灯会", "春季花展").replace("2月4日", "2月11日"), "utf-8"
    )
    first_run = cli_process(data_dir, "index", "add", str(NEW_ISSUE))
    second_run = cli_process(data_dir, "index", "add", str(second))
    assert first_run.wait(timeout=180) == 0, first_run.stderr.read().decode()
    assert second_run.wait(timeout=180) == 0, second_run.stderr.read().decode()
    issues = IndexStore(data_dir, KEEP_VERSIONS).load().issues
    assert {"2023-02-06", "2023-02-13"} <= set(issues)  # neither overwrote the other's change


@pytest.mark.parametrize(
    "file_name, damage, message",
    [
        ("meta.sqlite", b"SQLite format 3\x00 but then nothing", "meta.sqlite is missing or corrupted"),
        ("index.faiss", b"", "index.faiss is missing or corrupted"),
        ("manifest.json", b"{not json", "manifest unreadable"),
        ("manifest.json", b"[]", "not a format-1 manifest"),
    ],
)
def test_corrupted_files_detected_by_verify_and_load(capsys, data_dir, engine, file_name, damage, message):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    serving = engine.loaded.version
    assert main(["index", "add", str(NEW_ISSUE)]) == 0
    newest = store.current()
    (data_dir / "versions" / newest / file_name).write_bytes(damage)
    capsys.readouterr()
    assert main(["index", "verify"]) == 1
    assert message in capsys.readouterr().out
    with pytest.raises(BulletinError, match=message):
        store.load()
    with pytest.raises(BulletinError):
        engine.reload_index()
    assert engine.loaded.version == serving and engine.ask("医保能在网上办吗").answered
    assert main(["index", "rollback"]) == 0 and store.current() == serving
