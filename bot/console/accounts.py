"""Console accounts: argon2id password hashes, roles, and the lock after repeated wrong passwords."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.console.limits import LOCK_AFTER_FAILURES, LOCK_SECONDS, MAX_NAME_CHARS, MIN_PASSWORD_CHARS
from bot.console.store import ConsoleDB

logger = logging.getLogger(__name__)

Role = Literal["admin", "staff"]
ROLES: tuple[Role, ...] = ("admin", "staff")
NAME = re.compile(rf"[A-Za-z0-9_.\-\u4e00-\u9fff]{{1,{MAX_NAME_CHARS}}}")
HASHER = PasswordHasher()  # argon2id with the library's current recommended costs


class AccountError(Exception):
    """A refused account operation; the message is shown as it is."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    @property
    def admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    message: str  # why the login was refused (never whether the name exists)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_CHARS} characters")


class Accounts:
    """Users in the console database; the password itself is never stored or logged."""

    def __init__(self, db: ConsoleDB, clock=time.time) -> None:
        self.db = db
        self.clock = clock
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def add(self, name: str, role: str, password: str) -> User:
        if not NAME.fullmatch(name):
            raise AccountError(
                f"user name {name!r}: 1–{MAX_NAME_CHARS} letters, digits, Chinese characters, '_', '.' or '-'"
            )
        if role not in ROLES:
            raise AccountError(f"role {role!r}: choose admin or staff")
        check_password(password)
        if self.get(name):
            raise AccountError(f"user {name!r} already exists (change the password with `user passwd {name}`)")
        self.db.run(
            "INSERT INTO users (name, role, hash, created) VALUES (?,?,?,?)",
            (name, role, HASHER.hash(password), self.clock()),
        )
        return User(name, role)

    def get(self, name: str) -> User | None:
        rows = self.db.rows("SELECT name, role FROM users WHERE name = ?", (name,))
        return User(*rows[0]) if rows else None

    def list(self) -> list[tuple[User, float]]:
        """Every user with the time its lock ends (0: not locked)."""
        return [(User(n, r), until) for n, r, until in self.db.rows("SELECT name, role, locked_until FROM users")]

    def remove(self, name: str) -> None:
        if not self.db.run("DELETE FROM users WHERE name = ?", (name,)):
            raise AccountError(f"no user {name!r}")
        self.db.run("DELETE FROM sessions WHERE user = ?", (name,))

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        changed = self.db.run(
            "UPDATE users SET hash = ?, failures = 0, locked_until = 0 WHERE name = ?", (HASHER.hash(password), name)
        )
        if not changed:
            raise AccountError(f"no user {name!r}")
        self.db.run("DELETE FROM sessions WHERE user = ?", (name,))  # signed-in browsers must sign in again

    def login(self, name: str, password: str) -> LoginResult:
        """The user when the password is right and the account not locked; a wrong one counts toward the lock.

        Attempts on one account are serialised, so that parallel guesses cannot all be counted from the same
        failure count; one attempt costs ~1 s of argon2id here (64 MiB, 3 passes): call it off the event loop."""
        with self._locks[name] if self.get(name) else contextlib.nullcontext():
            return self._login(name, password)

    def _login(self, name: str, password: str) -> LoginResult:
        refused = LoginResult(None, "用户名或密码错误")
        rows = self.db.rows("SELECT role, hash, failures, locked_until FROM users WHERE name = ?", (name,))
        if not rows:
            HASHER.hash(password)  # as slow as a wrong password, so timing does not tell which names exist
            return refused
        role, stored, failures, locked_until = rows[0]
        now = self.clock()
        if locked_until > now:
            minutes = int((locked_until - now) // 60) + 1
            return LoginResult(None, f"连续输错密码 {LOCK_AFTER_FAILURES} 次，账户已锁定，请 {minutes} 分钟后再试")
        try:
            HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            failures = 0 if locked_until else failures  # a lock that ran out starts a fresh count
            failures += 1
            until = now + LOCK_SECONDS if failures >= LOCK_AFTER_FAILURES else 0
            self.db.run(
                "UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                (0 if until else failures, until, name),
            )
            if until:
                logger.warning(
                    "console account %s locked for %d s after %d wrong passwords", name, LOCK_SECONDS, failures
                )
                return LoginResult(None, f"连续输错密码 {LOCK_AFTER_FAILURES} 次，账户已锁定 {LOCK_SECONDS // 60} 分钟")
            return refused
        self.db.run("UPDATE users SET failures = 0, locked_until = 0 WHERE name = ?", (name,))
        if HASHER.check_needs_rehash(stored):
            self.db.run("UPDATE users SET hash = ? WHERE name = ?", (HASHER.hash(password), name))
        return LoginResult(User(name, role), "")
