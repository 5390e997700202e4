"""The answer engine: the current index, the retriever and the templates, swapped safely while serving."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

from bot.answering.answer import Answer, answer_question, conversational_answer
from bot.answering.answerability import AnswerModel
from bot.answering.reranker import Reranker
from bot.answering.retrieve import HybridRetriever, Mode
from bot.corrections.match import CorrectionMatcher, correction_answer
from bot.corrections.review import IndexView
from bot.corrections.store import FILE_NAME as CORRECTIONS_FILE
from bot.judge.judged import judged_answer, judged_answer_async
from bot.judge.selector import Selector
from bot.reader.model_file import ReaderError
from bot.reader.reader import Reader, wanted
from bot.replies.reply import render_answer
from bot.replies.templates import Templates
from bot.settings import Settings
from bot.tuning import ANSWER
from index.embed import Embedder
from index.store import IndexStore, Snapshot
from index.types import Article, BulletinError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One index version ready to serve."""

    version: str
    snapshot: Snapshot
    retriever: HybridRetriever
    loaded_at: float
    view: IndexView  # what corrections are checked against


@dataclass(frozen=True)
class Judges:
    """The optional judges of a deployment (README: "An optional judge", "The local reader"); all None: the
    offline path."""

    selector: Selector | None = None
    reranker: Reranker | None = None
    reader: Reader | None = None


@dataclass(frozen=True)
class Fallback:
    """At start-up the version CURRENT names did not load, so an older one serves instead."""

    wanted: str  # what CURRENT names
    serving: str
    reason: str


