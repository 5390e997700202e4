"""Uploaded bulletins between preview and publish: one random folder each in DATA_DIR, bound to the session."""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import time
import unicodedata
from pathlib import Path

from bot.console.limits import MAX_UPLOAD_NAME_CHARS, UPLOAD_SECONDS
from bot.console.store import ConsoleDB
from index.types import BulletinError

logger = logging.getLogger(__name__)

FOLDER = "console_uploads"
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_name(name: str) -> str:
    """The file's own name, without any folder part or character a path could use against us:
    '../../etc/passwd' → 'passwd', '..\\x.txt' → 'x.txt'. Otherwise the name is kept, since the
    issue id is made from it exactly as `index add` makes it."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = UNSAFE.sub("_", base).strip().lstrip(".")
    if len(base) > MAX_UPLOAD_NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        base = (
            (stem[: MAX_UPLOAD_NAME_CHARS - len(suffix) - 1] + dot + suffix)
            if dot and len(suffix) < 10
            else base[:MAX_UPLOAD_NAME_CHARS]
        )
    return base or "upload"


class Uploads:
    def __init__(self, db: ConsoleDB, data_dir: Path, clock=time.time) -> None:
        self.db = db
        self.root = data_dir / FOLDER
        self.clock = clock

    def save(self, session: str, name: str, content: bytes) -> tuple[str, Path]:
        """Store an upload under a new random id; (id, path)."""
        self.expire()
        upload_id = secrets.token_urlsafe(16)
        folder = self.root / upload_id
        folder.mkdir(parents=True, mode=0o700)
        path = folder / safe_name(name)
        assert path.resolve().parent == folder.resolve()  # safe_name leaves no way out of the folder
        path.write_bytes(content)
        self.db.run(
            "INSERT INTO uploads (id, session, path, created) VALUES (?,?,?,?)",
            (upload_id, session, str(path), self.clock()),
        )
        return upload_id, path

    def path(self, session: str, upload_id: str) -> Path:
        """The upload's file, if this session made it; BulletinError otherwise."""
        rows = self.db.rows("SELECT path FROM uploads WHERE id = ? AND session = ?", (upload_id, session))
        if not rows or not Path(rows[0][0]).is_file():
            raise BulletinError("这个上传已失效（已发布、已过期或来自另一个会话），请重新上传简报文件")
        return Path(rows[0][0])

    def discard(self, upload_id: str) -> None:
        self.db.run("DELETE FROM uploads WHERE id = ?", (upload_id,))
        shutil.rmtree(self.root / upload_id, ignore_errors=True)

    def expire(self) -> None:
        """Delete uploads older than a day, and folders whose row is gone (a session that ended)."""
        self.db.run("DELETE FROM uploads WHERE created < ?", (self.clock() - UPLOAD_SECONDS,))
        known = {row[0] for row in self.db.rows("SELECT id FROM uploads")}
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.name not in known:
                    shutil.rmtree(folder, ignore_errors=True)
