"""Shared fixtures: the bundled bulletins, one real index built once, and a per-test data directory."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from bot.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests must never reach a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
BULLETINS = REPO / "samples" / "bulletins"
REAL_ISSUE = BULLETINS / "000_5799bfe337b1a530.txt"
NEW_ISSUE = REPO / "tests" / "data" / "2023-02-06.txt"
QUESTIONS = REPO / "samples" / "eval" / "questions.jsonl"
# the settings' defaults, for code the tests call directly (defaults live in Settings only)
MAX_FILE_BYTES = Settings.model_fields["max_file_bytes"].default
KEEP_VERSIONS = Settings.model_fields["keep_versions"].default
RETENTION_DAYS = Settings.model_fields["log_retention_days"].default


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No BULLETIN_* setting or .env from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("BULLETIN_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder():
    from index.embed import Embedder

    model = Embedder("use-m3", threads=2)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder) -> Path:
    """A data directory holding one real index of all bundled bulletins (built once per run)."""
    from index.builder import IndexBuilder, bulletin_files
    from index.store import IndexStore

    data = tmp_path_factory.mktemp("built") / "data"
    IndexBuilder(IndexStore(data, KEEP_VERSIONS), embedder, MAX_FILE_BYTES).build(bulletin_files(BULLETINS))
    return data


@pytest.fixture
def data_dir(built_index, tmp_path, monkeypatch) -> Path:
    """A private copy of the built index, used by the CLI through BULLETIN_DATA_DIR."""
    data = tmp_path / "data"
    shutil.copytree(built_index, data)
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(data))
    return data


@pytest.fixture
def settings(data_dir):
    from bot.settings import load_settings

    return load_settings(embedding_threads=2)


@pytest.fixture
def engine(settings, embedder):
    """An answer engine over the copied index, sharing the session's loaded model."""
    from bot.engine import Engine

    engine = Engine(settings)
    engine.embedder = embedder
    engine.warm_up()
    return engine


TOKEN = "123456:SECRET-test-token-never-logged"
ADMIN = 111


@pytest.fixture
def fake_api():
    from fake_telegram import FakeBotApi

    api = FakeBotApi(TOKEN).start()
    yield api
    api.stop()


@pytest.fixture
async def bot(data_dir, fake_api, embedder, monkeypatch, caplog):
    from bot.cli.serve import make_services
    from bot.settings import load_settings
    from bot.telegram.app import build_application, protect_token_in_logs

    """A running bot: initialize, post_init, start polling, start; torn down the same way."""
    monkeypatch.setenv("BULLETIN_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("BULLETIN_TELEGRAM_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("BULLETIN_ADMIN_IDS", str(ADMIN))
    monkeypatch.setenv("BULLETIN_RELOAD_INTERVAL", "0.3")
    caplog.set_level(logging.DEBUG)
    protect_token_in_logs(TOKEN)
    services = make_services(load_settings(embedding_threads=2))
    services.engine.embedder = embedder  # the session's loaded model: saves a reload per test
    app = build_application(services)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    yield services
    await app.updater.stop()
    await app.stop()
    await app.post_shutdown(app)
    await app.shutdown()
    services.log.close()
    services.follows.close()
    assert TOKEN not in caplog.text  # the token never reaches a log line


def serve_env(data_dir, base_url: str, token: str) -> dict:
    """The environment of a real `serve` process: this checkout, the data dir, the token and the Bot API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_")}
    return env | {
        "PYTHONPATH": str(REPO),
        "BULLETIN_DATA_DIR": str(data_dir),
        "BULLETIN_TELEGRAM_TOKEN": token,
        "BULLETIN_TELEGRAM_BASE_URL": base_url,
        "BULLETIN_EMBEDDING_THREADS": "1",
    }
