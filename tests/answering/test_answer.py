"""Answers on the real bundled index: retrieval, recency, no-answer, extractive text."""

from __future__ import annotations

import json
from datetime import date

from bot.answering.answer import question_parts
from index.normalize import normalize_text

from conftest import QUESTIONS


def bulletin_text(engine) -> str:
    return "".join(a.body for a in engine.loaded.snapshot.articles.values())


def test_medical_insurance_online(engine):
    answer = engine.ask("医保能在网上办吗")
    assert answer.outcome == "answer" and answer.answered
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
                assert sentence.removesuffix("……") in corpus


def test_traditional_question_finds_the_same_article(engine):
    simplified = engine.ask("医保最晚什么时候缴")
    traditional = engine.ask("醫保最晚什麼時候繳")
    assert traditional.ranked_ids == simplified.ranked_ids
    full_width = engine.ask("医保最晚什么时候缴？　")
    assert full_width.ranked_ids[0] == simplified.ranked_ids[0]


def test_question_no_bulletin_covers_gets_no_answer(engine):
    answer = engine.ask("公积金怎么提取")
    assert answer.outcome == "none" and not answer.answered
    reply = engine.render(answer)
    assert reply.startswith("抱歉，现有简报中没有找到")
    price = engine.ask("游泳馆办张年卡多少钱")  # the pool article exists, but names no price
    assert price.outcome == "none"


def test_newer_issue_leads_when_two_speak_to_the_same_question(engine):
    # 11-28 closed the library, 12-12 reopened it, 02-20 changed its hours: the newest speaks
    answer = engine.ask("区图书馆开门了吗")
    assert answer.outcome in ("answer", "related")
    lead = answer.parts[0]
    assert (lead.issue_id, lead.title) == ("2023-02-20", "区图书馆2月21日起延长开放时间")
    assert "暂停对外开放" not in engine.render(answer)


def test_stale_notice_states_the_age_in_human_units(engine):
    answer = engine.ask("图书馆几点开门", today=date(2026, 12, 1))
    assert answer.age_days == (date(2026, 12, 1) - date(2023, 2, 20)).days
    assert "约3年9个月前" in engine.render(answer)
    fresh = engine.ask("图书馆几点开门", today=date(2023, 3, 1))
    assert "⚠️" not in engine.render(fresh)


def test_multi_part_question_quotes_both_parts(engine):
    assert question_parts("柳园南路封到啥时候？过年除夕公交几点收车") == ["柳园南路封到啥时候", "过年除夕公交几点收车"]
    answer = engine.ask("柳园南路封到啥时候？过年除夕公交几点收车")
    assert answer.outcome == "answer"
    assert "春节期间城区公交运营时间调整" in {p.title for p in answer.parts}
    assert "18:00" in answer.text


def test_english_question_finds_chinese_article(engine):
    answer = engine.ask("What is the minimum indoor temperature the heating is supposed to reach?")
    lead = engine.loaded.snapshot.articles[answer.ranked_ids[0]]
    assert lead.title == "我区2022—2023年度供暖季正式启动 供热服务热线公布"
    assert answer.outcome != "none" and "18℃" in answer.text


def test_empty_and_symbol_only_questions_ask_for_a_question(engine):
    for text in ["", "   ", "？？？", "\u200b\u200b"]:  # "👍" is thanks (tests/telegram/test_telegram.py)
        answer = engine.ask(text)
        assert answer.reason == "empty_question"
        assert "请用文字提出您的问题" in engine.render(answer)


def test_normalization():
    assert normalize_text("  體育場館　ＡＢＣ１２３？ ") == "体育场馆 abc123?"
    assert normalize_text("医\u200b保") == "医保"


def test_an_answer_must_state_what_was_asked(engine):
    # only COVID-19 vaccination sites are in the bulletins
    assert not engine.ask("狂犬疫苗在哪打").answered
    # the pool article says which codes are checked, not what a season ticket costs
    assert not engine.ask("游泳馆年卡多少钱").answered
    gas = engine.ask("燃气泄漏打什么电话")
    assert gas.outcome != "none" and "0635-8329110" in gas.text


def test_a_list_of_steps_is_quoted_whole_and_in_order(engine):
    answer = engine.ask("异地就医备案怎么弄")
    steps = [answer.text.find(f"第{n}步") for n in "一二三四"]
    assert -1 not in steps and steps == sorted(steps)
    assert "聊城医保" in answer.text
