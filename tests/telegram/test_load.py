"""Load and abuse through the fake Bot API server: many users at once, flooding, admin checks."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import psutil
import pytest

from conftest import ADMIN, QUESTIONS, REPO
from fake_telegram import BOT, callback, message

QUESTION_TEXTS = [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines()]


async def test_200_questions_from_50_users_at_once(bot, fake_api):
    users = [300_000 + i for i in range(50)]
    asked = {u: [QUESTION_TEXTS[(i * 4 + k) % len(QUESTION_TEXTS)] for k in range(4)] for i, u in enumerate(users)}
    expected = {u: Counter(bot.engine.render(bot.engine.ask(q)) for q in qs) for u, qs in asked.items()}
    process = psutil.Process()
    rss_before = process.memory_info().rss
    for k in range(4):
        for u in users:
            fake_api.push(message(asked[u][k], u))
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", 200, None, 180)
    await asyncio.sleep(1.0)  # anything extra (a duplicate) would arrive now
    for u in users:
        replies = Counter(p["text"] for p in fake_api.sent("sendMessage", u))
        assert replies == expected[u]  # every question answered once, none lost, none doubled
    assert len(fake_api.sent("sendMessage")) == 200
    assert process.memory_info().rss - rss_before < 300 * 1024 * 1024


async def test_flood_limit_applies_per_user(bot, fake_api):
    limit = bot.settings.flood_limit
    for i in range(limit + 3):
        fake_api.push(message(f"医保能在网上办吗 {i}", 401))
    fake_api.push(message("区图书馆开门了吗", 402))
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", limit + 1, 401)
    calm = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 402)
    await asyncio.sleep(1.0)  # further notices would arrive now
    flooded = [p["text"] for p in fake_api.sent("sendMessage", 401) if "操作太快" in p["text"]]
    assert len(flooded) == 1 and len(fake_api.sent("sendMessage", 401)) == limit + 1  # one notice per flood
    assert "操作太快" not in calm[0]["text"] and "图书馆" in calm[0]["text"]


async def test_commands_and_buttons_share_the_flood_budget(bot, fake_api):
    """300 /latest and 50 presses of a title button from one user: the budget's worth answered, one notice,
    the flooded presses a toast each (no message); another user's question is answered promptly."""
    limit, flooder, calm_user, calm_question = bot.settings.flood_limit, 421, 422, "区图书馆开门了吗"
    bot.engine.ask(calm_question)  # warm: the wait measured is the queue's, not the first question's caches
    fake_api.push(message("/latest", flooder))
    first = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, flooder))[0]
    title = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    for _ in range(299):
        fake_api.push(message("/latest", flooder))
    for _ in range(50):
        fake_api.push(callback(title, flooder, markup=first["reply_markup"]))
    pushed = time.monotonic()
    fake_api.push(message(calm_question, calm_user))
    calm = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, calm_user))[0]
    waited = next(t for (m, p), t in zip(fake_api.calls, fake_api.times) if p.get("chat_id") == calm_user) - pushed
    toasts = await asyncio.to_thread(fake_api.wait_for, "answerCallbackQuery", 50)
    await asyncio.sleep(1.0)  # anything more would arrive now
    sent = fake_api.sent("sendMessage", flooder)
    notices = [p for p in sent if "操作太快" in p["text"]]
    print(f"the other user's answer after {waited:.2f} s; the flooder got {len(sent)} messages")
    assert len(notices) == 1 and len(sent) == limit + 1  # the budget's worth of /latest, one notice
    assert len(toasts) == 50 and all("操作太快" in t["text"] for t in toasts)  # each press told, on the button
    assert not fake_api.sent("editMessageText")
    assert "图书馆" in calm["text"] and waited < 3.0  # 300 answered /latest delayed it by 9.2 s


@pytest.fixture
def long_flood_notice(monkeypatch, tmp_path):
    """A flood template of 300 characters and a budget of one, set before the `bot` fixture starts."""
    edited = tmp_path / "templates.yaml"
    text = (REPO / "config" / "templates.yaml").read_text("utf-8")
    edited.write_text(text.replace("您操作太快了，请 {{ seconds }} 秒后再试。", "请稍候。" * 75), "utf-8")
    monkeypatch.setenv("BULLETIN_TEMPLATES_PATH", str(edited))
    monkeypatch.setenv("BULLETIN_FLOOD_LIMIT", "1")


async def test_a_flooded_button_notice_fits_telegrams_callback_answer(long_flood_notice, bot, fake_api):
    fake_api.push(message("/latest", 431))
    first = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 431))[0]
    title = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake_api.push(callback(title, 431, markup=first["reply_markup"]))
    toast = (await asyncio.to_thread(fake_api.wait_for, "answerCallbackQuery", 1))[0]
    assert toast["text"] == "请稍候。" * 50  # Telegram refuses a callback answer over 200 characters


async def test_admin_commands_refused_in_groups_too(bot, fake_api):
    group = -7001
    for command in ("/reload", "/status", "/unanswered 5", "/preview 医保"):
        fake_api.push(message(command, 501, group, "supergroup"))
    replies = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 4, group)
    assert all(r["text"] == bot.engine.templates.render("not_admin") for r in replies)
    fake_api.push(message("公积金怎么提取", 502))  # a resident's question, unanswered
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 502)
    for command in ("/unanswered 5", f"/unanswered@{BOT['username']}", "/preview 公积金怎么提取"):
        fake_api.push(message(command, ADMIN, group, "supergroup"))
    replies = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 7, group)
    await asyncio.sleep(0.5)
    assert len(fake_api.sent("sendMessage", group)) == 7
    for reply in replies[4:]:  # residents' questions are shown only in a private chat with an admin
        assert "私聊" in reply["text"] and "公积金" not in reply["text"]
    fake_api.push(message("/status", ADMIN, group, "supergroup"))  # shows no resident's question
    assert "索引版本" in (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 8, group))[-1]["text"]


async def test_preview_and_unanswered_for_admin(bot, fake_api):
    fake_api.push(message("公积金怎么提取", 601))
    await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 601)
    fake_api.push(message("/unanswered", ADMIN))
    unanswered = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, ADMIN)
    assert "1 × 公积金怎么提取" in unanswered[0]["text"]
    fake_api.push(message("/preview 医保能在网上办吗", ADMIN))
    preview = await asyncio.to_thread(fake_api.wait_for, "sendMessage", 2, ADMIN)
    assert "聊城医保" in preview[1]["text"]
