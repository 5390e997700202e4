"""Pinyin-input typos: corrected against the words of the real bundled index, and only real typos."""

import pytest

from bot.answering.spelling import Speller


@pytest.fixture
def speller(engine):
    return Speller(engine.loaded.snapshot.lexical)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("医宝", "医保"), ("被案", "备案"), ("志原者", "志愿者"), ("节加", "节假"), ("时侯", "时候")],
)
def test_a_word_no_bulletin_uses_is_read_as_the_homophone_the_bulletins_use(speller, typed, meant):
    assert speller.meant(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "医保",  # the bulletins use it
        "护照",  # a real word the bulletins never use: its homophone 护着 is no word
        "工伤",  # 工商 is a word the bulletins use, but 工伤 is too common to be a slip for it
        "下雪",  # 下学: the word typed is the more common one
        "还要",  # 不要 shares a rare reading of 还 only
        "passport",
        "医",
    ],
)
def test_a_real_word_is_left_alone(speller, word):
    assert speller.meant(word) is None


def test_correcting_keeps_every_other_character_of_the_question(speller):
    assert speller.correct("刚生的娃医宝得在多少天里头交上？ ok") == "刚生的娃医保得在多少天里头交上？ ok"
    assert speller.correct("医保能在网上办吗？") == "医保能在网上办吗？"
    # jieba joins the typo to the function word after it ("医宝能")
    assert speller.correct("医宝能在网上办吗") == "医保能在网上办吗"


def test_a_question_with_a_typo_is_answered_as_if_typed_right(engine):
    # both were "related" before: the typo counted as a specific word the article lacks
    volunteer = engine.ask("湖西社区核酸点老太太摔到了，扶她那个志原者叫啥名")
    assert volunteer.outcome == "answer" and "申庆生" in volunteer.text
    online = engine.ask("医宝能在网上办吗")
    assert online.outcome == "answer" and "网上办" in online.text
    clinic = engine.ask("核酸门诊几点开门，节加日开不开")
    assert clinic.outcome == "answer" and "节假日不休息" in clinic.text
