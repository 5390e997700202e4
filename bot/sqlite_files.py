"""The bot's own SQLite files (questions.sqlite, follow.sqlite): read-only reading for `report` and
`check`, a bounded integrity check, and a damaged file set aside (renamed, never deleted) for a fresh one."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from index.types import BulletinError

logger = logging.getLogger(__name__)

# How long `report` and `check` wait for a lock another connection holds (BEGIN EXCLUSIVE on the log):
# the log's own 30 s made `report` wait 42 s, then print a traceback.
READ_BUSY_TIMEOUT = 2.0
# `PRAGMA quick_check` stops after this long (a 152 MB log of 250,000 questions checks in 0.5 s); no damage
# found by then counts as none: a file is only set aside on proof.
CHECK_SECONDS = 10.0
# SQLite's files beside the database: they belong to it (a stale -wal would be replayed into a fresh file)
SIDE_FILES = ("-wal", "-shm", "-journal")

T = TypeVar("T")


class StoreError(BulletinError):
    """A store that cannot be read: `path` and what is wrong; `damaged` when the bytes themselves are bad."""

    def __init__(self, path: Path, problem: str, damaged: bool) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem, self.damaged = path, problem, damaged


def problem_of(exc: sqlite3.Error, timeout: float) -> tuple[str, bool]:
    """What an SQLite error means for the file, in words, and whether the file is damaged."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_NOTADB:
        return "not an SQLite database (its header is overwritten, or it is another kind of file)", True
    if code == sqlite3.SQLITE_CORRUPT:
        return f"damaged ({exc})", True
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"locked by another connection (waited {timeout:g} s): try again when it is done", False
    return f"cannot be read ({exc})", False


@contextlib.contextmanager
def reading(path: Path, timeout: float = READ_BUSY_TIMEOUT) -> Iterator[None]:
    """Turn any SQLite error inside the block into a StoreError naming `path`."""
    try:
        yield
    except sqlite3.Error as exc:
        problem, damaged = problem_of(exc, timeout)
        raise StoreError(path, problem, damaged) from None


def read_only(path: Path, schema: str, timeout: float = READ_BUSY_TIMEOUT) -> sqlite3.Connection:
    """A read-only connection (nothing is created or migrated); a file not yet created reads as empty."""
    if not path.exists():
        db = sqlite3.connect(":memory:")
        db.executescript(schema)
        return db
    with reading(path, timeout):
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)


def quick_check(db: sqlite3.Connection, path: Path, seconds: float = CHECK_SECONDS) -> bool:
    """PRAGMA quick_check, stopped after `seconds`: StoreError when damaged; False when stopped unfinished."""
    deadline = time.monotonic() + seconds
    db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", 0) == sqlite3.SQLITE_INTERRUPT:
            return False
        problem, damaged = problem_of(exc, READ_BUSY_TIMEOUT)
        raise StoreError(path, problem, damaged) from None
    finally:
        db.set_progress_handler(None, 0)
    if rows != [("ok",)]:
        raise StoreError(path, f"damaged (quick_check: {' '.join(str(rows[0][0]).split())})", True)
    return True


def check_file(path: Path, schema: str) -> str:
    """For `check`: one line on the file, or StoreError naming it."""
    if not path.exists():
        return f"{path}: not created yet (the bot starts it)"
    try:
        db = read_only(path, schema)
        try:
            finished = quick_check(db, path)
            with reading(path):
                tables = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            db.close()
    except StoreError as exc:
        if not exc.damaged:
            raise
        fix = f"`serve` renames it to {path.name}.corrupt-<date-time> and starts a fresh one"
        raise StoreError(path, f"{exc.problem}; {fix}", True) from None
    if not finished:
        return f"{path}: no damage found in the first {CHECK_SECONDS:g} s of quick_check"
    return f"{path}: quick_check ok, {tables} tables, {path.stat().st_size:,} bytes"


def set_aside(path: Path) -> Path:
    """Rename a damaged store and its side files to NAME.corrupt-YYYYmmdd-HHMMSS[-wal…]; return the new name."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
    while aside.exists():  # twice in one second: never overwrite an earlier one
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", *SIDE_FILES):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    return aside


def damage(path: Path, schema: str) -> StoreError | None:
    """The StoreError of a damaged file, or None (missing, sound, or only locked: its opener waits)."""
    if not path.exists():
        return None
    try:
        db = read_only(path, schema)
        try:
            quick_check(db, path)
        finally:
            db.close()
    except StoreError as exc:
        return exc if exc.damaged else None
    return None


def open_store(path: Path, schema: str, opener: Callable[[Path], T]) -> tuple[T, str | None]:
    """Open a store with `opener`; a damaged file is first set aside and a fresh one started.

    Returns the store and, when a file was set aside, the notice for admins (also logged)."""
    found = damage(path, schema)
    if found is None:
        try:
            return opener(path), None
        except sqlite3.DatabaseError as exc:  # damage quick_check did not reach (the opener writes)
            problem, damaged = problem_of(exc, 0)
            if not damaged:
                raise
            found = StoreError(path, problem, True)
    notice = start_fresh(path, found.problem)
    return opener(path), notice


def start_fresh(path: Path, problem: str) -> str:
    """Set a damaged store aside (its opener then starts a fresh file); log it; return the admins' notice."""
    aside = set_aside(path)
    logger.warning("%s is %s: renamed to %s, a fresh %s started", path, problem, aside, path.name)
    return (
        f"⚠️ {path.name} 已损坏（{problem}），原文件已改名保留为 {aside.name}，"
        f"并新建了空的 {path.name}；机器人继续回答居民。"
    )
