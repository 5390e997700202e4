"""Every followed topic matched against a new issue in one pass, within a time cap.

One topic at a time (bot/topics.weigh_topic), each topic cost its own model call: 73 ms a topic, so 1,000
chats following 20 topics of their own each took ≈ 24 min of CPU before a push. Here topics that search
as the same text are weighed once and the result given to each; the topics and the issue's sentences are
embedded in one model call per TOPICS.batch_topics distinct texts; the issue's passage vectors are read from the
index once (bot/answering/retrieve.py keeps them). The decisions are those of weigh_topic
(tests/following/test_topic_batch.py).

The pass stops at a deadline (TOPICS.plan_seconds): topics not reached by then are skipped for this issue,
not deferred, so a push stays one transaction with one message per chat and issue (bot/following/store.py)
and is not held back by the slowest topics; the topics followed by the most chats come first, and ties
are ordered by a hash of the issue, so the topics skipped differ from one issue to the next."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.answering.answerability import AnswerModel
from bot.answering.candidates import QuestionContext
from bot.answering.message import clean_question
from bot.answering.quote import article_sentences
from bot.answering.retrieve import HybridRetriever
from bot.following.topics import TopicMatch, weigh_searched
from bot.tuning import ANSWER, TOPICS
from index.normalize import has_content


@dataclass
class TopicResults:
    """What one pass decided."""

    matches: dict[str, list[TopicMatch]]  # each topic weighed → the articles it matches, in article order
    skipped: list[str]  # topics not weighed before the deadline


def in_priority(followers: Counter[str], issue_id: str) -> list[str]:
    """Topics by followers, most first; ties in an order that depends on the issue (a stable hash)."""

    def tie(topic: str) -> bytes:
        return hashlib.blake2b(f"{issue_id}\n{topic}".encode(), digest_size=8).digest()

    return sorted(followers, key=lambda t: (-followers[t], tie(t)))


def match_batched(
    retriever: HybridRetriever,
    model: AnswerModel,
    topics: list[str],
    article_ids: list[str],
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> TopicResults:
    """Each topic (in priority order) → the given articles it matches, until `deadline` (of `clock`), which
    bounds every step: reading 20,000 topics as searched (typos corrected) alone took 23.5 s."""
    retriever.warm_up()
    if not article_ids:
        return TopicResults({t: [] for t in topics}, [])
    matches: dict[str, list[TopicMatch]] = {}
    weighed: dict[str, list[TopicMatch]] = {}  # searched text → its matches
    waiting: dict[str, list[str]] = {}  # searched text → the topics that search as it, not yet weighed
    snapshot = retriever.snapshot
    sentences = [s.text for a in article_ids for s in article_sentences(snapshot.articles[a].body)]

    def weigh_waiting() -> None:
        nonlocal sentences
        embedded = [t for t in waiting if t] if retriever.mode != "bm25" and snapshot.passages else []
        vectors = dict(zip(embedded, retriever.encode_with_sentences(embedded, sentences)))
        sentences = []  # cached by the first call
        for text, followed in waiting.items():
            if clock() >= deadline:
                break
            retrieval = retriever.search_normalized(
                clean_question(followed[0]), text, vectors.get(text), ANSWER.linked_depth
            )
            q = QuestionContext(retrieval, retriever, TOPICS.quote_chars)
            weighed[text] = [m for m in weigh_searched(model, q, followed[0], article_ids) if m.matched]
            matches.update((topic, [replace(m, topic=topic) for m in weighed[text]]) for topic in followed)
        waiting.clear()

    for topic in topics:
        if clock() >= deadline:
            break
        cleaned = clean_question(topic)
        if not has_content(cleaned):
            matches[topic] = []
        elif (text := retriever.normalize(cleaned)) in weighed:
            matches[topic] = [replace(m, topic=topic) for m in weighed[text]]
        else:
            waiting.setdefault(text, []).append(topic)
            if len(waiting) >= TOPICS.batch_topics:
                weigh_waiting()
    if waiting and clock() < deadline:
        weigh_waiting()
    return TopicResults(matches, [t for t in topics if t not in matches])
