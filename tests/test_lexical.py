"""The stored BM25 index: scores like BM25, grows in place, survives a save/load round trip."""

import numpy as np

from index.lexical import LexicalIndex


def test_scores_rank_matching_passages_and_idf_favours_rare_terms():
    index = LexicalIndex.empty().extended([["医保", "网上", "办理"], ["游泳馆", "消毒"], ["医保", "缴费"]])
    scores = index.scores(["医保", "网上"])
    assert scores.argmax() == 0 and scores[1] == 0 and scores[2] > 0
    assert index.idf("网上") > index.idf("医保") > 0
    assert index.idf("从未出现") > index.idf("网上")


def test_extend_and_select_keep_rows_aligned(tmp_path):
    index = LexicalIndex.empty().extended([["a", "b"], ["c"]])
    grown = index.extended([["d", "a"]])
    assert grown.size == 3 and index.size == 2  # the original is unchanged
    assert grown.scores(["d"]).argmax() == 2
    picked = grown.select([2, 0])
    assert picked.scores(["d"]).tolist()[0] > 0 and picked.scores(["d"]).tolist()[1] == 0
    picked.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert np.allclose(loaded.scores(["a", "d"]), picked.scores(["a", "d"]))
