"""The console's status page and the marker a serving bot keeps in DATA_DIR (bot/running.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from starlette.testclient import TestClient

from bot.console.app import create_app
from bot.running import MARKER, clear_running, mark_running, running_since
from bot.settings import load_settings

from console_helpers import STAFF, STAFF_PASSWORD, make_accounts, sign_in, text_of


async def test_a_serving_bot_marks_the_data_directory(bot, data_dir):
    assert running_since(data_dir) == bot.started_at
    assert json.loads((data_dir / MARKER).read_text())["pid"] == os.getpid()


def test_the_marker_is_cleared_by_its_own_process_and_ignored_when_stale(tmp_path):
    mark_running(tmp_path, 123.0)
    assert running_since(tmp_path) == 123.0
    clear_running(tmp_path)
    assert running_since(tmp_path) is None and not (tmp_path / MARKER).exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / MARKER).write_text(json.dumps({"pid": dead.pid, "started_at": 1.0}))
    assert running_since(tmp_path) is None  # killed without shutting down


def test_the_status_page(data_dir):
    make_accounts(data_dir)
    client = TestClient(create_app(load_settings(embedding_threads=2)), base_url="http://127.0.0.1")
    sign_in(client, STAFF, STAFF_PASSWORD)
    shown = text_of(client.get("/status").text)
    current = (data_dir / "CURRENT").read_text().strip()
    assert f"当前索引版本 {current}" in shown and "期数 / 文章 / 段落 7 / 74 / 309" in shown
    assert "最近构建 20" in shown and "+00:00" not in shown  # in BULLETIN_TIMEZONE, as /status shows it
    assert "机器人 未在运行" in shown and "关注者 0 个聊天" in shown and "问题日志 尚无提问" in shown
    mark_running(data_dir, 1_700_000_000.0)
    assert "机器人 运行中，启动于 2023-11-15 06:13:20" in text_of(client.get("/status").text)  # Asia/Shanghai
