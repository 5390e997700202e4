"""The reader's worker: the model in a child process of its own, fed through a pipe, one prompt at a time.

A llama.cpp context is not thread-safe, and a crash inside it (or a hang) must not take the bot with it:
the child owns the model; the bot sends it (question, title, quote) with a deadline and waits for the
vector at most until then. A request whose deadline passed while it queued is skipped by the child
unread, so a burst of questions does not leave a backlog. When the child dies it is started again on
the next question (at most once every RESTART_SECONDS); when it stops answering past HANG_SECONDS it is
killed and restarted."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from bot.reader.model_file import ReaderError, verify
from bot.tuning import READER

logger = logging.getLogger(__name__)


@dataclass
class Counts:
    """What the reader did since start, for /status and check."""

    read: int = 0  # questions the reader decided
    late: int = 0  # waited past BULLETIN_READER_TIMEOUT: the offline decision was given
    failed: int = 0  # the worker crashed, hung or refused: the offline decision was given
    restarts: int = 0


def _serve(conn: Connection, model_path: str, threads: int, expected_sha256: str | None) -> None:
    """The child: verify and load the model, say "ready" (or why not), then answer requests in order."""
    from bot.reader.hidden_state import HiddenState

    try:
        sha = verify(Path(model_path), expected_sha256)
        state = HiddenState(Path(model_path), threads)
        state.warm_up()
    except ReaderError as exc:
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", sha))
    while True:
        try:
            request_id, deadline, question, title, quote = conn.recv()
        except (EOFError, OSError):
            return
        if time.time() > deadline:
            conn.send((request_id, None))
            continue
        try:
            conn.send((request_id, state.vector(question, title, quote).tobytes()))
        except ReaderError as exc:
            conn.send((request_id, str(exc)))


class ReaderWorker:
    """The parent's side: `submit` returns a Future of the vector (None when the child skipped it late)."""

    def __init__(self, model_path: Path, threads: int, expected_sha256: str | None = None) -> None:
        self.model_path, self.threads, self.expected_sha256 = model_path, threads, expected_sha256
        self.counts = Counts()
        self.sha256: str | None = None
        self.problem: str | None = None  # why the worker is not serving, when it is not
        self.refused = False  # the child refused the file or model: not restarted
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._pending: dict[int, tuple[Future, float]] = {}
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._started_at = 0.0
        self._ready = threading.Event()
        self._settled = threading.Event()  # the child said ready, or why not

    def start(self, wait: float | None = None) -> None:
        """Start the child (it verifies the file's hash and loads the model); wait up to `wait` seconds
        for it to be ready. ReaderError when the file or model is refused."""
        with self._lock:
            self._start()
        if wait is not None:
            self._settled.wait(wait)
            if not self._ready.is_set():
                raise ReaderError(self.problem or f"reader: {self.model_path} did not load in {wait:.0f} s")

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, str(self.model_path), self.threads, self.expected_sha256),
            name="bulletin-reader",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn, self._started_at = process, parent, time.monotonic()
        self._ready.clear()
        self._settled.clear()
        threading.Thread(target=self._receive, args=(parent,), name="reader-receive", daemon=True).start()

    def _receive(self, conn: Connection) -> None:
        try:
            status, detail = conn.recv()
        except (EOFError, OSError):
            status, detail = "error", f"reader: the worker for {self.model_path} stopped while loading"
        if status != "ready":
            self.problem, self.refused = str(detail), True  # a refused file is not retried: staff must act
            logger.error("%s; the offline decision answers", self.problem)
            self._settled.set()
            return
        self.sha256, self.problem = str(detail), None
        self._ready.set()
        self._settled.set()
        while True:
            try:
                request_id, payload = conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                entry = self._pending.pop(request_id, None)
            if entry is None:
                continue
            future = entry[0]
            if not future.set_running_or_notify_cancel():  # its question stopped waiting (the bot's timeout)
                continue
            if isinstance(payload, bytes):
                future.set_result(np.frombuffer(payload, dtype=np.float32))
            elif payload is None:
                future.set_result(None)
            else:
                future.set_exception(ReaderError(str(payload)))
        with self._lock:
            if conn is not self._conn:  # stopped, or a hung worker killed and replaced (_revive failed its requests)
                return
            self._ready.clear()
            self.problem = f"reader: the worker for {self.model_path} stopped"
            logger.error("%s; it is started again on the next question", self.problem)
            self._fail_pending()

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for future, _ in pending.values():
            if future.set_running_or_notify_cancel():
                future.set_exception(ReaderError(self.problem or "reader: the worker stopped"))

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def submit(self, question: str, title: str, quote: str, timeout: float) -> Future:
        """Queue one prompt; the Future fails at once (ReaderError) when the worker is not serving."""
        future: Future = Future()
        with self._lock:
            self._revive()
            if not self._ready.is_set() or self._conn is None:
                future.set_exception(ReaderError(self.problem or "reader: the worker is still loading"))
                return future
            if len(self._pending) >= READER.max_queue:
                future.set_exception(ReaderError(f"reader: {READER.max_queue} questions already wait"))
                return future
            request_id = next(self._ids)
            self._pending[request_id] = (future, time.monotonic())
            try:
                self._conn.send((request_id, time.time() + timeout, question, title, quote))
            except (OSError, ValueError) as exc:
                self._pending.pop(request_id, None)
                future.set_exception(ReaderError(f"reader: cannot reach the worker ({exc})"))
        return future

    def _revive(self) -> None:
        """Restart a dead child, or kill a hung one (its oldest request unanswered for HANG_SECONDS)."""
        process = self._process
        if process is None or self.refused:
            return
        oldest = min((t for _, t in self._pending.values()), default=None)
        hung = oldest is not None and time.monotonic() - oldest > READER.hang_seconds
        if hung and process.is_alive():
            logger.error("reader: the worker answered nothing for %.0f s; restarting it", READER.hang_seconds)
            process.kill()
            process.join(5)
            self.problem = "reader: the worker hung and was restarted"
            self._fail_pending()
        if not process.is_alive() and time.monotonic() - self._started_at > READER.restart_seconds:
            self.counts.restarts += 1
            old, self._conn = self._conn, None
            if old is not None:
                old.close()
            self._start()

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            conn, self._conn = self._conn, None
            self._ready.clear()
            self.problem = "reader: stopped"
            self._fail_pending()
        if conn is not None:
            conn.close()
        if process is not None and process.is_alive():
            process.kill()
            process.join(5)
