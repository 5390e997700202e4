"""The reader's model file and fitted probe are checked before use: each refusal is one line naming the
file, and the offline path answers meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.reader.model_file import (
    EXPECTED_BYTES,
    EXPECTED_SHA256,
    FILE_NAME,
    OFFICIAL_BYTES,
    OFFICIAL_NAME,
    ReaderError,
    verify,
)
from bot.reader.probe import ReaderProbe
from bot.tuning import READER_PROBE_PATH


def sparse_model(path, size=EXPECTED_BYTES):
    """A file of a known model's name and size that is not the model (GGUF magic, then zeros)."""
    with path.open("wb") as handle:
        handle.write(b"GGUF")
        handle.truncate(size)
    return path


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ReaderError, match=r"does not exist .*reader install"):
        verify(tmp_path / FILE_NAME)


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ReaderError, match="is not a GGUF model file"):
        verify(path)


@pytest.mark.parametrize(("name", "size"), [(FILE_NAME, EXPECTED_BYTES), (OFFICIAL_NAME, OFFICIAL_BYTES)])
def test_a_truncated_model_is_refused_by_its_size(tmp_path, name, size):
    path = sparse_model(tmp_path / name, size - 4096)
    with pytest.raises(ReaderError, match=rf"has {size - 4096:,} bytes, not {size:,} \(truncated or altered\)"):
        verify(path)


def test_the_official_size_is_the_releases():
    assert OFFICIAL_BYTES == 1_117_320_768 and EXPECTED_BYTES < OFFICIAL_BYTES


@pytest.mark.parametrize(
    ("name", "size", "sha"),
    [
        (FILE_NAME, EXPECTED_BYTES, EXPECTED_SHA256[:12]),
        (OFFICIAL_NAME, OFFICIAL_BYTES, "cc324af070c2"),
    ],
)
def test_an_altered_model_of_the_right_size_is_refused_by_its_hash(tmp_path, name, size, sha):
    path = sparse_model(tmp_path / name, size)
    with pytest.raises(ReaderError, match=rf"has sha256 [0-9a-f]{{12}}…, not {sha}…"):
        verify(path)


def test_another_model_file_is_checked_against_the_probes_hash(tmp_path):
    other = tmp_path / "other.gguf"
    other.write_bytes(b"GGUF" + b"\0" * 100)
    sha = verify(other)  # no published hash for another file: its own is returned
    assert len(sha) == 64
    with pytest.raises(ReaderError, match="not " + EXPECTED_SHA256[:12]):
        verify(other, EXPECTED_SHA256)


def test_the_bundled_probe_is_for_the_bundled_model_and_refused_for_another():
    probe = ReaderProbe.load(READER_PROBE_PATH, EXPECTED_SHA256)
    assert probe.weights.shape == (1536,) and 0 < probe.related_threshold <= probe.answer_threshold < 1
    with pytest.raises(ReaderError, match=rf"fitted for the model with sha256 {EXPECTED_SHA256[:12]}…, not this one"):
        ReaderProbe.load(READER_PROBE_PATH, "0" * 64)


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "not a fitted probe"), ("{}", "not a fitted probe"), ('{"prompt_version": 3}', "not a fitted probe")],
)
def test_a_broken_probe_file_is_one_line(tmp_path, text, why):
    path = tmp_path / "probe.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReaderError, match=why) as caught:
        ReaderProbe.load(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_probe_for_another_prompt_is_refused(tmp_path):
    row = json.loads(READER_PROBE_PATH.read_text(encoding="utf-8"))
    row["prompt_version"] = "yesno-0"
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(row), encoding="utf-8")
    with pytest.raises(ReaderError, match="fitted for prompt yesno-0"):
        ReaderProbe.load(path)


def run_cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_check_reports_the_reader_skipped_off_and_refused(data_dir, tmp_path):
    base = {"BULLETIN_DATA_DIR": str(data_dir)}
    out = run_cli("check", env_extra=base).stdout
    assert "- reader: skipped (not installed" in out and "reader install" in out
    out = run_cli("check", env_extra={**base, "BULLETIN_READER": "off"}).stdout
    assert "- reader: skipped (BULLETIN_READER=off)" in out
    broken = sparse_model(tmp_path / FILE_NAME, 10_000)
    done = run_cli("check", env_extra={**base, "BULLETIN_READER_MODEL": str(broken)})
    line = next(x for x in done.stdout.splitlines() if "reader" in x)
    assert line.startswith("✗ reader:") and "truncated or altered" in line and done.returncode == 1
