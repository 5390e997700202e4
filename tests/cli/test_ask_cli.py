"""`ask`, `ask --batch`, `chat` and `eval` through the real CLI on the real index."""

from __future__ import annotations

import io
import json

from bot.cli import main

from conftest import QUESTIONS, REPO

TRUST = REPO / "samples" / "eval" / "trust_questions.jsonl"


def test_ask_json_shape(capsys, data_dir):
    assert main(["ask", "--json", "医保能在网上办吗"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] == "answer" and result["answered"] is True and "聊城医保" in result["answer"]
    assert 0 < result["confidence"] <= 1
    source = result["sources"][0]
    assert set(source) == {"issue", "title", "date", "source", "score", "probability", "quote"}
    assert source["issue"] == "000_5799bfe337b1a530" and source["date"] == "2022-11-20"
    assert "聊城医保" in source["quote"]


def test_ask_human_output(capsys, data_dir):
    assert main(["ask", "城区过年能放鞭炮吗"]) == 0
    out = capsys.readouterr().out
    assert "禁止燃放烟花爆竹" in out and "《春节期间城区禁止燃放烟花爆竹》" in out and "<" not in out
    assert main(["ask", "公积金怎么提取"]) == 0
    assert "没有找到" in capsys.readouterr().out


def test_batch_keeps_order_for_lines_and_jsonl(capsys, data_dir, tmp_path):
    lines = tmp_path / "q.txt"
    lines.write_text("医保能在网上办吗\n\n公积金怎么提取\n柳园南路修到什么时候\n", "utf-8")
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text("\n".join(QUESTIONS.read_text("utf-8").splitlines()[:3]), "utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["ask", "--batch", str(lines), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["question"] for r in rows] == ["医保能在网上办吗", "公积金怎么提取", "柳园南路修到什么时候"]
    assert [r["outcome"] for r in rows][:2] == ["answer", "none"]
    assert [r["answered"] for r in rows] == [r["outcome"] == "answer" for r in rows]
    assert main(["ask", "--batch", str(jsonl)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == [
        json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines()[:3]
    ]


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


def test_eval_reports_each_split_and_kind_with_the_baselines(capsys, data_dir, tmp_path):
    subset = tmp_path / "subset.jsonl"
    rows = [json.loads(line) for line in TRUST.read_text("utf-8").splitlines()]
    answerable = [r for r in rows if r["gold"] and r["kind"] == "fact"]
    oos = [r for r in rows if r["kind"] == "oos_offtopic"]
    picked = answerable[:4] + oos[:4]
    subset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in picked), "utf-8")
    assert main(["eval", str(subset), "--json"]) == 0
    results = {r["group"]: r for r in json.loads(capsys.readouterr().out)}
    splits = {r["split"] for r in picked}
    assert {"all", *splits} <= set(results)
    assert {f"{s}/{r['kind']}" for r in picked for s in [r["split"]]} <= set(results)
    whole = results["all"]
    assert whole["answerable"] == 4 and whole["out_of_scope"] == 4
    assert results[next(f"{r['split']}/oos_offtopic" for r in oos[:4])]["oos_answered"] == 0.0
    assert whole["hit_at_1"] >= 0.5 and 0 <= whole["hit_at_1_bm25"] <= 1 and whole["latency_p95_ms"] > 0
    assert main(["eval", str(subset)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["group", "n", "oos→answer"]


def test_ask_without_index_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "empty"))
    assert main(["ask", "医保能在网上办吗"]) == 1
    assert "no index yet" in capsys.readouterr().err
