"""Settings come from the environment and .env in one place; bad values name the setting."""

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings


def test_defaults_and_env(monkeypatch, tmp_path):
    monkeypatch.setenv("BULLETIN_ADMIN_IDS", "42, 7")
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "x"))
    settings = load_settings()
    assert settings.admin_ids == {42, 7}
    assert settings.embedding_model == "use-m3"
    assert settings.telegram_token is None
    assert settings.data_dir == tmp_path / "x"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        "BULLETIN_TELEGRAM_TOKEN=123:abc\nBULLETIN_KEEP_VERSIONS=9\n"
        "BULLETIN_LOG_KEY=log-master-key\nBULLETIN_LOG_KEY_PERIOD=week\n"
    )
    settings = load_settings()
    assert settings.keep_versions == 9 and settings.log_key_period == "week"
    assert settings.telegram_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings) and "log-master-key" not in repr(settings)


@pytest.mark.parametrize(
    "name, value",
    [
        ("BULLETIN_KEEP_VERSIONS", "0"),
        ("BULLETIN_ADMIN_IDS", "alice"),
        ("BULLETIN_TELEGRAM_BASE_URL", "ftp://example"),
        ("BULLETIN_ANSWER_MAX_CHARS", "10"),
        ("BULLETIN_ANSWER_THRESHOLD", "1.2"),
        ("BULLETIN_LOG_KEY_PERIOD", "fortnight"),
    ],
)
def test_invalid_values_fail_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_cli_reports_invalid_setting(monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_KEEP_VERSIONS", "-1")
    assert main(["index", "list"]) == 1
    assert "BULLETIN_KEEP_VERSIONS" in capsys.readouterr().err
