"""The reader's probe, fitted on the tune pool's cached hidden states (samples/eval/reader/), and the stop
rule measured on the sets it never saw. Needs no model: the vectors are the model's, read once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.evaluation.reader_data import VECTORS, load_examples
from bot.evaluation.reader_fit import auc, operating_point
from bot.reader.cache import VectorCache
from bot.reader.model_file import EXPECTED_SHA256, ReaderError
from bot.reader.probe import ReaderProbe
from bot.tuning import MODEL_PATH, READER_PROBE_PATH

FOLDER = Path(__file__).resolve().parents[2] / "samples" / "eval" / "reader"
PROBE = ReaderProbe.load(READER_PROBE_PATH, EXPECTED_SHA256)
FITTED = set(PROBE.fitted_on["sets"])


@pytest.fixture(scope="module")
def data():
    examples = load_examples(FOLDER)
    cache = VectorCache(FOLDER / VECTORS)
    tune = [e for e in examples if e.set in FITTED or f"{e.set}:{e.split}" in FITTED]
    held = [e for e in examples if e not in tune]
    return tune, held, cache


def test_every_quoted_question_has_its_vector(data):
    tune, held, cache = data
    assert len(tune) > 600 and len(held) > 700
    assert all(cache.get(e.key) is not None for e in tune + held if e.key)


def test_the_stop_rule_holds_on_the_sets_never_fitted_on(data):
    """At most 10% of out-of-scope questions answered: right answers rise by at least 0.10 with the reader."""
    _, held, cache = data
    point = operating_point(held, cache, PROBE, 0.10)
    assert point.out_of_scope > 250
    assert point.right_reader - point.right_offline >= 0.10
    assert point.auc_reader > point.auc_offline


def test_auc_counts_ties_half():
    assert auc(np.array([1.0, 1.0]), np.array([1, 0])) == 0.5
    assert auc(np.array([2.0, 1.0]), np.array([1, 0])) == 1.0


def test_a_damaged_cache_is_one_line(tmp_path):
    bad = tmp_path / VECTORS
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ReaderError, match="is not a vector cache"):
        VectorCache(bad)


def test_fit_reader_only_gives_the_shipped_probe_without_an_index(data, tmp_path, monkeypatch, capsys):
    """`fit --reader-only` on the tune pool gives the shipped probe; it reads collected examples, so an
    empty data directory (no index) is no obstacle."""
    tune, _, cache = data
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "empty"))
    written = tmp_path / "probe.json"
    questions = str(FOLDER.parents[0] / "trust_questions.jsonl")
    args = ["fit", questions, "--output", str(MODEL_PATH), "--reader", str(written), "--reader-only"]
    assert main([*args, "--vectors", str(FOLDER / VECTORS)]) == 0
    assert "reader probe fitted on" in capsys.readouterr().out
    assert not (tmp_path / "empty" / "index").exists()
    probe = ReaderProbe.load(written, EXPECTED_SHA256)
    assert probe.fitted_on["C"] == PROBE.fitted_on["C"]
    assert abs(probe.answer_threshold - PROBE.answer_threshold) < 1e-3
    for e in [e for e in tune[:20] if e.key]:
        vector = cache.get(e.key)
        assert abs(probe.probability(vector, e.offline) - PROBE.probability(vector, e.offline)) < 1e-4
    # across the question files, the stacked score ranks right quotes above wrong ones better
    assert probe.fitted_on["cv_auc_stacked"] > probe.fitted_on["cv_auc_offline"]