class Engine:
    """Answers questions from whichever index version is current; reloads without dropping questions."""

    def __init__(self, settings: Settings, mode: Mode = "hybrid") -> None:
        self.settings = settings
        self.mode = mode
        self.store = IndexStore(settings.data_dir, settings.keep_versions)
        self.embedder = Embedder(settings.embedding_model, settings.embedding_threads, settings.embedding_batch_size)
        self.templates = Templates(settings.templates_path, settings.answer_max_chars)
        self.judges = Judges(
            Selector(settings) if settings.llm_url else None,
            Reranker(settings.reranker_model) if settings.reranker_model else None,
            Reader(settings) if wanted(settings) else None,
        )
        self._model: AnswerModel | None = None
        self._loaded: Loaded | None = None
        # staff corrections answer before the model; read from the store whenever it changed
        self.corrections = CorrectionMatcher(settings.data_dir / CORRECTIONS_FILE, lambda: self.embedder)
        self._reload_lock = threading.Lock()
        self._answering = ThreadPoolExecutor(max_workers=ANSWER.workers, thread_name_prefix="answer")
        self.fallback: Fallback | None = None  # set while an older version serves in place of CURRENT's

    def warm_up(self) -> None:
        """Load the current index version (or, if it does not load, the newest that does), the embedding
        model, the answerability model, the corrections and the reranker, if one is set."""
        if self._loaded is None:
            self.reload_index()
        _ = self.model
        self.corrections.served(self.loaded.view)  # their vectors, before the first resident waits for them
        if self.judges.reranker:
            self.judges.reranker.warm_up()
        if self.judges.reader:
            try:  # the worker verifies and loads the model while the offline path already answers
                self.judges.reader.warm_up()
            except ReaderError as exc:
                logger.error("%s; answering offline", exc)

    @property
    def model(self) -> AnswerModel:
        """The fitted answerability model (read once), with the deployment's answer threshold if it sets one."""
        if self._model is None:
            model = AnswerModel.load(self.settings.answer_model_path)
            chosen = self.settings.answer_threshold
            if chosen is not None:
                model = replace(model, answer_threshold=chosen, related_threshold=min(model.related_threshold, chosen))
            self._model = model
        return self._model

    @property
    def loaded(self) -> Loaded:
        if self._loaded is None:
            self.reload_index()
        assert self._loaded is not None  # reload_index loads one or raises
        return self._loaded

    @property
    def serving(self) -> str | None:
        """The version answering questions now, without loading one."""
        return self._loaded.version if self._loaded else None

    def reload_index(self) -> bool:
        """Load the current version if it is not the one serving; True when a new one was loaded.

        On failure the old version keeps serving and BulletinError says why."""
        with self._reload_lock:
            if self._loaded is None:
                return self._first_load()
            current = self.store.current()
            if current == self._loaded.version:
                self.fallback = None  # staff pointed CURRENT back at the serving version
                return False
            self._serve(self.store.load(current, model=self.embedder.model_name))
            self.fallback = None
            return True

    def _serve(self, snapshot: Snapshot) -> None:
        retriever = HybridRetriever(snapshot, self.embedder, self.mode)
        retriever.warm_up()
        # one assignment: a question in flight keeps the Loaded it started with
        view = IndexView.of(snapshot, retriever)
        self._loaded = Loaded(snapshot.version, snapshot, retriever, time.time(), view)
        logger.info("serving index version %s", snapshot.version)

    def _first_load(self) -> bool:
        """Serve the current version; if it does not load, the newest version that does (residents
        keep their answers while staff repair the index) and say so in `fallback`."""
        try:
            self._serve(self.store.load(model=self.embedder.model_name))
            return True
        except BulletinError as exc:
            problem = exc
        try:
            wanted = self.store.pointer_text() or "(none)"
        except BulletinError:
            wanted = "(unreadable)"
        for name in reversed(self.store.versions()):
            if name == wanted:
                continue
            try:
                snapshot = self.store.load(name, model=self.embedder.model_name)
            except BulletinError:
                continue
            self._serve(snapshot)
            self.fallback = Fallback(wanted, name, str(problem))
            logger.error("index version %s does not load (%s); serving %s instead", wanted, problem, name)
            return True
        raise problem

    def ask(
        self, question: str, today: date | None = None, judges: Judges | None = None, corrections: bool = True
    ) -> Answer:
        """Answer one question from the index version current at the time of asking (with the configured
        judges, or the ones given: `eval` compares the decision paths on the same questions). A staff
        correction of the question or a close paraphrase answers first (path "correction"), unless
        `corrections` is False (`eval` measures the model, not the labels staff gave)."""
        judges, today = judges or self.judges, today or date.today()
        answer = self._offline(question, today, judges.reranker, corrections)
        if answer.path == "correction":
            return answer
        if judges.reader is not None:
            answer = judges.reader.read(answer, today)
        if judges.selector is None:
            return answer
        return judged_answer(answer, judges.selector, self.settings.answer_max_chars, today)

    async def ask_async(self, question: str) -> Answer:
        """As `ask`, for the bot: the offline answer in the engine's own ANSWER.workers threads, then the reader's
        and the LLM's waits on the event loop, so none holds a thread that /start, buttons or template renders need; a
        greeting or a thanks (no search) is not queued behind other residents' questions."""
        judges, today = self.judges, date.today()
        answer = await asyncio.to_thread(conversational_answer, question)
        if answer is None:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._answering, self._offline, question, today, judges.reranker, True)
        if answer.path == "correction":
            return answer
        if judges.reader is not None:
            answer = await judges.reader.read_async(answer, today)
        if judges.selector is None:
            return answer
        return await judged_answer_async(answer, judges.selector, self.settings.answer_max_chars, today)

    def _offline(self, question: str, today: date, reranker: Reranker | None, corrections: bool) -> Answer:
        """A staff correction when one matches, else the offline decision, from the index version current at
        the time of asking."""
        loaded = self.loaded
        match = self.corrections.match(question, loaded.view) if corrections else None
        if match is not None:
            return correction_answer(match, loaded.view, question, today)
        return answer_question(
            loaded.retriever,
            self.model,
            question,
            max_chars=self.settings.answer_max_chars,
            today=today,
            reranker=reranker,
        )

    def render(self, answer: Answer) -> str:
        """The reply text (Telegram HTML) for an answer; a greeting is answered with the greeting."""
        if answer.reason == "greeting":
            return self.templates.render("greeting", **self.overview())
        return render_answer(self.templates, answer, self.settings.stale_after_days)

    def article(self, article_id: str) -> Article | None:
        """A full cleaned article of the serving version, if it still exists."""
        return self.loaded.snapshot.articles.get(article_id)

    def overview(self) -> dict:
        """Issue count and newest issue date, for the greeting and /status."""
        try:
            snapshot = self.loaded.snapshot
        except BulletinError:
            return {"issues": 0, "latest_date": ""}
        dates = [i.dated for i in snapshot.issues.values()]
        return {"issues": len(dates), "latest_date": max(dates).isoformat() if dates else ""}
