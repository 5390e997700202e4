"""Resident text built to make a regular expression backtrack: every message is read in linear time, and a
hostile message never delays another resident's answer (through the fake Bot API)."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answering.message import clean_question, social_act

from fake_telegram import message

# The words the greeting and thanks patterns repeat, and the marks between them: the alphabet of the strings
# that made nested repetition explode ("嗯"*26+"吗" took 56 s; "明白了"*20+"吗" seconds).
PIECES = ["嗯", "明白", "了", "明白了", "好", "的", "谢", "谢谢", "你好", "在吗", "啊", "，", "！", " ", "吗", "x", "1"]
HOSTILE = ["嗯" * 26 + "吗", "明白了" * 20 + "吗", "嗯" * 499 + "吗", "你好，" * 166 + "吗", "谢谢你的" * 125 + "?"]
BUDGET_S = 0.05  # well under a tenth of a second per message, whatever it holds (the 27-character message took
# 56 s; backtracking doubles with each character, so a nested pattern would blow this at 40 characters); 5 ms
# was missed at 8 ms on 2 cores at load 15


def read_time(text: str) -> float:
    started = time.perf_counter()
    social_act(clean_question(text))
    return time.perf_counter() - started


def test_known_hostile_messages_are_read_in_milliseconds():
    read_time("预热")
    for text in HOSTILE:
        assert read_time(text) < BUDGET_S, text[:20]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=250).map("".join).map(lambda s: s[:500]))
def test_any_message_of_the_patterns_own_words_is_read_in_milliseconds(text):
    assert read_time(text) < BUDGET_S


def test_greetings_and_thanks_still_recognised():
    assert social_act(clean_question("你好")) == "greeting"
    assert social_act(clean_question("嗯嗯")) == "thanks"
    assert social_act(clean_question("明白了，谢谢！")) == "thanks"
    assert social_act(clean_question("嗯" * 26 + "吗")) is None  # not a greeting: read as a question
    assert clean_question("你好，HPV疫苗在哪打") == "hpv疫苗在哪打"


async def test_a_hostile_message_does_not_delay_another_residents_answer(bot, fake_api):
    fake_api.push(message("嗯" * 26 + "吗", 701))
    fake_api.push(message("明白了" * 20 + "吗", 701))
    started = time.monotonic()
    fake_api.push(message("区图书馆开门了吗", 702))
    reply = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 702, 30)
    assert "图书馆" in reply[0]["text"]
    assert time.monotonic() - started < 5.0  # the 27-character message alone held every chat for 56 s
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", 2, 701, 30)
