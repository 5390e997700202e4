"""Staff files are read in a child process bounded in wall time and memory, so that no reader bug on any file
(a loop, a bomb the readers' own limits miss) can hang an `index` command or fill memory while it holds
index.lock: that file is refused in one line and the command goes on with the next.

One child serves a whole command (starting it costs an interpreter and the readers' imports, ~0.2 s idle and
over 1 s on a loaded machine, so not once per file); it is killed past the time bound and started again for the
next file. Its address space is capped (RLIMIT_AS), so a reader that needs more gets a MemoryError there.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import select
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from index.formats.limits import PARSE_MEMORY_BYTES, PARSE_SECONDS
from index.types import BulletinError, Issue

logger = logging.getLogger(__name__)

MAX_RECORDS = 50  # log records a child sends back per file (pdfminer may warn once per character)
START_SECONDS = 60.0  # for the child's interpreter and imports (~0.2 s idle, 1.8 s at load 16 on 2 cores)
ORPHAN_GRACE = 5  # seconds past the bound after which a child whose parent died stops itself (SIGALRM)
START_CODE = "import sys; sys.path[:0] = sys.argv[1:]; from index.guard import serve; serve()"


def _shown_bytes(count: int) -> str:
    return f"{count / (1 << 30):g} GiB" if count >= 1 << 30 else f"{count / (1 << 20):g} MiB"


class FileReader:
    """Parses bulletin files in one bounded child process, started on first use and after each kill.

    Use as a context manager (one per command); `parse` raises BulletinError naming the file for a refusal,
    a file that takes longer than `seconds` or one that needs more than `memory_bytes`."""

    def __init__(self, seconds: float = PARSE_SECONDS, memory_bytes: int = PARSE_MEMORY_BYTES) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._child: subprocess.Popen[bytes] | None = None
        self.started = 0  # children started, for the log and the tests

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        began = time.perf_counter()
        # the parent's sys.path: the child imports the same code (tests run from a worktree, not the install)
        child = subprocess.Popen(
            [sys.executable, "-c", START_CODE, *sys.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
        assert child.stdin is not None and child.stdout is not None
        pickle.dump((self.seconds, self.memory_bytes), child.stdin)
        child.stdin.flush()
        # the bound is on reading a file, not on starting an interpreter: wait until the child has its imports
        ready, _, _ = select.select([child.stdout], [], [], START_SECONDS)
        try:
            if not ready:
                raise EOFError
            pickle.load(child.stdout)
        except (EOFError, pickle.UnpicklingError):
            child.kill()
            child.wait()
            raise BulletinError(f"the file reader process did not start within {START_SECONDS:g} s") from None
        self.started += 1
        logger.info("file reader process %d started in %.2f s", child.pid, time.perf_counter() - began)
        return child

    def _stop(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child.wait()
            self._child = None

    def close(self) -> None:
        """End the child (it would end by itself when the pipe closes)."""
        if self._child is not None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            try:
                self._child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._stop()
            self._child = None

    def parse(self, path: Path, max_bytes: int, issue_date: date | None = None) -> Issue:
        """`index.parse.parse_issue` of one file, in the child, within the bounds."""
        if self._child is None or self._child.poll() is not None:
            try:
                self._child = self._start()
            except BulletinError as exc:
                raise BulletinError(f"{path.name}: not read: {exc}") from None
        child = self._child
        assert child.stdin is not None and child.stdout is not None
        try:
            pickle.dump((path, max_bytes, issue_date), child.stdin)
            child.stdin.flush()
        except BrokenPipeError:
            self._stop()
            raise BulletinError(f"{path.name}: the file reader process ended before reading it") from None
        ready, _, _ = select.select([child.stdout], [], [], self.seconds)
        if not ready:
            self._stop()
            logger.warning("%s: killed the file reader after %g s", path.name, self.seconds)
            raise BulletinError(
                f"{path.name}: reading it took longer than {self.seconds:g} s, the limit for one file "
                "(BULLETIN_PARSE_SECONDS); nothing of it was indexed"
            )
        try:
            kind, value, records = pickle.load(child.stdout)
        except (EOFError, pickle.UnpicklingError):
            status = child.wait()
            self._child = None
            raise BulletinError(
                f"{path.name}: the file reader process died reading it (exit status {status}); "
                "nothing of it was indexed"
            ) from None
        for record in records:  # the child's log lines, in this process's log
            if logging.getLogger(record.name).isEnabledFor(record.levelno):
                logging.getLogger(record.name).handle(record)
        if kind == "issue":
            return value
        if kind == "memory":
            self._stop()  # a process that ran out of memory is not trusted with the next file
            raise BulletinError(
                f"{path.name}: reading it needed more than {_shown_bytes(self.memory_bytes)} of memory, the limit "
                "for one file (BULLETIN_PARSE_MEMORY_BYTES); nothing of it was indexed"
            )
        raise BulletinError(value)


class _Records(logging.Handler):
    """Keeps the child's log records, made picklable, to send back with the answer."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) >= MAX_RECORDS:
            return
        self.format(record)  # fills exc_text: the traceback travels as text
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _answer(out: BinaryIO, kind: str, value: Any, handler: _Records) -> None:
    pickle.dump((kind, value, handler.records), out)
    out.flush()
    handler.records = []


def serve() -> None:
    """The child: read (path, max_bytes, issue_date) requests from stdin, answer each on the original stdout."""
    import resource

    requests, out = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # a reader's stray print goes to stderr, never into the answers
    seconds, memory_bytes = pickle.load(requests)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    handler = _Records()
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    from index.parse import parse_issue

    _answer(out, "ready", None, handler)
    while True:
        try:
            path, max_bytes, issue_date = pickle.load(requests)
        except EOFError:  # the parent closed the pipe (or died)
            return
        signal.alarm(math.ceil(seconds) + ORPHAN_GRACE)  # the parent kills first; this is for an orphan
        try:
            _answer(out, "issue", parse_issue(path, max_bytes, issue_date), handler)
        except BulletinError as exc:
            _answer(out, "refused", str(exc), handler)
        except MemoryError:
            _answer(out, "memory", None, handler)
            return
        finally:
            signal.alarm(0)
