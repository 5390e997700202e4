"""The reader as the engine uses it: settings → model file, fitted probe and worker; an offline answer in,
the reader's answer out, or the offline answer itself whenever the reader cannot decide in time."""

from __future__ import annotations

import asyncio
import atexit
import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from bot.answering.answer import Answer
from bot.reader.model_file import EXPECTED_SHA256, FILE_NAME, ReaderError, installed_path
from bot.reader.probe import ReaderProbe
from bot.reader.read import Reading, read_answer, reading_of
from bot.reader.worker import ReaderWorker
from bot.settings import Settings
from bot.tuning import READER

logger = logging.getLogger(__name__)


def model_path(settings: Settings) -> Path:
    """BULLETIN_READER_MODEL, or where `bulletin-bot reader install` puts the model."""
    return settings.reader_model or installed_path(settings.data_dir)


def wanted(settings: Settings) -> bool:
    """Whether this deployment reads with the model: on when set so, or (auto) once the model is there."""
    if settings.reader == "off":
        return False
    return settings.reader == "on" or model_path(settings).is_file()


class Reader:
    """`warm_up` reads the probe and starts the worker; `read` decides or falls back to the offline answer."""

    def __init__(self, settings: Settings) -> None:
        self.path = model_path(settings)
        self.probe_path = settings.reader_probe_path
        self.timeout = settings.reader_timeout
        self.threads = settings.reader_threads
        self.threshold = settings.reader_threshold
        self.probe: ReaderProbe | None = None
        self.worker: ReaderWorker | None = None

    def warm_up(self, wait: float | None = None) -> None:
        """Read the probe (refused for another model: the bundled one is fitted for the bundled file) and
        start the worker, which checks the file's hash before loading it. ReaderError says why not."""
        if self.worker is not None:
            return
        if not self.path.is_file():
            raise ReaderError(
                f"reader: {self.path} does not exist (bulletin-bot reader install, or set BULLETIN_READER_MODEL)"
            )
        probe = ReaderProbe.load(self.probe_path)
        if self.path.name == FILE_NAME and probe.model_sha256 != EXPECTED_SHA256:
            raise ReaderError(f"reader: {self.probe_path} was not fitted for {FILE_NAME}; bulletin-bot fit --reader")
        if self.threshold is not None:  # BULLETIN_READER_THRESHOLD: the deployment's point on the curve
            probe = replace(
                probe, answer_threshold=self.threshold, related_threshold=min(probe.related_threshold, self.threshold)
            )
        self.probe = probe
        self.worker = ReaderWorker(self.path, self.threads, probe.model_sha256)
        atexit.register(self.stop)  # the worker ends with the program, quietly
        self.worker.start(wait)

    def wait_ready(self, timeout: float = READER.load_seconds) -> None:
        """Start the worker if need be and wait until it reads (one-off commands: chat, eval); ReaderError
        when it was refused or did not load in time."""
        if self.worker is None:
            self.warm_up(wait=timeout)
            return
        self.worker._settled.wait(timeout)
        if not self.worker.ready:
            raise ReaderError(self.worker.problem or f"reader: {self.path} did not load in {timeout:.0f} s")

    @property
    def counts(self):
        return self.worker.counts if self.worker else None

    def read(self, offline: Answer, today: date) -> Answer:
        """The reader's answer, waiting at most BULLETIN_READER_TIMEOUT; else the offline answer."""
        reading = reading_of(offline)
        if reading is None:
            return offline
        try:
            vector = self._submit(reading).result(self.timeout)
        except FutureTimeout:
            vector = None
        except ReaderError as exc:
            return self._failed(offline, exc)
        return self._decided(offline, vector, today)

    async def read_async(self, offline: Answer, today: date) -> Answer:
        """As `read`, waiting on the event loop (no thread is held while the worker reads)."""
        reading = reading_of(offline)
        if reading is None:
            return offline
        try:
            vector = await asyncio.wait_for(asyncio.wrap_future(self._submit(reading)), self.timeout)
        except TimeoutError:
            vector = None
        except ReaderError as exc:
            return self._failed(offline, exc)
        return self._decided(offline, vector, today)

    def _submit(self, reading: Reading) -> Future:
        if self.worker is None:  # a one-off command (ask, eval): wait for the model; the bot warms up first
            self.warm_up(wait=READER.load_seconds)
        assert self.worker is not None
        return self.worker.submit(reading.question, reading.title, reading.quote, self.timeout)

    def _decided(self, offline: Answer, vector: np.ndarray | None, today: date) -> Answer:
        assert self.worker is not None and self.probe is not None
        if vector is None:
            self.worker.counts.late += 1
            return offline
        self.worker.counts.read += 1
        probability = self.probe.probability(vector, offline.confidence)
        return read_answer(offline, probability, self.probe, today)

    def _failed(self, offline: Answer, exc: ReaderError) -> Answer:
        if self.worker is not None:
            self.worker.counts.failed += 1
        logger.warning("%s; answered offline", exc)
        return offline

    def status_zh(self) -> str:
        """The /status line (Chinese, as the rest of /status)."""
        if self.worker is None:
            return "未启动（离线判断）"
        c = self.worker.counts
        state = "就绪" if self.worker.ready else f"未就绪（{self.worker.problem or '加载中'}）"
        return f"{state}，判断 {c.read} 次，超时回退离线判断 {c.late} 次，出错回退 {c.failed} 次，重启 {c.restarts} 次"

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
