"""Fitting the answerability model on labelled questions, loading it, and the topic links it relies on."""

from __future__ import annotations

import json

import pytest

from bot.answering.answerability import AnswerModel
from bot.answering.evidence import Evidence, SentenceEvidence
from bot.answering.recency import SUPERSEDE_FEATURES
from bot.cli import main
from bot.tuning import MODEL_PATH
from index.types import BulletinError

from conftest import REPO

TRUST = REPO / "samples" / "eval" / "trust_questions.jsonl"


def tune_subset(path):
    """45 tune questions (30 answerable) and 20 check questions that fitting must ignore, written to `path`."""
    rows = [json.loads(line) for line in TRUST.read_text("utf-8").splitlines()]
    tune = [r for r in rows if r["split"] == "tune"]
    subset = [r for r in tune if r["gold"]][:30] + [r for r in tune if not r["gold"]][:15]
    subset += [r for r in rows if r["split"] == "check"][:20]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in subset), "utf-8")
    return path


def test_fit_uses_only_the_tune_split_and_writes_a_model_that_serves(capsys, data_dir, tmp_path, monkeypatch):
    questions = tune_subset(tmp_path / "q.jsonl")
    output = tmp_path / "model.json"
    assert main(["fit", str(questions), "--output", str(output)]) == 0
    assert "fitted on 45 questions" in capsys.readouterr().out
    model = AnswerModel.load(output)
    assert model.fitted_on["questions"] == 45 and model.fitted_on["split"] == "tune"
    assert 0 <= model.related_threshold <= model.answer_threshold <= 1
    assert model.linear.features == Evidence.names() and model.sentence.features == SentenceEvidence.names()
    assert model.supersede.features == SUPERSEDE_FEATURES and model.fitted_on["supersede_pairs"]["examples"] > 0
    # the exported trees reproduce scikit-learn (checked in fit) and the model answers through the CLI
    monkeypatch.setenv("BULLETIN_ANSWER_MODEL_PATH", str(output))
    assert main(["ask", "--json", "异地就医备案怎么弄"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["outcome"] in ("answer", "related", "none") and result["confidence"] > 0


def test_refitting_only_the_supersede_model_keeps_the_answer_model(capsys, data_dir, tmp_path):
    output = tmp_path / "model.json"
    output.write_bytes(MODEL_PATH.read_bytes())
    shipped = AnswerModel.load(MODEL_PATH)
    questions = tune_subset(tmp_path / "q.jsonl")
    assert main(["fit", str(questions), "--output", str(output), "--supersede-only"]) == 0
    assert "supersede model refitted on" in capsys.readouterr().out
    model = AnswerModel.load(output)
    assert (model.answer_threshold, model.related_threshold) == (shipped.answer_threshold, shipped.related_threshold)
    assert model.linear.weights.tolist() == shipped.linear.weights.tolist() and model.trees == shipped.trees
    assert model.supersede.weights.tolist() != shipped.supersede.weights.tolist()  # fitted on 45, not 236
    assert model.fitted_on["supersede"]["questions"] == 45 and model.fitted_on["questions"] >= 200


def test_the_shipped_model_records_what_it_was_fitted_on():
    model = AnswerModel.load(MODEL_PATH)
    assert model.fitted_on["split"] == "tune" and model.fitted_on["questions"] >= 200
    assert "trust_questions.jsonl" in " ".join(model.fitted_on["files"])


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "model.json"
    broken.write_text("{not json", "utf-8")
    with pytest.raises(BulletinError, match="model.json: not a usable answerability model"):
        AnswerModel.load(broken)
    data = json.loads(MODEL_PATH.read_text("utf-8"))
    data["linear"]["features"] = data["linear"]["features"][:-1]
    broken.write_text(json.dumps(data), "utf-8")
    with pytest.raises(BulletinError, match="refit"):
        AnswerModel.load(broken)
    data = json.loads(MODEL_PATH.read_text("utf-8"))  # a file fitted before the supersede model
    del data["supersede"]
    data["recency_margin"] = 0.8
    broken.write_text(json.dumps(data), "utf-8")
    with pytest.raises(BulletinError, match="fitted before the supersede model .* refit it with `bulletin-bot fit`"):
        AnswerModel.load(broken)


def test_articles_on_the_same_topic_across_issues_are_linked(engine, capsys):
    retriever = engine.loaded.retriever
    ids = {a.title: a.article_id for a in engine.loaded.snapshot.articles.values()}
    library = [
        ids["区图书馆、文化馆暂停对外开放"],
        ids["区图书馆、文化馆12月10日起恢复开放"],
        ids["区图书馆2月21日起延长开放时间"],
    ]
    assert retriever.linked(library[0], library[1]) and retriever.linked(library[1], library[2])
    assert not retriever.linked(library[0], ids["冬季火灾高发 这些消防安全常识要牢记"])
    assert main(["index", "list", "--links"]) == 0
    out = capsys.readouterr().out
    assert "《区图书馆、文化馆暂停对外开放》 → 2022-12-12 《区图书馆、文化馆12月10日起恢复开放》" in out
