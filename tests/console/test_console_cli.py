"""`bulletin-bot user ...` and `bulletin-bot web --help`: the console's commands through the real CLI."""

from __future__ import annotations

import io
import sqlite3

from bot.cli import main
from bot.console.accounts import Accounts
from bot.console.store import FILE_NAME, ConsoleDB


def run(capsys, monkeypatch, stdin: str, *argv):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_user_add_list_passwd_remove(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(data))
    assert (
        run(capsys, monkeypatch, "first-pass-1\n", "user", "add", "王敏", "--role", "staff", "--password-stdin")[0] == 0
    )
    code, out, _ = run(capsys, monkeypatch, "", "user", "list")
    assert code == 0 and out.strip() == "王敏  staff"
    stored = sqlite3.connect(data / FILE_NAME).execute("SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "first-pass-1" not in stored
    assert run(capsys, monkeypatch, "second-pass-2\n", "user", "passwd", "王敏", "--password-stdin")[0] == 0
    accounts = Accounts(ConsoleDB(data))
    assert accounts.login("王敏", "first-pass-1").user is None
    assert accounts.login("王敏", "second-pass-2").user is not None
    assert run(capsys, monkeypatch, "", "user", "remove", "王敏")[0] == 0
    assert run(capsys, monkeypatch, "", "user", "list")[1].startswith("no accounts yet")


def test_user_add_refusals_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BULLETIN_DATA_DIR", str(tmp_path / "data"))
    code, _, err = run(capsys, monkeypatch, "short\n", "user", "add", "a", "--role", "admin", "--password-stdin")
    assert code == 1 and err.strip() == "error: password too short: at least 8 characters"
    code, _, err = run(
        capsys, monkeypatch, "long-enough\n", "user", "add", "../x", "--role", "admin", "--password-stdin"
    )
    assert code == 1 and "user name '../x'" in err
    run(capsys, monkeypatch, "long-enough\n", "user", "add", "a", "--role", "admin", "--password-stdin")
    code, _, err = run(capsys, monkeypatch, "long-enough\n", "user", "add", "a", "--role", "staff", "--password-stdin")
    assert code == 1 and "already exists" in err
    code, _, err = run(capsys, monkeypatch, "", "user", "remove", "nobody")
    assert code == 1 and err.strip() == "error: no user 'nobody'"
