"""The optional LLM selector: an OpenAI-compatible chat endpoint is shown the question and numbered candidate
sentences and names the numbers that answer. It never writes a word a resident sees: bot/judge/judged.py quotes the
named sentences verbatim, and any reply that is not exactly a valid choice is refused here (SelectorError)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import json
import logging
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import yaml

from bot.answering.candidates import Candidate
from bot.answering.message import redact
from bot.answering.quote import Sentence
from bot.settings import Settings
from bot.tuning import JUDGE
from index.types import BulletinError

logger = logging.getLogger(__name__)

DEFAULT_PROMPT = Path(str(importlib.resources.files("bot") / "data" / "selector_prompt.yaml"))
CHAT_PATH = "/v1/chat/completions"
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)  # models often wrap JSON in a code fence


class SelectorError(Exception):
    """The model's reply is not usable (or never came); the message says why and never holds the key."""


@dataclass(frozen=True)
class Prompt:
    """The selector prompt admins may edit; its version is a hash of the file, kept in the question log."""

    system: str
    user: str
    version: str
    path: Path

    @classmethod
    def load(cls, path: Path | None) -> Prompt:
        """Read the prompt file (the built-in one when None); a bad file is a BulletinError naming it."""
        path = path or DEFAULT_PROMPT
        try:
            raw = path.read_bytes()
            data = yaml.safe_load(raw.decode("utf-8"))
            system, user = str(data["system"]), str(data["user"])
        except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise BulletinError(f"BULLETIN_LLM_PROMPT_PATH={path}: not a selector prompt ({exc})") from None
        if "$question" not in user or "$sentences" not in user:
            raise BulletinError(f"BULLETIN_LLM_PROMPT_PATH={path}: 'user' must contain $question and $sentences")
        return cls(system, user, hashlib.sha256(raw).hexdigest()[:12], path)

    def messages(self, question: str, sentences: str) -> list[dict[str, str]]:
        """The chat messages for one question (placeholders filled without evaluating anything)."""
        user = Template(self.user).safe_substitute(question=question, sentences=sentences)
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class Numbered:
    """A candidate sentence as the model sees it: its number and the article it comes from."""

    number: int
    candidate: Candidate
    sentence: Sentence


@dataclass(frozen=True)
class Selection:
    """The model's valid choice: the sentences that answer (none: no answer), and whether the question asks
    something the sentences do not state."""

    chosen: tuple[Numbered, ...]
    unstated: bool


def number_sentences(candidates: list[Candidate]) -> list[Numbered]:
    """The candidates' shortlisted sentences, numbered from 1 in article order."""
    numbered: list[Numbered] = []
    for candidate in candidates:
        for sentence in candidate.shortlist:
            numbered.append(Numbered(len(numbered) + 1, candidate, sentence))
    return numbered


def format_sentences(numbered: list[Numbered]) -> str:
    """The numbered sentences grouped under their article's title and issue date."""
    lines: list[str] = []
    shown: Candidate | None = None
    for n in numbered:
        if n.candidate is not shown:
            shown = n.candidate
            lines.append(f"\n《{shown.hit.article.title}》（{shown.hit.issue_date.isoformat()}）")
        lines.append(f"[{n.number}] {n.sentence.text}")
    return "\n".join(lines).strip()


def parse_reply(content: str, numbered: list[Numbered]) -> Selection:
    """The Selection a reply's text states; SelectorError unless it is one JSON object naming existing numbers."""
    text = content.strip()
    fenced = FENCE.match(text)
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        raise SelectorError(f"reply is not JSON ({len(text)} characters)") from None
    if not isinstance(data, dict):
        raise SelectorError("reply is not a JSON object")
    ids, unstated = data.get("sentences"), data.get("unstated", False)
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise SelectorError("'sentences' is not a list of sentence numbers")
    if not isinstance(unstated, bool):
        raise SelectorError("'unstated' is not true or false")
    by_number = {n.number: n for n in numbered}
    unknown = [i for i in ids if i not in by_number]
    if unknown:
        raise SelectorError(f"unknown sentence numbers {unknown[:5]} (1–{len(numbered)} were shown)")
    if len(set(ids)) != len(ids) or len(ids) > JUDGE.max_chosen:
        raise SelectorError(f"{len(ids)} sentence numbers named (repeated, or more than {JUDGE.max_chosen})")
    return Selection(tuple(by_number[i] for i in ids), unstated)


def reply_content(body: bytes) -> str:
    """The assistant message's text of an OpenAI-style chat completion."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise SelectorError("the endpoint's answer is not a chat completion") from None
    if not isinstance(content, str):
        raise SelectorError("the chat completion has no text content")
    return content


def endpoint(url: str) -> str:
    """The chat-completions URL: BULLETIN_LLM_URL is the server's base (…/v1 and the full path are accepted)."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return url + ("/chat/completions" if url.endswith("/v1") else CHAT_PATH)


