"""The question log (real SQLite) and the staff report command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from bot.cli import main
from bot.flood import FloodLimiter
from bot.qlog import QuestionLog, load_salt


def record(log, question, answered, user_id=5):
    return log.record(user_id=user_id, chat_type="private", question=question, answered=answered,
                      reason="answered" if answered else "low_confidence", top_article="t", top_issue="i",
                      score=0.5, latency_ms=12.3)


def test_salt_is_generated_once_and_private(tmp_path):
    first = load_salt(tmp_path, None)
    assert load_salt(tmp_path, None) == first and len(first) == 32
    assert (tmp_path / "log_salt").stat().st_mode & 0o777 == 0o600
    assert load_salt(tmp_path, "configured") == "configured"


def test_hashes_not_ids_feedback_unanswered_and_retention(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite", "salt", retention_days=30)
    a = record(log, "公积金怎么提取", False, user_id=123456789)
    record(log, "公积金怎么提取", False)
    record(log, "寒假什么时候放", False)
    b = record(log, "医保能在网上办吗", True)
    log.feedback(b, helpful=False)
    log.feedback(9999, helpful=True)  # no such question: changes nothing
    log.flush()
    assert log.unanswered(5) == [("公积金怎么提取", 2), ("寒假什么时候放", 1)]
    assert log.questions_today() == 4
    assert log.user_hash(123456789) != log.user_hash(5) and "123456789" not in log.user_hash(123456789)
    old = (datetime.now(timezone.utc) - timedelta(days=40)).date().isoformat()
    with sqlite3.connect(tmp_path / "q.sqlite") as db:
        db.execute("UPDATE questions SET day = ? WHERE id = ?", (old, a))
    log.prune()
    log.close()
    raw = (tmp_path / "q.sqlite").read_bytes()
    assert b"123456789" not in raw
    db = sqlite3.connect(tmp_path / "q.sqlite")
    assert db.execute("SELECT feedback FROM questions WHERE id = ?", (b,)).fetchone() == (-1,)
    assert db.execute("SELECT COUNT(*), SUM(feedback IS NOT NULL) FROM questions").fetchone() == (3, 1)


def test_report_command(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path))
    log = QuestionLog(tmp_path / "questions.sqlite", load_salt(tmp_path, None))
    record(log, "公积金怎么提取", False)
    record(log, "医保能在网上办吗", True)
    log.close()
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    today = datetime.now(timezone.utc).date().isoformat()
    assert f"{today}          2         1    50%" in out
    assert "1 × 公积金怎么提取" in out


def test_flood_limit_is_per_user():
    now = [0.0]
    limiter = FloodLimiter(3, window=60, clock=lambda: now[0])
    assert [limiter.hit(1) for _ in range(3)] == [0, 0, 0]
    assert limiter.hit(1) == 60
    assert limiter.hit(2) == 0  # another user is not affected
    now[0] = 61.0
    assert limiter.hit(1) == 0


@pytest.fixture
def full_disk(tmp_path):
    """A real 1 MB tmpfs, filled up (needs root, as in CI); skipped where mounting is not allowed."""
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode(errors="replace").strip())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder):
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 4096):
            pass
    except OSError:  # ENOSPC: full
        pass
    finally:
        os.close(fd)


def test_full_disk_is_counted_and_logged_never_raised(full_disk, caplog):
    log = QuestionLog(full_disk / "q.sqlite", "salt")
    fill(full_disk)
    ids = [record(log, f"问题 {i}" * 200, False) for i in range(5)]  # nothing raised at the caller
    log.flush()
    assert ids == [1, 2, 3, 4, 5] and log.failures == 5
    assert "question log: a write failed" in caplog.text
    (full_disk / "filler").unlink()
    record(log, "磁盘空出来以后", True)
    log.close()
    assert log.failures == 5
    assert sqlite3.connect(full_disk / "q.sqlite").execute("SELECT question FROM questions").fetchall() == [
        ("磁盘空出来以后",)]
