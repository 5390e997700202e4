"""Retrieval → extractive Answer: the bulletin sentences that best answer the question, with citations."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date

from bot.normalize import clean_question, has_content, normalize_text
from bot.retrieve import ArticleHit, HybridRetriever, Retrieval
from index.chunk import split_sentences

logger = logging.getLogger(__name__)

# A question with several parts ("…在哪发现的？以后再看到该打哪个电话") is also searched part by part.
PART_SPLIT = re.compile(r"[？?！!；;。]+")
MAX_PARTS = 3
RELATED_LIMIT = 3
# Confidence is a logistic score over retrieval evidence. Weights were set by hand on the
# bundled evaluation questions: cosine similarity of the best passage, how much it stands
# out from the 11th best, and (for Chinese questions) how much of the question the article covers.
CONFIDENCE_WEIGHTS = {"dense": 10.0, "gap": 3.5, "coverage": 3.0, "chinese": -2.3, "bias": -1.65}


@dataclass(frozen=True)
class AnswerPart:
    """Sentences quoted from one article, with what is needed to cite it."""

    issue_id: str
    title: str
    issue_date: date
    source: str
    article_id: str
    score: float
    passage: str
    sentences: list[str]

    @property
    def text(self) -> str:
        return "".join(self.sentences)


@dataclass
class Answer:
    """What the bot replies: quoted parts, or a no-answer with related titles."""

    question: str
    answered: bool
    reason: str  # "answered", "empty_question", "low_confidence", "no_index_match"
    confidence: float = 0.0
    parts: list[AnswerPart] = field(default_factory=list)
    related: list[AnswerPart] = field(default_factory=list)
    age_days: int | None = None  # age of the newest quoted issue
    ranked_ids: list[str] = field(default_factory=list)  # article ids, best first

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.parts)


def confidence(retrieval: Retrieval, lead: ArticleHit, retriever: HybridRetriever) -> float:
    """Probability-like confidence (0..1) that the lead article answers the question."""
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in retrieval.normalized)
    coverage = retriever.coverage(retrieval.words, retriever.article_text(lead.article.article_id)) if chinese else 0.0
    w = CONFIDENCE_WEIGHTS
    z = (w["dense"] * retrieval.top_dense + w["gap"] * retrieval.dense_gap
         + w["coverage"] * coverage + w["chinese"] * chinese + w["bias"])
    return 1.0 / (1.0 + math.exp(-z))


def select_sentences(hit: ArticleHit, words: list[str], retriever: HybridRetriever, budget: int) -> list[str]:
    """The article's sentences that best match the question, in reading order, within budget chars."""
    sentences = split_sentences(hit.article.body)
    best = hit.passages[0].passage.text if hit.passages else ""
    second = hit.passages[1].passage.text if len(hit.passages) > 1 else ""

    def score(index: int) -> float:
        sentence = sentences[index]
        value = retriever.coverage(words, normalize_text(sentence)) if words else 0.0
        # the retrievers already judged the passages; their sentences get a head start
        value += 0.5 if sentence in best else 0.2 if sentence in second else 0.0
        return value - 0.001 * index  # ties: earlier sentence first

    chosen: list[int] = []
    used = 0
    for index in sorted(range(len(sentences)), key=score, reverse=True):
        length = len(sentences[index])
        if chosen and (used + length > budget or score(index) < 0.3):
            continue
        chosen.append(index)
        used += length
        if used >= budget:
            break
    picked = [sentences[i] for i in sorted(chosen)]
    if picked and len(picked[0]) > budget:  # one over-long sentence: cut it, marking the cut
        picked = [picked[0][: budget - 1] + "…"]
    return picked


def _part(hit: ArticleHit, words: list[str], retriever: HybridRetriever, budget: int) -> AnswerPart:
    article = hit.article
    return AnswerPart(
        article.issue_id, article.title, hit.issue_date, article.source, article.article_id,
        round(hit.score, 4), hit.passages[0].passage.text if hit.passages else "",
        select_sentences(hit, words, retriever, budget) if budget else [],
    )


def question_parts(question: str) -> list[str]:
    """Split a multi-part question; one part when it has only one."""
    parts = [p.strip() for p in PART_SPLIT.split(question) if has_content(p)]
    return parts[:MAX_PARTS] if len(parts) > 1 else [question]


def answer_question(retriever: HybridRetriever, question: str, *, min_confidence: float,
                    max_chars: int, today: date) -> Answer:
    """Answer one resident question extractively, or say honestly that the bulletins do not cover it."""
    cleaned = clean_question(question)
    if not has_content(cleaned):
        return Answer(question, False, "empty_question")
    main = retriever.search(cleaned, limit=10)
    if not main.hits:
        return Answer(question, False, "no_index_match")
    ranked = [h.article.article_id for h in main.hits]
    conf = confidence(main, main.hits[0], retriever)
    related = [_part(h, [], retriever, 0) for h in main.hits[:RELATED_LIMIT]]
    if conf < min_confidence:
        return Answer(question, False, "low_confidence", round(conf, 3), related=related, ranked_ids=ranked)

    leads = [(main.hits[0], main)]
    parts = question_parts(cleaned)
    if len(parts) > 1:
        for part in parts:
            sub = retriever.search(part)
            if sub.hits and confidence(sub, sub.hits[0], retriever) >= min_confidence:
                if all(sub.hits[0].article.article_id != h.article.article_id for h, _ in leads):
                    leads.append((sub.hits[0], sub))
    budget = max_chars // len(leads)
    quoted = [_part(hit, r.words, retriever, budget) for hit, r in leads]
    newest = max(p.issue_date for p in quoted)
    return Answer(question, True, "answered", round(conf, 3), quoted, related[1:],
                  age_days=(today - newest).days, ranked_ids=ranked)