def shown_url(url: str) -> str:
    """The URL without the user name and password it may carry (https://user:secret@host/v1 → https://***@host/v1)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


class Selector:
    """Asks the configured endpoint; each call waits at most BULLETIN_LLM_TIMEOUT and counts its failures."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_url or not settings.llm_model:
            raise ValueError("the selector needs BULLETIN_LLM_URL and BULLETIN_LLM_MODEL")
        self.url = endpoint(settings.llm_url)
        self._password = urlsplit(self.url).password or ""
        self.shown_url = shown_url(self.url)  # what logs, /status and check show: no user:password@
        self.model = settings.llm_model
        self.timeout = settings.llm_timeout
        self.prompt = Prompt.load(settings.llm_prompt_path)
        self._key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        # the LLM's own bounded pool: its calls never take a thread of asyncio's default pool (template renders,
        # offline answers), and the wait is bounded by the timeout even for a server that trickles bytes
        self._pool = ThreadPoolExecutor(max_workers=JUDGE.workers, thread_name_prefix="llm-selector")
        self._lock = threading.Lock()
        self.calls = 0
        self.failures = 0
        self.last_failure = ""

    def select(self, question: str, numbered: list[Numbered]) -> Selection:
        """The model's valid choice among the numbered sentences; SelectorError (logged, counted) otherwise.
        Blocks the calling thread (the command line); the bot uses `select_async`."""
        future = self._submit(question, numbered)
        try:
            try:
                content = future.result(timeout=self.timeout)
            except FutureTimeout:
                raise self._late(future) from None
            return parse_reply(content, numbered)
        except Exception as exc:  # any failure falls back and is counted ("["*60000 raised RecursionError out)
            raise self._failed(exc) from None

    async def select_async(self, question: str, numbered: list[Numbered]) -> Selection:
        """As `select`, waited for on the event loop: a question waiting for the model holds no thread that
        /start, a button or a template render needs (12 questions to a silent endpoint, 8 s timeout, held
        asyncio's default pool for 21 s, another resident's /start as long)."""
        future = self._submit(question, numbered)
        try:
            try:
                content = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
            except TimeoutError:
                raise self._late(future) from None
            return parse_reply(content, numbered)
        except Exception as exc:
            raise self._failed(exc) from None

    def _submit(self, question: str, numbered: list[Numbered]) -> Future[str]:
        """Count the call and queue it for one of the JUDGE.workers threads, with its deadline."""
        with self._lock:
            self.calls += 1
        # identity-card, bank-card and mobile numbers never leave the machine (the log masks them too)
        messages = self.prompt.messages(redact(question), format_sentences(numbered))
        return self._pool.submit(self._post, messages, time.monotonic() + self.timeout)

    def _late(self, future: Future[str]) -> SelectorError:
        """The error of a call not answered in time: still queued (every slot busy) or sent and unanswered."""
        if future.cancel():  # it never started: the slot never came, and now it never will
            return SelectorError(f"no free LLM slot within {self.timeout:g} s ({JUDGE.workers} calls in flight)")
        return SelectorError(f"no reply within {self.timeout:g} s")

    def _failed(self, exc: Exception) -> SelectorError:
        """Log and count a failure; the error to raise, its text without the key or the URL's password."""
        reason = self._redacted(str(exc) if isinstance(exc, SelectorError) else f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.failures += 1
            self.last_failure = reason
        logger.warning("LLM selector at %s: %s; the offline decision answers", self.shown_url, reason)
        return SelectorError(reason)

    def _post(self, messages: list[dict[str, str]], deadline: float) -> str:
        """POST one request and read the reply until `deadline` at the latest (a server trickling bytes
        keeps no worker past it, so a slot frees when the resident stops waiting)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise SelectorError(f"no reply within {self.timeout:g} s")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": JUDGE.reply_tokens,
        }
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        try:
            with self._client.stream("POST", self.url, json=body, headers=headers, timeout=left) as response:
                if response.status_code != 200:
                    raise SelectorError(f"HTTP {response.status_code} {response.reason_phrase}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > JUDGE.max_reply_bytes:
                        raise SelectorError(f"reply longer than {JUDGE.max_reply_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise SelectorError(f"no reply within {self.timeout:g} s")
        except httpx.TimeoutException:
            raise SelectorError(f"no reply within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SelectorError(f"{type(exc).__name__}: {exc}") from None
        return reply_content(bytes(data))

    def _redacted(self, text: str) -> str:
        text = text.replace(self.url, self.shown_url)
        for secret, shown in ((self._key, "<key>"), (self._password, "<password>")):
            text = text.replace(secret, shown) if secret else text
        return text

    def close(self) -> None:
        """Stop the worker threads and close the connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
