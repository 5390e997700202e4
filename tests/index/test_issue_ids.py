"""Issue ids: two different files never share one without staff saying so (`--replace`)."""

from __future__ import annotations

import json
import shutil

from bot.cli import main
from index.store import IndexStore

from conftest import BULLETINS, KEEP_VERSIONS, NEW_ISSUE


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def variant(path, topic):
    """A copy of the test issue about another event (different content, same layout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(NEW_ISSUE.read_text("utf-8").replace("元宵节灯会", topic), "utf-8")
    return path


def topics(data_dir):
    return {
        issue_id: next(
            t
            for t in ("春季花展", "端午龙舟赛", "中秋游园会", "元宵节灯会")
            if any(t in a.body or t in a.title for a in issue.articles)
        )
        for issue_id, issue in IndexStore(data_dir, KEEP_VERSIONS).load().issues.items()
        if issue_id not in BUNDLED
    }


BUNDLED = {path.stem for path in BULLETINS.glob("*.txt")}


def test_names_differing_in_punctuation_get_distinct_ids(capsys, data_dir, tmp_path):
    spaced = variant(tmp_path / "a" / "简报 2024-07-01.txt", "春季花展")
    underscored = variant(tmp_path / "b" / "简报_2024-07-01.txt", "端午龙舟赛")
    code, out, _ = run(capsys, "index", "add", str(spaced), str(underscored))
    assert code == 0, out
    indexed = topics(data_dir)
    assert indexed["简报_2024-07-01"] == "端午龙舟赛"
    spaced_id = next(i for i in indexed if i.startswith("简报_2024-07-01_"))
    assert indexed[spaced_id] == "春季花展"  # both files indexed, neither replaced the other


def test_same_name_in_two_folders_is_refused_naming_both(capsys, data_dir, tmp_path):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    old = variant(tmp_path / "2023" / "第1期.txt", "春季花展")
    new = variant(tmp_path / "2024" / "第1期.txt", "端午龙舟赛")
    good = variant(tmp_path / "2024-09-15.txt", "中秋游园会")
    code, out, _ = run(capsys, "index", "add", str(old), str(new), str(good))
    assert code == 1
    for path, other in ((old, new), (new, old)):
        line = out.split(f"FAILED {path}: ")[1].splitlines()[0]
        assert str(path) in line and str(other) in line and "rename" in line
    assert topics(data_dir) == {"2024-09-15": "中秋游园会"}  # the other file of the command is indexed
    assert "第1期" not in store.load().issues


def test_a_changed_file_with_an_indexed_name_needs_replace(capsys, data_dir, tmp_path):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    first = variant(tmp_path / "2023" / "第1期.txt", "春季花展")
    second = variant(tmp_path / "2024" / "第1期.txt", "端午龙舟赛")
    assert run(capsys, "index", "add", str(first))[0] == 0
    serving = store.current()
    code, out, err = run(capsys, "index", "add", str(second))
    assert code == 1 and store.current() == serving  # nothing written, the served index unchanged
    assert str(first) in err and str(second) in err and "--replace" in err
    assert topics(data_dir) == {"第1期": "春季花展"}

    code, out, _ = run(capsys, "index", "add", "--replace", str(second))
    assert code == 0 and "replaced: 第1期" in out
    assert topics(data_dir) == {"第1期": "端午龙舟赛"}
    code, out, _ = run(capsys, "index", "add", str(second))  # the same content again: a no-op
    assert code == 0 and "no change" in out and "unchanged: 第1期" in out
    code, out, _ = run(capsys, "index", "history", "--json")
    assert json.loads(out)["chain"][0]["operation"] == "add --replace 第1期"


def test_a_copy_under_another_name_is_not_indexed_twice(capsys, data_dir, tmp_path):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    copy = tmp_path / "copy of 2022-12-05.txt"
    shutil.copy(BULLETINS / "2022-12-05.txt", copy)
    before = store.current()
    code, out, _ = run(capsys, "index", "add", str(copy))
    assert code == 0 and "no change" in out and "(already indexed as 2022-12-05)" in out
    assert store.current() == before
