"""`bulletin-bot check`: can `serve` start? One line per check (✓ / ! / ✗ and why), exit code 0 or 1.

Run it before `serve` (systemd ExecStartPre) and from a health check."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable

from bot.replies.templates import TemplateError, Templates
from bot.settings import Settings, SettingsError, load_settings
from bot.sqlite_files import StoreError, check_file
from index.types import BulletinError


def add_check_command(subparsers: argparse._SubParsersAction) -> None:
    """Register check."""
    subparsers.add_parser(
        "check", help="check settings, index, templates, answer model, Telegram token, data dir, bot's SQLite files"
    )


def check_index(settings: Settings) -> str:
    from index.store import IndexStore

    snapshot = IndexStore(settings.data_dir, settings.keep_versions).load(
        model=settings.embedding_model
    )  # verifies checksums and counts
    return f"version {snapshot.version}: {len(snapshot.issues)} issues, {len(snapshot.passages)} passages"


def check_templates(settings: Settings) -> str:
    templates = Templates(settings.templates_path, settings.answer_max_chars)
    return f"{templates.path}: every template renders as valid Telegram HTML"


def check_answer_model(settings: Settings) -> str:
    from bot.answering.answerability import AnswerModel

    AnswerModel.load(settings.answer_model_path)
    return f"{settings.answer_model_path} loads"


def check_reranker(settings: Settings) -> str:
    from bot.answering.reranker import Reranker

    assert settings.reranker_model is not None  # skipped when unset
    reranker = Reranker(settings.reranker_model)
    reranker.warm_up()  # a missing or broken folder, or no fitted threshold: a BulletinError naming the setting
    return f"{reranker.folder} loads (threshold {reranker.threshold:g})"


def check_selector(settings: Settings) -> str:
    from bot.judge.selector import Prompt, endpoint, shown_url

    assert settings.llm_url is not None  # skipped when unset
    prompt = Prompt.load(settings.llm_prompt_path)
    at = shown_url(endpoint(settings.llm_url))
    return f"{settings.llm_model} at {at}; prompt {prompt.path} (version {prompt.version})"


def check_reader(settings: Settings) -> str:
    import time

    from bot.reader.hidden_state import HiddenState
    from bot.reader.model_file import verify
    from bot.reader.probe import ReaderProbe
    from bot.reader.reader import model_path

    path = model_path(settings)
    sha = verify(path)  # present, a GGUF file, the size and hash of the release (or of the probe's model)
    probe = ReaderProbe.load(settings.reader_probe_path, sha)
    state = HiddenState(path, settings.reader_threads)
    started = time.monotonic()
    state.warm_up()
    state.vector("医保能在网上办吗", "医保线上办理", "群众可通过“聊城医保”小程序办理医保业务。")
    took = time.monotonic() - started
    return (
        f"{path} (sha256 {sha[:12]}… verified); probe {settings.reader_probe_path} fitted on "
        f"{probe.fitted_on.get('quotes', '?')} quotes; loaded and read a prompt in {took:.1f} s"
    )


def reader_skipped(settings: Settings) -> str | None:
    from bot.reader.reader import model_path, wanted

    if settings.reader == "off":
        return "BULLETIN_READER=off"
    if not wanted(settings):
        return f"not installed ({model_path(settings)}: bulletin-bot reader install)"
    return None


def check_telegram(settings: Settings) -> str:
    from bot.telegram.app import check_telegram as get_me

    return f"the token is accepted by {settings.telegram_base_url.removesuffix('/bot')} (@{get_me(settings)})"


def check_webhook(settings: Settings) -> str:
    from bot.telegram.app import webhook_secret_source

    return f"{settings.webhook_url}; secret token {webhook_secret_source(settings)}"


def check_data_dir(settings: Settings) -> str:
    try:
        with tempfile.TemporaryFile(dir=settings.data_dir):
            pass
    except OSError as exc:
        raise BulletinError(f"{settings.data_dir}: not writable ({exc.strerror or exc})") from None
    return f"{settings.data_dir} is writable"


def check_question_log(settings: Settings) -> str:
    from bot.cli.serve import log_path
    from bot.log.questions import SCHEMA

    return check_file(log_path(settings), SCHEMA)


def check_follow_store(settings: Settings) -> str:
    from bot.cli.serve import follows_path
    from bot.following.store import SCHEMA

    return check_file(follows_path(settings), SCHEMA)


CHECKS: list[tuple[str, Callable[[Settings], str]]] = [
    ("index", check_index),
    ("templates", check_templates),
    ("answer model", check_answer_model),
    ("reranker", check_reranker),
    ("LLM selector", check_selector),
    ("reader", check_reader),
    ("telegram", check_telegram),
    ("webhook", check_webhook),
    ("data dir", check_data_dir),
    ("question log", check_question_log),
    ("follow store", check_follow_store),
]


# checks of optional parts: skipped while their setting is unset
OPTIONAL = {
    "telegram": "telegram_token",
    "webhook": "webhook_url",
    "reranker": "reranker_model",
    "LLM selector": "llm_url",
}


def run_check_command(args: argparse.Namespace) -> int:
    """Run every check, print one line each; 1 when any failed."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"✗ settings: {' '.join(str(exc).split())}")
        return 1
    print("✓ settings: valid")
    failed = False
    for name, check in CHECKS:
        if name in OPTIONAL and getattr(settings, OPTIONAL[name]) is None:
            print(f"- {name}: skipped (BULLETIN_{OPTIONAL[name].upper()} is not set)")
            continue
        if name == "reader" and (why := reader_skipped(settings)):
            print(f"- reader: skipped ({why})")
            continue
        try:
            print(f"✓ {name}: {check(settings)}")
        except StoreError as exc:
            # a damaged store does not stop `serve` (it sets the file aside and starts afresh), so it warns
            # without failing: under systemd's ExecStartPre a failure would keep the bot from starting
            failed = failed or not exc.damaged
            print(f"{'!' if exc.damaged else '✗'} {name}: {' '.join(str(exc).split())}")
        except (BulletinError, TemplateError) as exc:  # the token never appears: app.startup_failure redacts it
            failed = True
            print(f"✗ {name}: {' '.join(str(exc).split())}")
    return 1 if failed else 0
