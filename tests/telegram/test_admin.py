"""Admin commands and template failures, through the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import time

import pytest
import yaml

from bot.replies.templates import DEFAULT_PATH

from conftest import ADMIN
from fake_telegram import message
from telegram_html import check_telegram_html


async def replies(api, chat_id, count=1):
    return await asyncio.to_thread(api.wait_for, "sendMessage", count, chat_id)


@pytest.fixture
def slow_for_some_questions(tmp_path, monkeypatch):
    """The no-answer template loops for minutes on questions with 慢, which no sample has (requested
    before `bot`, so the bot is built with it)."""
    path = tmp_path / "templates.yaml"
    data = yaml.safe_load(DEFAULT_PATH.read_text("utf-8"))
    data["no_answer"] = (
        "抱歉，没有找到。{% if '慢' in question %}{% for i in range(9000) %}{% for j in range(9000) %}"
        "{% endfor %}{% endfor %}{% endif %}"
    )
    # the question below is about nothing the bulletins cover: it gets the no-answer reply
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monkeypatch.setenv("BULLETIN_TEMPLATES_PATH", str(path))
    return path


async def test_slow_template_holds_up_no_one_and_gets_the_built_in_reply(
    slow_for_some_questions, bot, fake_api, caplog
):
    """A nested loop in a template blocked another user's /start for 7.6 s."""
    fake_api.push(message("慢慢慢 公积金怎么提取", 301))
    await asyncio.sleep(0.5)  # the slow render has started
    started = time.monotonic()
    fake_api.push(message("/start", 302))
    greeting = (await replies(fake_api, 302))[0]["text"]
    assert time.monotonic() - started < 1.5 and "您好" in greeting
    slow = (await replies(fake_api, 301))[0]["text"]
    assert slow.startswith("抱歉，现有简报中没有找到能回答这个问题的内容") and "12345" in slow  # built in
    check_telegram_html(slow)
    assert "template 'no_answer' failed at run time" in caplog.text


async def test_reload_with_a_broken_template_keeps_the_old_ones(bot, fake_api, tmp_path, caplog):
    path = tmp_path / "templates.yaml"
    shutil.copy(DEFAULT_PATH, path)
    bot.engine.templates.path = path
    path.write_text(path.read_text("utf-8").replace("谢谢您的反馈！", "谢谢<br>"), "utf-8")
    fake_api.push(message("/reload", ADMIN))
    reply = html.unescape((await replies(fake_api, ADMIN))[0]["text"])
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1) if "谢谢<br>" in text)
    assert "模板未更新，继续使用旧模板" in reply and f"line {line}, template 'feedback_thanks'" in reply
    assert "<br> is not a Telegram tag" in reply
    assert "templates not reloaded" in caplog.text
    assert bot.engine.templates.render("feedback_thanks") == "谢谢您的反馈！"


async def test_preview_without_a_question_is_a_usage_hint(bot, fake_api):
    fake_api.push(message("/preview", ADMIN))
    assert (await replies(fake_api, ADMIN))[0]["text"].startswith("用法：/preview 问题")


async def test_preview_shows_the_answer_and_how_it_was_decided(bot, fake_api):
    fake_api.push(message("/preview 医保能在网上办吗", ADMIN))
    text = (await replies(fake_api, ADMIN))[0]["text"]
    check_telegram_html(text)
    answer, _, decision = text.rpartition("\n\n")
    assert "聊城医保" in answer
    assert re.match(r"<i>结果：(answer|related)，置信度：0\.\d\d，原因：(answered|related)，", decision), decision
    assert "引用：《区医保系统疫情防控不松懈 群众线上办理“医”路通》（2022-11-20）" in decision


async def test_status_shows_times_in_the_configured_zone(bot, fake_api):
    fake_api.push(message("/status", ADMIN))
    status = (await replies(fake_api, ADMIN))[0]["text"]
    assert "（Asia/Shanghai）" in status and "最近构建：20" in status and "启动于 20" in status
