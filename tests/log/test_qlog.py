"""The question log (real SQLite) and the staff report command."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.log.pseudonym import Pseudonyms
from bot.log.questions import QuestionLog
from bot.telegram.flood import FloodLimiter

from conftest import RETENTION_DAYS


def record(log, question, answered, user_id=5):
    return log.record(
        user_id=user_id,
        chat_type="private",
        question=question,
        answered=answered,
        reason="answered" if answered else "low_confidence",
        top_article="t",
        top_issue="i",
        score=0.5,
        latency_ms=12.3,
    )


KEY = b"a master key kept outside the data directory"


def test_log_files_do_not_let_user_ids_be_recovered(data_dir, monkeypatch):
    """The attack that worked on salted hashes: every file of the data directory tried as the salt
    (or as an HMAC key) over a range of ids around the real one finds nothing."""
    from bot.cli.serve import open_log
    from bot.settings import load_settings

    monkeypatch.setenv("BULLETIN_LOG_KEY", KEY.decode())
    log, _ = open_log(load_settings())
    record(log, "公积金怎么提取", False, user_id=123456789)
    log.close()
    stored = sqlite3.connect(data_dir / "questions.sqlite").execute("SELECT user_hash FROM questions").fetchone()[0]
    candidates = {p.read_bytes().strip() for p in data_dir.rglob("*") if p.is_file() and p.stat().st_size < 1024}
    for secret in candidates:
        for user_id in range(123456700, 123456800):
            assert hashlib.sha256(secret + f":{user_id}".encode()).hexdigest()[:24] != stored
            assert hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()[:24] != stored
    assert not any(KEY in p.read_bytes() for p in data_dir.rglob("*") if p.is_file())


def test_pseudonyms_are_keyed_and_rotate_by_period():
    june, june_end, july = (
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 6, 30, 23, tzinfo=UTC),
        datetime(2026, 7, 1, tzinfo=UTC),
    )
    monthly = Pseudonyms(KEY, "month")
    assert monthly.of(42, june) == monthly.of(42, june_end) != monthly.of(42, july)  # unlinkable across months
    assert monthly.of(42, june) != monthly.of(43, june)
    assert Pseudonyms(KEY, "month").of(42, june) == monthly.of(42, june)  # stable across restarts with the key
    assert Pseudonyms(b"another key", "month").of(42, june) != monthly.of(42, june)
    assert Pseudonyms(KEY, "day").of(42, june) != Pseudonyms(KEY, "day").of(42, june + timedelta(days=1))
    unset = Pseudonyms(None)  # no key configured: a random one, in memory only
    assert unset.ephemeral and unset.of(42) == unset.of(42) != Pseudonyms(None).of(42)


def test_old_salted_log_is_rekeyed_and_its_salt_deleted(tmp_path):
    salt = "0123456789abcdef0123456789abcdef"
    old = QuestionLog(tmp_path / "q.sqlite", Pseudonyms(KEY), retention_days=RETENTION_DAYS)
    record(old, "旧的问题", False)
    old.close()
    (tmp_path / "log_salt").write_text(salt)
    legacy = hashlib.sha256(f"{salt}:5".encode()).hexdigest()[:24]
    with sqlite3.connect(tmp_path / "q.sqlite") as db:  # as the salted version left it
        db.execute("UPDATE questions SET user_hash = ?", (legacy,))
    log = QuestionLog(tmp_path / "q.sqlite", Pseudonyms(KEY), retention_days=RETENTION_DAYS)
    record(log, "新的问题", False)
    log.close()
    assert not (tmp_path / "log_salt").exists()
    rows = sqlite3.connect(tmp_path / "q.sqlite").execute("SELECT question, user_hash FROM questions").fetchall()
    assert [q for q, _ in rows] == ["旧的问题", "新的问题"]
    assert legacy not in {h for _, h in rows} and len({h for _, h in rows}) == 2


def test_hashes_not_ids_feedback_unanswered_and_retention(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite", Pseudonyms(KEY), retention_days=30)
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
    old = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    with sqlite3.connect(tmp_path / "q.sqlite") as db:
        db.execute("UPDATE questions SET day = ? WHERE id = ?", (old, a))
    log.prune()
    log.close()
    raw = (tmp_path / "q.sqlite").read_bytes()
    assert b"123456789" not in raw
    db = sqlite3.connect(tmp_path / "q.sqlite")
    assert db.execute("SELECT feedback FROM questions WHERE id = ?", (b,)).fetchone() == (-1,)
    assert db.execute("SELECT COUNT(*), SUM(feedback IS NOT NULL) FROM questions").fetchone() == (3, 1)


def test_report_command_counts_days_in_the_configured_zone(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BULLETIN_TIMEZONE", "Pacific/Kiritimati")  # UTC+14: its day is rarely UTC's
    zone = ZoneInfo("Pacific/Kiritimati")
    log = QuestionLog(tmp_path / "questions.sqlite", Pseudonyms(None), zone=zone, retention_days=RETENTION_DAYS)
    record(log, "公积金怎么提取", False)
    record(log, "医保能在网上办吗", True)
    log.close()
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    today = datetime.now(zone).date().isoformat()
    assert "day (Pacific/Kiritimati)" in out
    assert f"{today}          2         1    50%" in out
    assert "1 × 公积金怎么提取" in out


def test_flood_limit_is_per_user():
    now = [0.0]
    limiter = FloodLimiter(3, window=60, clock=lambda: now[0])
    assert [limiter.hit(1) for _ in range(3)] == [(0, False)] * 3
    assert limiter.hit(1) == (60, True)  # the first refusal tells the user how long to wait…
    now[0] = 30.0
    assert limiter.hit(1) == (30, False)  # …later ones in the same flood are dropped quietly
    assert limiter.hit(2) == (0, False)  # another user is not affected
    now[0] = 61.0
    assert limiter.hit(1) == (0, False)
    assert [limiter.hit(1)[1] for _ in range(3)] == [False, False, True]  # a new flood: a new notice


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
    log = QuestionLog(full_disk / "q.sqlite", Pseudonyms(None), retention_days=RETENTION_DAYS)
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
        ("磁盘空出来以后",)
    ]


def test_numbers_that_identify_a_resident_are_masked_before_the_question_is_stored(tmp_path):
    log = QuestionLog(tmp_path / "q.sqlite", Pseudonyms(KEY), retention_days=30)
    record(log, "我身份证号370202199001011234，养老金认证做了没有？手机13812345678", False)
    record(log, "供热热线0635-8276300还能打吗", False)
    log.flush()
    log.close()
    raw = (tmp_path / "q.sqlite").read_bytes()
    assert b"370202199001011234" not in raw and b"13812345678" not in raw
    db = sqlite3.connect(tmp_path / "q.sqlite")
    stored = [row[0] for row in db.execute("SELECT question FROM questions ORDER BY id")]
    assert stored == ["我身份证号[身份证号]，养老金认证做了没有？手机[手机号]", "供热热线0635-8276300还能打吗"]
