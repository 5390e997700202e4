"""The question log (real SQLite) and the staff report command."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

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
    assert log.feedback(b, helpful=False) and not log.feedback(9999, helpful=True)
    assert log.unanswered(5) == [("公积金怎么提取", 2), ("寒假什么时候放", 1)]
    assert log.questions_today() == 4
    assert log.user_hash(123456789) != log.user_hash(5) and "123456789" not in log.user_hash(123456789)
    old = (datetime.now(timezone.utc) - timedelta(days=40)).date().isoformat()
    log._db.execute("UPDATE questions SET day = ? WHERE id = ?", (old, a))
    log._db.commit()
    assert log.prune() == 1
    log.close()
    raw = (tmp_path / "q.sqlite").read_bytes()
    assert b"123456789" not in raw
    db = sqlite3.connect(tmp_path / "q.sqlite")
    assert db.execute("SELECT feedback FROM questions WHERE id = ?", (b,)).fetchone() == (-1,)


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
