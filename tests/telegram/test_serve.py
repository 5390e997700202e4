"""`bulletin-bot serve` as a real process: start-up failures are one clear line and never show the token."""

from __future__ import annotations

import io
import logging
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from index.builder import IndexBuilder
from index.store import IndexStore

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE, TOKEN, serve_env
from fake_telegram import message

REVOKED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def serve(data_dir, tmp_path, base_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=serve_env(data_dir, base_url, REVOKED),
        capture_output=True,
        timeout=120,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "case, setting",
    [
        ("revoked token (401)", "BULLETIN_TELEGRAM_TOKEN"),
        ("wrong base URL (404)", "BULLETIN_TELEGRAM_BASE_URL"),
        ("nothing listening", "BULLETIN_TELEGRAM_BASE_URL"),
    ],
)
def test_start_up_failure_is_one_line_without_the_token(case, setting, data_dir, tmp_path, fake_api):
    base_url = {
        "revoked token (401)": fake_api.base_url,
        "wrong base URL (404)": fake_api.base_url.replace("/bot", "/telegram/bot"),
        "nothing listening": f"http://127.0.0.1:{closed_port()}/bot",
    }[case]
    result = serve(data_dir, tmp_path, base_url)
    assert result.returncode == 1
    outputs = [result.stdout, result.stderr] + [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    for secret in (REVOKED, REVOKED.split(":")[1]):
        assert not any(secret.encode() in output for output in outputs)
    # the INFO lines operators see (start-up, index loaded) and then the one error line
    lines = [line for line in result.stderr.decode().strip().splitlines() if " INFO " not in line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and setting in lines[0], result.stderr.decode()
    assert "Traceback" not in lines[0]


def test_serve_answers_logs_for_operators_and_stops_cleanly(data_dir, tmp_path, fake_api, embedder):
    """At the default level (no -v) the log has the start-up line and each index switch."""
    first = IndexStore(data_dir, KEEP_VERSIONS).current()
    env = serve_env(data_dir, fake_api.base_url, TOKEN) | {
        "BULLETIN_RELOAD_INTERVAL": "0.3",
        "BULLETIN_ADMIN_IDS": "111,222",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        fake_api.push(message("医保能在网上办吗", 801))
        reply = fake_api.wait_for("sendMessage", 1, 801, timeout=90)[0]
        assert "聊城医保" in reply["text"]
        IndexBuilder(IndexStore(data_dir, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).add([NEW_ISSUE])
        for attempt in range(2, 40):  # the new issue is answered once the bot has switched
            fake_api.push(message("元宵节灯会在哪里办", 802))
            if "古楼广场" in fake_api.wait_for("sendMessage", attempt - 1, 802, timeout=30)[-1]["text"]:
                break
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert TOKEN.encode() not in out + err
    log = err.decode()
    assert re.search(
        rf"INFO bot.telegram.app: bulletin-bot serving by polling: index version {first}, \d+ issues, 2 admins", log
    )
    assert f"INFO bot.engine: serving index version {IndexStore(data_dir, KEEP_VERSIONS).current()}" in log


def test_token_is_redacted_from_logged_tracebacks():
    from telegram.error import InvalidToken

    from bot.telegram.app import RedactToken

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactToken(REVOKED))
    log = logging.getLogger("test_serve.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        raise InvalidToken(f"The token `{REVOKED}` was rejected by the server.")
    except InvalidToken:
        log.exception("request to /bot%s/getMe failed", REVOKED)
    log.removeHandler(handler)
    assert "InvalidToken: The token `<token>` was rejected" in stream.getvalue()
    assert REVOKED.split(":")[1] not in stream.getvalue()
