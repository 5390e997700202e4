"""`ask`, `ask --batch`, `chat` and `eval` through the real CLI on the real index."""

from __future__ import annotations

import io
import json

from bot.cli import main

from conftest import QUESTIONS


def test_ask_json_shape(capsys, data_dir):
    assert main(["ask", "--json", "医保能在网上办吗"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["answered"] is True and "聊城医保" in result["answer"]
    source = result["sources"][0]
    assert set(source) == {"issue", "title", "date", "source", "score", "passage"}
    assert source["issue"] == "000_5799bfe337b1a530" and source["date"] == "2022-11-20"


def test_ask_human_output(capsys, data_dir):
    assert main(["ask", "城区过年能放鞭炮吗"]) == 0
    out = capsys.readouterr().out
    assert "禁止燃放烟花爆竹" in out and "《春节期间城区禁止燃放烟花爆竹》" in out and "<" not in out


def test_batch_keeps_order_for_lines_and_jsonl(capsys, data_dir, tmp_path):
    lines = tmp_path / "q.txt"
    lines.write_text("医保能在网上办吗\n\n公积金怎么提取\n柳园南路修到什么时候\n", "utf-8")
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text("\n".join(QUESTIONS.read_text("utf-8").splitlines()[:3]), "utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["ask", "--batch", str(lines), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["question"] for r in rows] == ["医保能在网上办吗", "公积金怎么提取", "柳园南路修到什么时候"]
    assert [r["answered"] for r in rows] == [True, False, True]
    assert main(["ask", "--batch", str(jsonl)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == [json.loads(l)["question"] for l in QUESTIONS.read_text("utf-8").splitlines()[:3]]


def test_malformed_batch_line_is_named(capsys, data_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "医保"}\n{"q": 1}\n', "utf-8")
    assert main(["ask", "--batch", str(bad)]) == 1
    assert "line 2" in capsys.readouterr().err


def test_chat_answers_until_empty_line(capsys, data_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("医保能在网上办吗\n\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "您好" in out and "聊城医保" in out


def test_eval_prints_all_three_modes(capsys, data_dir, tmp_path):
    subset = tmp_path / "subset.jsonl"
    rows = QUESTIONS.read_text("utf-8").splitlines()
    subset.write_text("\n".join(rows[:6] + rows[-3:]), "utf-8")
    assert main(["eval", str(subset), "--json"]) == 0
    results = {r["mode"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(results) == {"hybrid", "bm25", "dense"}
    hybrid = results["hybrid"]
    assert hybrid["answerable"] == 6 and hybrid["out_of_scope"] == 3
    assert hybrid["hit_at_1"] >= 0.8 and hybrid["latency_p95_ms"] > 0


def test_ask_without_index_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "empty"))
    assert main(["ask", "医保能在网上办吗"]) == 1
    assert "no index yet" in capsys.readouterr().err
