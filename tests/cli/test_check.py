"""`bulletin-bot check`: one line per check, exit code 0 only when `serve` can start."""

from __future__ import annotations

import shutil

from bot.cli import main
from bot.replies.templates import DEFAULT_PATH

from conftest import TOKEN

REVOKED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def check(capsys) -> tuple[int, list[str]]:
    code = main(["check"])
    return code, capsys.readouterr().out.strip().splitlines()


def test_check_passes_on_a_built_index_with_the_token_accepted(data_dir, fake_api, monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("BULLETIN_TELEGRAM_BASE_URL", fake_api.base_url)
    code, lines = check(capsys)
    assert code == 0, lines
    assert [line.split(":")[0] for line in lines] == [
        "✓ settings",
        "✓ index",
        "✓ templates",
        "✓ answer model",
        "- reranker",
        "- LLM selector",
        "- reader",
        "✓ telegram",
        "- webhook",
        "✓ data dir",
        "✓ question log",
        "✓ follow store",
    ]
    assert "@bulletin_test_bot" in lines[7]
    assert not any(TOKEN.split(":")[1] in line for line in lines)


def test_check_without_a_token_skips_telegram(data_dir, capsys):
    code, lines = check(capsys)
    assert code == 0 and "- telegram: skipped (BULLETIN_TELEGRAM_TOKEN is not set)" in lines


def test_check_fails_on_a_broken_template_file(data_dir, tmp_path, monkeypatch, capsys):
    path = tmp_path / "templates.yaml"
    shutil.copy(DEFAULT_PATH, path)
    path.write_text(path.read_text("utf-8").replace("谢谢您的反馈！", "谢谢<b>您的反馈！"), "utf-8")
    monkeypatch.setenv("BULLETIN_TEMPLATES_PATH", str(path))
    code, lines = check(capsys)
    line = next(i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1) if "谢谢<b>" in text)
    assert code == 1
    assert f"✗ templates: {path}, line {line}, template 'feedback_thanks': <b> is never closed" in lines


def test_check_fails_without_an_index(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "empty"))
    code, lines = check(capsys)
    assert code == 1 and "✗ index: no index yet: run `bulletin-bot index build DIR` first" in lines
    assert any(line.startswith("✗ data dir:") for line in lines)


def test_check_fails_when_telegram_refuses_the_token(data_dir, fake_api, monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_TELEGRAM_TOKEN", REVOKED)  # the fake API answers 401 to any other token
    monkeypatch.setenv("BULLETIN_TELEGRAM_BASE_URL", fake_api.base_url)
    code, lines = check(capsys)
    assert code == 1
    assert (
        "✗ telegram: Telegram rejected the bot token (401 Unauthorized: revoked or mistyped): "
        "check BULLETIN_TELEGRAM_TOKEN" in lines
    )
    assert not any(REVOKED.split(":")[1] in line for line in lines)


def test_check_reports_invalid_settings(monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_TIMEZONE", "Mars/Olympus")
    code, lines = check(capsys)
    assert code == 1 and lines[0].startswith("✗ settings:") and "BULLETIN_TIMEZONE" in lines[0]
