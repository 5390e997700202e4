"""The LLM selector under load, through the fake Bot API: waiting for the model holds up no other reply."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.engine import Judges
from bot.tuning import JUDGE

from conftest import ADMIN, QUESTIONS
from fake_llm import FakeLlm
from fake_telegram import message

TIMEOUT = 2.0  # BULLETIN_LLM_TIMEOUT of these tests
MARGIN = 2.0  # the replies through the fake Bot API (0.7–0.9 s here), on a busy shared machine
QUESTION_TEXTS = [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines()]


@pytest.fixture
def silent_llm(monkeypatch):
    """An endpoint that accepts every request and never answers, set before the `bot` fixture starts."""
    llm = FakeLlm(mode="silent").start()
    monkeypatch.setenv("BULLETIN_LLM_URL", llm.url)
    monkeypatch.setenv("BULLETIN_LLM_MODEL", "fake-qwen")
    monkeypatch.setenv("BULLETIN_LLM_TIMEOUT", str(TIMEOUT))
    yield llm
    llm.stop()


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def replied_at(api, chat_id: int) -> float:
    """When the bot's first sendMessage to `chat_id` reached the fake API (time.monotonic())."""
    with api._cond:
        return next(t for (m, p), t in zip(api.calls, api.times) if m == "sendMessage" and p["chat_id"] == chat_id)


async def test_24_questions_to_a_silent_llm_wait_at_most_the_timeout_and_start_waits_for_none(
    silent_llm, bot, fake_api, monkeypatch
):
    asked = {800_000 + i: QUESTION_TEXTS[i] for i in range(24)}
    # the real offline answers, computed before the clock starts: on this shared 2-core machine 24 of them
    # take 7–45 s, which would measure the CPU, not the wait for the model
    answers = {q: bot.engine.ask(q, judges=Judges()) for q in asked.values()}
    offline = {u: bot.engine.render(answers[q]) for u, q in asked.items()}
    monkeypatch.setattr("bot.engine.answer_question", lambda retriever, model, question, **_: answers[question])
    selector = bot.engine.judges.selector
    assert selector is not None
    pushed = time.monotonic()
    for u, q in asked.items():
        fake_api.push(message(q, u))
    # every LLM slot is taken by a call that will never be answered: /start must not wait for any of them
    await asyncio.to_thread(wait_until, lambda: len(silent_llm.requests) >= JUDGE.workers)
    greeted = time.monotonic()
    fake_api.push(message("/start", 899_998))
    fake_api.push(message("你好", 899_999))
    for u in (899_998, 899_999):
        await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, u)
    start_wait, hello_wait = (replied_at(fake_api, u) - greeted for u in (899_998, 899_999))
    for u in asked:
        await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, u)
    waits = sorted(replied_at(fake_api, u) - pushed for u in asked)
    print(f"/start {start_wait:.2f} s, 你好 {hello_wait:.2f} s; questions {waits[0]:.2f}–{waits[-1]:.2f} s")
    assert start_wait < 1.0 and hello_wait < 1.0
    assert waits[-1] < TIMEOUT + MARGIN  # each resident: at most the timeout plus the offline answer
    for u in asked:  # the offline answer, every one counted as a fallback
        assert fake_api.sent("sendMessage", u)[0]["text"] == offline[u]
    assert selector.calls == selector.failures >= 20
    fake_api.push(message("/status", ADMIN))
    status = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, ADMIN))[0]["text"]
    assert f"回退离线判断 {selector.failures} 次" in status
