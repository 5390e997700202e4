"""A damaged or planted index version: malformed manifests, inconsistent metadata, a CURRENT
pointer that leads outside the data directory. Each is refused with a clear message."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3

import pytest

from bot.cli import main
from index.store import IndexStore
from index.types import BulletinError

from conftest import KEEP_VERSIONS, NEW_ISSUE


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def add_version(capsys, data_dir) -> tuple[str, str]:
    """Add the test issue; return (the version before, the new current version)."""
    store = IndexStore(data_dir, KEEP_VERSIONS)
    before = store.current()
    assert run(capsys, "index", "add", str(NEW_ISSUE))[0] == 0
    return before, store.current()


def rewrite_manifest(data_dir, version, change) -> None:
    path = data_dir / "versions" / version / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def reseal(data_dir, version) -> None:
    """Recompute a version's checksums, as someone planting a version would."""
    folder = data_dir / "versions" / version

    def change(manifest):
        manifest["files"] = {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in manifest["files"]
        }

    rewrite_manifest(data_dir, version, change)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(files=list(m["files"])), "'files' is not a table of file checksums"),
        (lambda m: m.update(counts=None), "'counts' is not a table of counts"),
        (lambda m: m["counts"].pop("passages"), "'counts' is not a table of counts"),
        (lambda m: m.update(model=7), "'model' is not text"),
        (lambda m: m.pop("created"), "'created' is not text"),
        (lambda m: m.update(dimension="512"), "'dimension' is not a number"),
        (lambda m: m["files"].pop("index.faiss"), "does not list index.faiss"),
        (lambda m: m["files"].update({"../../outside": "0" * 64}), "file name '../../outside'"),
        (lambda m: m.update(issues=[]), "'issues' is not a table of issues"),
    ],
)
def test_malformed_manifest_is_a_clear_error_and_verify_checks_the_others(capsys, data_dir, change, message):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    before, broken = add_version(capsys, data_dir)
    rewrite_manifest(data_dir, broken, change)
    with pytest.raises(BulletinError, match=message):
        store.load()
    code, out, _ = run(capsys, "index", "verify")
    assert code == 1
    assert f"BROKEN  version {broken}: manifest" in out and message in out
    assert f"ok      {before}" in out  # the other version was still checked
    code, out, _ = run(capsys, "index", "list")
    assert code == 0 and broken in out and message in out
    code, out, err = run(capsys, "index", "rollback")
    assert code == 0 and store.current() == before, err


def test_inconsistent_metadata_is_refused(capsys, data_dir):
    """A planted version whose checksums match but whose passages name an article that is not there."""
    before, planted = add_version(capsys, data_dir)
    db = sqlite3.connect(data_dir / "versions" / planted / "meta.sqlite")
    db.execute("UPDATE passages SET article_id = 'no-such-article' WHERE row = 3")
    db.commit()
    db.close()
    reseal(data_dir, planted)
    with pytest.raises(BulletinError, match=f"version {planted}: metadata .*passage 3 .*no-such-article"):
        IndexStore(data_dir, KEEP_VERSIONS).load()
    code, out, _ = run(capsys, "index", "verify")
    assert code == 1 and f"BROKEN  version {planted}: metadata" in out


def test_passage_rows_with_a_gap_are_refused(capsys, data_dir):
    """Passage i must be FAISS row i: a missing row would shift every later answer."""
    _, planted = add_version(capsys, data_dir)
    db = sqlite3.connect(data_dir / "versions" / planted / "meta.sqlite")
    db.execute("UPDATE passages SET row = row + 1000 WHERE row = 5")
    db.commit()
    db.close()
    reseal(data_dir, planted)
    with pytest.raises(BulletinError, match="passage rows are not numbered 0"):
        IndexStore(data_dir, KEEP_VERSIONS).load()


def plant_outside(data_dir, tmp_path) -> str:
    """A complete version copied outside the data directory."""
    evil = tmp_path / "evil" / "v0099-planted"
    shutil.copytree(data_dir / "versions" / IndexStore(data_dir, KEEP_VERSIONS).current(), evil)
    return str(evil)


@pytest.mark.parametrize("pointer", ["relative", "absolute", "dot-dot", "deleted", "empty", "tmp"])
def test_current_must_name_a_version_folder_inside_versions(capsys, data_dir, tmp_path, pointer):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    good = store.current()
    evil = plant_outside(data_dir, tmp_path)
    (data_dir / "versions" / ".tmp-v0042-1").mkdir()
    text = {
        "relative": "../../evil/v0099-planted",
        "absolute": evil,
        "dot-dot": "..",
        "deleted": "v0042-20990101T000000",
        "empty": "",
        "tmp": ".tmp-v0042-1",
    }[pointer]
    (data_dir / "CURRENT").write_text(text + "\n", "utf-8")
    with pytest.raises(BulletinError, match="CURRENT"):
        store.current()
    with pytest.raises(BulletinError, match="CURRENT"):
        store.load()
    code, out, _ = run(capsys, "index", "verify")
    assert code == 1 and f"ok      {good}" in out and "BROKEN  CURRENT" in out
    code, _, err = run(capsys, "ask", "医保能在网上办吗")  # the CLI has no older version to fall back on
    assert "CURRENT" in err or code == 0
    code, out, _ = run(capsys, "index", "list")
    assert code == 0 and "CURRENT" in out
    code, out, err = run(capsys, "index", "rollback", good)  # staff repair it by naming a version
    assert code == 0 and store.current() == good, err


def test_version_names_with_paths_are_refused(capsys, data_dir, tmp_path):
    evil = plant_outside(data_dir, tmp_path)
    store = IndexStore(data_dir, KEEP_VERSIONS)
    for name in ("../../evil/v0099-planted", evil):
        with pytest.raises(BulletinError, match="not a version"):
            store.load(name)
        code, out, err = run(capsys, "index", "rollback", name)
        assert code == 1 and "not a version" in err
    code, out, _ = run(capsys, "index", "verify", "../../evil/v0099-planted")
    assert code == 1 and "not a version" in out


def test_symlinked_version_folder_is_not_a_version(data_dir, tmp_path):
    evil = plant_outside(data_dir, tmp_path)
    (data_dir / "versions" / "v0099-planted").symlink_to(evil, target_is_directory=True)
    store = IndexStore(data_dir, KEEP_VERSIONS)
    assert "v0099-planted" not in store.versions()
    (data_dir / "CURRENT").write_text("v0099-planted\n", "utf-8")
    with pytest.raises(BulletinError, match="CURRENT"):
        store.load()
