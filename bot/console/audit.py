"""The audit log: who did what to the index, the templates and the accounts, and when."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from bot.console.store import ConsoleDB

logger = logging.getLogger(__name__)

VERSION = re.compile(r"version (\S+?):")  # how publish and remove entries begin: "version v0003-…: …"


@dataclass(frozen=True)
class Entry:
    at: float
    user: str
    action: str
    detail: str


class AuditLog:
    def __init__(self, db: ConsoleDB, clock=time.time) -> None:
        self.db = db
        self.clock = clock

    def record(self, user: str, action: str, detail: str = "") -> None:
        self.db.run(
            "INSERT INTO audit (at, user, action, detail) VALUES (?,?,?,?)", (self.clock(), user, action, detail)
        )
        logger.info("console: %s %s %s", user, action, detail)

    def entries(self, limit: int = 200) -> list[Entry]:
        rows = self.db.rows("SELECT at, user, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [Entry(*row) for row in rows]

    def version_users(self) -> dict[str, str]:
        """Index version → the console user whose publish or remove made it."""
        users: dict[str, str] = {}
        for user, detail in self.db.rows("SELECT user, detail FROM audit WHERE action IN ('publish', 'remove')"):
            made = VERSION.match(detail)
            if made:
                users[made.group(1)] = user
        return users
