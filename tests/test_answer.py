"""Answers on the real bundled index: retrieval, recency, no-answer, extractive text."""

from __future__ import annotations

import json
from datetime import date

from bot.answer import question_parts
from index.normalize import normalize_text

from conftest import QUESTIONS


def bulletin_text(engine) -> str:
    return "".join(a.body for a in engine.loaded.snapshot.articles.values())


def test_medical_insurance_online(engine):
    answer = engine.ask("医保能在网上办吗")
    assert answer.answered
    assert answer.parts[0].title == "区医保系统疫情防控不松懈 群众线上办理“医”路通"
    assert "聊城医保" in answer.text
    reply = engine.render(answer)
    assert "2022-11-20" in reply and "(融媒体 全兴社 通讯员 冯雪松)" in reply


def test_every_quoted_sentence_comes_from_a_bulletin(engine):
    corpus = bulletin_text(engine)
    for line in QUESTIONS.read_text("utf-8").splitlines()[:40]:
        answer = engine.ask(json.loads(line)["question"])
        for part in answer.parts:
            for sentence in part.sentences:
                assert sentence.rstrip("…") in corpus


def test_traditional_question_finds_the_same_article(engine):
    simplified = engine.ask("医保最晚什么时候缴")
    traditional = engine.ask("醫保最晚什麼時候繳")
    assert traditional.ranked_ids == simplified.ranked_ids
    full_width = engine.ask("医保最晚什么时候缴？　")
    assert full_width.ranked_ids[0] == simplified.ranked_ids[0]


def test_question_no_bulletin_covers_gets_no_answer(engine):
    answer = engine.ask("公积金怎么提取")
    assert not answer.answered
    reply = engine.render(answer)
    assert reply.startswith("抱歉，现有简报中没有找到")
    price = engine.ask("游泳馆办张年卡多少钱")  # the pool article exists, but names no price
    assert not price.answered and price.reason in ("not_stated", "low_confidence")


def test_newer_issue_leads_when_two_answer_the_same_question(engine):
    answer = engine.ask("区图书馆开门了吗")
    assert answer.answered
    lead = answer.parts[0]
    assert (lead.issue_id, lead.title) == ("2022-12-12", "区图书馆、文化馆12月10日起恢复开放")
    older = engine.loaded.snapshot.articles[answer.ranked_ids[1]]
    assert older.title == "区图书馆、文化馆暂停对外开放"  # the older answer is still found, second


def test_stale_notice_states_the_age(engine):
    answer = engine.ask("区图书馆开门了吗", today=date(2023, 6, 1))
    assert answer.age_days == (date(2023, 6, 1) - date(2022, 12, 12)).days
    assert f"距今已 {answer.age_days} 天" in engine.render(answer)
    fresh = engine.ask("区图书馆开门了吗", today=date(2022, 12, 20))
    assert "距今" not in engine.render(fresh)


def test_multi_part_question_quotes_both_articles(engine):
    assert question_parts("柳园南路封到啥时候？过年除夕公交几点收车") == ["柳园南路封到啥时候", "过年除夕公交几点收车"]
    answer = engine.ask("柳园南路封到啥时候？过年除夕公交几点收车")
    titles = {p.title for p in answer.parts}
    assert {"柳园南路雨污分流改造 部分路段封闭施工", "春节期间城区公交运营时间调整"} <= titles
    assert "2023年1月20日" in answer.text and "18:00" in answer.text


def test_english_question_finds_chinese_article(engine):
    answer = engine.ask("What is the minimum indoor temperature the heating is supposed to reach?")
    assert answer.answered and "18℃" in answer.text


def test_empty_and_symbol_only_questions_ask_for_a_question(engine):
    for text in ["", "   ", "？？？", "👍", "\u200b\u200b"]:
        answer = engine.ask(text)
        assert answer.reason == "empty_question"
        assert "请用文字提出您的问题" in engine.render(answer)


def test_normalization():
    assert normalize_text("  體育場館　ＡＢＣ１２３？ ") == "体育场馆 abc123?"
    assert normalize_text("医\u200b保") == "医保"


def test_an_answer_must_state_what_was_asked(engine):
    # the article on testing sites says mixed sampling is free, not what a single-tube test costs
    single = engine.ask("单人单管的核酸多少钱一次")
    assert not single.answered and single.reason == "not_stated"
    assert "抱歉" in engine.render(single)
    gas = engine.ask("燃气公司上门检查要收钱吗")
    assert gas.answered and "不收取任何费用" in gas.text
    # only COVID-19 vaccination sites are in the bulletins
    assert not engine.ask("狂犬疫苗在哪打").answered
    roadwork = engine.ask("柳园南路修到什么时候")
    assert roadwork.answered and "2023年1月20日" in roadwork.text


def test_a_list_of_steps_is_quoted_whole_and_in_order(engine):
    answer = engine.ask("异地就医备案怎么弄")
    steps = [answer.text.find(f"第{n}步") for n in "一二三四"]
    assert -1 not in steps and steps == sorted(steps)
    assert "聊城医保" in answer.text
