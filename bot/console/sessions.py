"""Signed session cookies backed by a server-side row (so logging out or a password change ends them),
and the per-session CSRF token every form carries."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.console.accounts import User
from bot.console.limits import SESSION_SECONDS
from bot.console.store import ConsoleDB

COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # a random value the login form's CSRF token is bound to, before any session
KEY_FILE = "console.key"


def session_key(data_dir: Path) -> bytes:
    """The signing key, made once with the data directory (mode 0600); never logged."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


class Sessions:
    """Session ids are random, signed into the cookie and kept in the console database with their CSRF token."""

    def __init__(self, db: ConsoleDB, key: bytes, clock=time.time) -> None:
        self.db = db
        self.clock = clock
        self.signer = URLSafeTimedSerializer(key, salt="console-session")
        self.login_signer = URLSafeTimedSerializer(key, salt="console-login")

    def start(self, user: User) -> str:
        """A new session for the user; returns the cookie value."""
        sid = secrets.token_urlsafe(32)
        self.db.run("DELETE FROM sessions WHERE created < ?", (self.clock() - SESSION_SECONDS,))
        self.db.run(
            "INSERT INTO sessions (id, user, csrf, created) VALUES (?,?,?,?)",
            (sid, user.name, secrets.token_urlsafe(32), self.clock()),
        )
        return self.signer.dumps(sid)

    def resolve(self, cookie: str | None) -> tuple[str, User, str] | None:
        """(session id, user, CSRF token) for a valid, unexpired cookie of a user who still exists."""
        if not cookie:
            return None
        try:
            sid = self.signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:  # another key, edited, or expired (SignatureExpired is a BadSignature)
            return None
        rows = self.db.rows(
            "SELECT s.csrf, s.created, u.name, u.role FROM sessions s JOIN users u ON u.name = s.user WHERE s.id = ?",
            (sid,),
        )
        if not rows or rows[0][1] < self.clock() - SESSION_SECONDS:
            return None
        csrf, _, name, role = rows[0]
        return sid, User(name, role), csrf

    def end(self, sid: str) -> None:
        self.db.run("DELETE FROM sessions WHERE id = ?", (sid,))
        self.db.run("DELETE FROM uploads WHERE session = ?", (sid,))

    def login_token(self, nonce: str) -> str:
        return self.login_signer.dumps(nonce)

    def login_token_ok(self, nonce: str | None, token: str) -> bool:
        try:
            return bool(nonce) and hmac.compare_digest(str(self.login_signer.loads(token, max_age=3600)), nonce or "")
        except BadSignature:
            return False


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
