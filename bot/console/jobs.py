"""Publishing as a background job, so that the browser shows progress for a long file (the job page
refreshes itself, which needs no JavaScript) instead of waiting on one request."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from filelock import Timeout

from index.types import BulletinError

logger = logging.getLogger(__name__)

LOCK_HELD = "another index command is running (lock held); try again when it ends"


@dataclass
class Job:
    session: str
    label: str
    started: float
    lines: list[str] | None = None
    failed: bool = False
    error: str = ""
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, session: str, label: str, work: Callable[[], tuple[list[str], bool]]) -> str:
        """Run `work` (it returns the report lines and whether a file failed) in a thread; the job's id."""
        job_id, job = secrets.token_urlsafe(16), Job(session, label, time.time())
        with self._lock:
            self._jobs = {k: j for k, j in self._jobs.items() if j.finished is None or j.seconds < 3600}
            self._jobs[job_id] = job

        def run() -> None:
            try:
                job.lines, job.failed = work()
            except Timeout:
                job.error = LOCK_HELD
            except BulletinError as exc:
                job.error = str(exc)
            except Exception as exc:  # the page must say it failed rather than spin for ever
                logger.exception("console: %s failed", label)
                job.error = f"{type(exc).__name__}: {exc}"
            job.finished = time.time()

        threading.Thread(target=run, name=f"console-{label}", daemon=True).start()
        return job_id

    def get(self, session: str, job_id: str) -> Job | None:
        """The job, if this session started it."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.session == session else None
