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


def test_question_pairs_straddling_a_function_word_do_not_search():
    from index.normalize import query_terms, tokenize

    terms = query_terms("下雪天开车要注意啥")
    assert "开车" in terms and "注意" in terms
    assert "要注" not in terms and "车要" not in terms and "意啥" not in terms
    assert "要注" in tokenize("下雪天开车要注意啥")  # passages keep every pair


def test_a_filler_pair_no_longer_outranks_the_topic(engine):
    # the title "科学居家用药 这几点要注意" shares only 注意/要注 with the question
    answer = engine.ask("下雪天开车要注意啥")
    assert answer.parts[0].title == "雨雪天气 区交警大队提醒安全出行"
