"""Staff commands end to end: real files, a real FAISS index, real SQLite, through the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess

import pytest

from bot.cli import main
from index.store import IndexStore
from index.types import BulletinError

from conftest import BULLETINS, KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def listing(capsys):
    code, out, _ = run(capsys, "index", "list", "--json")
    assert code == 0
    return json.loads(out)


def sqlite_rows(data, sql):
    version = (data / "CURRENT").read_text().strip()
    db = sqlite3.connect(data / "versions" / version / "meta.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    data = tmp_path / "fresh"
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(data))
    monkeypatch.setenv("BULLETIN_EMBEDDING_THREADS", "2")
    return data


def test_build_add_again_remove_rollback(capsys, fresh, tmp_path):
    four = tmp_path / "four"
    four.mkdir()
    for f in BULLETINS.glob("*.txt"):
        if f.name < "2023-01-09.txt" or f.name.startswith("000_"):  # the first four issues
            shutil.copy(f, four)
    code, out, _ = run(capsys, "index", "build", str(four))
    assert code == 0
    assert "issues 4, articles 41" in out
    assert "skipped empty article: 000_5799bfe337b1a530: “疫”起坚守筑牢疫情防控严密防线" in out
    assert "removed pasted fragment" in out
    first = listing(capsys)
    assert len(first["versions"]) == 1 and first["versions"][0]["issues"] == 4

    code, out, _ = run(capsys, "index", "add", str(BULLETINS / "2023-01-09.txt"))
    assert code == 0 and "new version" in out
    embedded = int(out.split("(")[1].split(" embedded")[0])
    passages_2023 = sqlite_rows(
        fresh, "SELECT COUNT(*) FROM passages p JOIN articles a USING (article_id) WHERE a.issue_id = '2023-01-09'"
    )[0][0]
    assert embedded == passages_2023  # only the new issue was embedded
    second = listing(capsys)
    assert second["current"] == second["versions"][-1]["version"] and second["versions"][-1]["issues"] == 5

    code, out, _ = run(capsys, "index", "add", str(BULLETINS / "2023-01-09.txt"))
    assert code == 0 and "no change" in out and "unchanged: 2023-01-09" in out
    assert listing(capsys) == second

    code, out, _ = run(capsys, "index", "remove", "2022-11-28")
    assert code == 0
    assert sqlite_rows(fresh, "SELECT issue_id FROM issues ORDER BY issue_id") == [
        ("000_5799bfe337b1a530",),
        ("2022-12-05",),
        ("2022-12-12",),
        ("2023-01-09",),
    ]
    assert sqlite_rows(fresh, "SELECT COUNT(*) FROM articles WHERE issue_id = '2022-11-28'") == [(0,)]

    code, out, _ = run(capsys, "index", "rollback")
    assert code == 0
    after = listing(capsys)
    assert after["current"] == second["current"]
    assert sqlite_rows(fresh, "SELECT COUNT(*) FROM issues") == [(5,)]
    code, out, _ = run(capsys, "index", "verify")
    assert code == 0 and out.count("ok ") == 3


def test_remove_unknown_issue_is_a_clear_error(capsys, data_dir):
    code, _, err = run(capsys, "index", "remove", "1999-01-01")
    assert code == 1 and "no issue '1999-01-01'" in err


def test_truncated_faiss_refused_by_verify_and_load(capsys, data_dir, settings, engine):
    before = engine.loaded.version
    assert run(capsys, "index", "add", str(NEW_ISSUE))[0] == 0
    store = IndexStore(data_dir, KEEP_VERSIONS)
    newest = store.current()
    assert newest != before
    faiss_file = data_dir / "versions" / newest / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:1000])

    code, out, _ = run(capsys, "index", "verify")
    assert code == 1 and f"BROKEN  version {newest}: index.faiss is missing or corrupted" in out
    with pytest.raises(BulletinError, match="corrupted"):
        store.load()
    with pytest.raises(BulletinError):
        engine.reload_index()
    assert engine.loaded.version == before  # the old version keeps serving
    assert engine.ask("医保能在网上办吗").answered
    code, _, err = run(capsys, "index", "add", str(BULLETINS / "2022-12-05.txt"))
    assert code == 1 and "corrupted" in err and store.current() == newest  # nothing written on top


def test_manifest_for_another_model_refused(capsys, data_dir, monkeypatch):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    current = store.current()
    manifest = data_dir / "versions" / current / "manifest.json"
    data = json.loads(manifest.read_text())
    data["model"] = "sentence-transformers/all-MiniLM-L6-v2"
    manifest.write_text(json.dumps(data))
    code, out, _ = run(capsys, "index", "verify", current)
    assert code == 1 and "was built with model 'sentence-transformers/all-MiniLM-L6-v2'" in out
    with pytest.raises(BulletinError, match="configured model is 'use-m3'"):
        store.load(model="use-m3")
    code, _, err = run(capsys, "ask", "医保能在网上办吗")
    assert code == 1 and "rebuild" in err
    assert store.current() == current


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MB tmpfs (needs root, as in CI); skipped where mounting is not allowed."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode(errors="replace").strip())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_gives_clear_error_and_keeps_current(capsys, built_index, small_disk, monkeypatch):
    data = small_disk / "data"
    shutil.copytree(built_index, data)
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(data))
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - 64 * 1024))  # leave 64 KB: too little for a version
    store = IndexStore(data, KEEP_VERSIONS)
    current = store.current()
    code, _, err = run(capsys, "index", "add", str(NEW_ISSUE))
    assert code == 1
    assert "cannot write index version" in err and "No space left on device" in err
    assert f"{current} stays current" in err
    assert store.current() == current and store.versions() == [current]
    assert not list((data / "versions").glob(".tmp-*"))  # no half-written version left behind
    store.load()  # and the current one still loads


def test_large_index_switches_to_hnsw_and_appends_in_place(tmp_path, embedder, monkeypatch):
    """Above the exact-search limit the index is HNSW; adding an issue extends it and it still answers."""
    import faiss

    from bot.engine import Engine
    from bot.settings import load_settings
    from index import store as store_module
    from index.builder import IndexBuilder, bulletin_files

    monkeypatch.setattr(store_module, "EXACT_LIMIT", 50)
    store = IndexStore(tmp_path / "data", KEEP_VERSIONS)
    IndexBuilder(store, embedder, MAX_FILE_BYTES).build(bulletin_files(BULLETINS))
    first = store.load()
    assert isinstance(first.faiss_index, faiss.IndexHNSWSQ) and first.manifest["faiss"] == "IndexHNSWSQ"
    report = IndexBuilder(store, embedder, MAX_FILE_BYTES).add([NEW_ISSUE])
    second = store.load()
    assert isinstance(second.faiss_index, faiss.IndexHNSWSQ)
    assert second.faiss_index.ntotal == first.faiss_index.ntotal + report.embedded
    engine = Engine(load_settings(data_dir=tmp_path / "data"))
    engine.embedder = embedder
    assert "古楼广场" in engine.ask("元宵节灯会在哪里办").text


def history(capsys):
    code, out, _ = run(capsys, "index", "history", "--json")
    assert code == 0
    return json.loads(out)


def test_rollback_undoes_the_last_change_and_history_shows_the_chain(capsys, data_dir, tmp_path):
    """add X; rollback; add Y; rollback → neither X nor Y (the parent, not the highest older version)."""
    store = IndexStore(data_dir, KEEP_VERSIONS)
    first = store.current()
    other = tmp_path / "2023-02-13.txt"
    other.write_text(NEW_ISSUE.read_text("utf-8").replace("元宵节灯会", "春季花展"), "utf-8")
    assert run(capsys, "index", "add", str(NEW_ISSUE))[0] == 0
    with_x = store.current()
    assert run(capsys, "index", "rollback")[0] == 0 and store.current() == first
    assert run(capsys, "index", "add", str(other))[0] == 0
    with_y = store.current()
    code, out, _ = run(capsys, "index", "rollback")
    assert code == 0 and f"{first} is now current" in out and f"undid add 2023-02-13 ({with_y})" in out
    assert store.current() == first
    assert not {"2023-02-06", "2023-02-13"} & set(store.load().issues)

    past = history(capsys)
    assert [v["version"] for v in past["chain"]] == [first]
    assert {v["version"]: (v["parent"], v["operation"]) for v in past["other"]} == {
        with_y: (first, "add 2023-02-13"),
        with_x: (first, "add 2023-02-06"),
    }
    bundled = len(list(BULLETINS.glob("*.txt")))
    assert past["chain"][0]["operation"] == f"build {bundled} issues" and past["chain"][0]["created"]

    assert run(capsys, "index", "rollback", with_y)[0] == 0  # a named version: redo
    assert [v["version"] for v in history(capsys)["chain"]] == [with_y, first]
    code, out, _ = run(capsys, "index", "history")
    assert code == 0 and f"* {with_y}" in out and f"parent {first}" in out and "add 2023-02-13" in out


def test_rollback_of_the_first_version_is_a_clear_error(capsys, data_dir):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    code, _, err = run(capsys, "index", "rollback")
    assert code == 1 and "first version" in err and store.current() == store.versions()[0]
