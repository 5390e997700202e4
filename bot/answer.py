"""Retrieval → extractive Answer: the bulletin sentences that best answer the question, with citations."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.facts import asked_kinds, states_kind, unstated
from bot.retrieve import ArticleHit, HybridRetriever, Retrieval
from index.chunk import split_sentences
from index.normalize import clean_question, has_content, is_chinese, normalize_text

logger = logging.getLogger(__name__)

# A question with several parts ("…在哪发现的？以后再看到该打哪个电话") is also searched part by part.
PART_SPLIT = re.compile(r"[？?！!；;。]+")
MAX_PARTS = 3
PART_CANDIDATES = 5
RELATED_LIMIT = 3
# Sentence choice: a further sentence must score this share of the best one.
MIN_SENTENCE_SHARE = 0.3
SENTENCE_DENSE_WEIGHT = 2.0
PASSAGE_PRIOR = 0.1
DENSE_SHORTLIST = 8
# Confidence is a logistic score over retrieval evidence. Weights were set by hand on the
# bundled evaluation questions: cosine similarity of the best passage, how much it stands
# out from the 11th best, and (for Chinese questions) how much of the question the article covers.
CONFIDENCE_WEIGHTS = {"dense": 10.0, "gap": 3.5, "coverage": 3.0, "chinese": -2.3, "bias": -1.65}
# An enumeration's items: "第二步，…", "办理步骤如下：第一步，…", "二是…", "1.古楼街道…".
LIST_ITEM = re.compile(r"第[一二三四五六七八九十\d]+步"
                       r"|(?:^|[：:，,；;])\s*[一二三四五六七八九十]是"
                       r"|^\s*(?:\d+|[一二三四五六七八九十]+)[.、．]")
LIST_SHARE = 0.9
FACT_BONUS = 0.5  # a sentence stating the kind of fact asked for (a number, a time…) is preferred


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
    reason: str  # "answered", "empty_question", "low_confidence", "not_stated", "no_index_match"
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
    chinese = is_chinese(retrieval.normalized)
    coverage = retriever.coverage(retrieval.words, retriever.article_text(lead.article.article_id)) if chinese else 0.0
    w = CONFIDENCE_WEIGHTS
    z = (w["dense"] * retrieval.top_dense + w["gap"] * retrieval.dense_gap
         + w["coverage"] * coverage + w["chinese"] * chinese + w["bias"])
    return 1.0 / (1.0 + math.exp(-z))


def select_sentences(hit: ArticleHit, question: str, question_vector: np.ndarray | None, words: list[str],
                     retriever: HybridRetriever, budget: int) -> list[str]:
    """The article's sentences that best answer the question, in reading order, within budget chars.

    A sentence scores by the question words it covers, its own similarity to the question,
    and whether the retrievers' best passages contain it."""
    sentences = split_sentences(hit.article.body)
    if not sentences:
        return []
    body = _body_passages(hit)
    best = body[0] if body else ""
    second = body[1] if len(body) > 1 else ""
    kinds = asked_kinds(question)
    scores = []
    for index, sentence in enumerate(sentences):
        normalized = normalize_text(sentence)
        value = retriever.coverage(words, normalized) if words else 0.0
        value += PASSAGE_PRIOR if sentence in best else PASSAGE_PRIOR / 3 if sentence in second else 0.0
        value += FACT_BONUS if any(states_kind(kind, normalized) for kind in kinds) else 0.0
        scores.append(value - 0.001 * index)  # ties: the earlier sentence
    # only the most promising sentences are embedded: that is most of an answer's time
    if question_vector is not None:
        shortlist = sorted(range(len(sentences)), key=scores.__getitem__, reverse=True)[:DENSE_SHORTLIST]
        vectors = retriever.embedder.encode([sentences[i] for i in shortlist])
        for index, similarity in zip(shortlist, vectors @ question_vector):
            scores[index] += SENTENCE_DENSE_WEIGHT * float(similarity)
    _list_items_together(sentences, scores)
    top = max(scores)
    chosen: list[int] = []
    used = 0
    for index in sorted(range(len(sentences)), key=scores.__getitem__, reverse=True):
        length = len(sentences[index])
        if chosen and (used + length > budget or scores[index] < MIN_SENTENCE_SHARE * top):
            continue
        chosen.append(index)
        used += length
    picked = [sentences[i] for i in sorted(chosen)]
    if len(picked) == 1 and len(picked[0]) > budget:  # one over-long sentence: cut it, marking the cut
        picked = [picked[0][: budget - 1] + "…"]
    return picked


def _list_items_together(sentences: list[str], scores: list[float]) -> None:
    """Score each item of an enumeration (第一步…, 一是…, 1.…) near its best item, so a list is quoted whole
    and in order rather than as a step or two."""
    run: list[int] = []
    for index in range(len(sentences) + 1):
        if index < len(sentences) and LIST_ITEM.search(sentences[index]):
            run.append(index)
            continue
        if len(run) > 1:
            best = max(scores[i] for i in run)
            for i in run:
                scores[i] = max(scores[i], LIST_SHARE * best - 0.001 * i)
        run = []


def _body_passages(hit: ArticleHit) -> list[str]:
    """Matched passage texts, best first, without the title passage."""
    return [p.passage.text for p in hit.passages if p.passage.text != hit.article.title]


def _part(hit: ArticleHit, retrieval: Retrieval | None, retriever: HybridRetriever, budget: int) -> AnswerPart:
    article = hit.article
    return AnswerPart(
        article.issue_id, article.title, hit.issue_date, article.source, article.article_id,
        round(hit.score, 4), next(iter(_body_passages(hit)), hit.article.body[:200]),
        select_sentences(hit, retrieval.normalized, retrieval.vector, retrieval.words, retriever, budget)
        if retrieval else [],
    )


def _states(question: str, part: AnswerPart) -> bool:
    return not unstated(question, [normalize_text(s) for s in part.sentences])


def _quote_first_stating(question: str, hits: list[ArticleHit], retrieval: Retrieval, retriever: HybridRetriever,
                         budget: int, quoted: list[AnswerPart]) -> None:
    """Quote the first of these articles that states what the question asks, unless a quote already does."""
    done = {part.article_id: part for part in quoted}
    for hit in hits:
        if hit.article.article_id in done:
            if _states(question, done[hit.article.article_id]):
                return
            continue
        if unstated(question, [retriever.article_text(hit.article.article_id)]):
            continue  # the article never states it, so no quote of it can: skip choosing sentences
        part = _part(hit, retrieval, retriever, budget)
        if _states(question, part):
            quoted.append(part)
            return


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
    related = [_part(h, None, retriever, 0) for h in main.hits[:RELATED_LIMIT]]
    if conf < min_confidence:
        return Answer(question, False, "low_confidence", round(conf, 3), related=related, ranked_ids=ranked)

    parts = question_parts(cleaned)
    budget = max_chars if len(parts) == 1 else 2 * max_chars // (len(parts) + 1)  # up to 1.5x for many parts
    # the lead article is quoted only if its quote states what is asked (a price for "多少钱"…);
    # falling back to the next article answered about the wrong thing (a place for another vaccine)
    quoted: list[AnswerPart] = []
    _quote_first_stating(parts[0], main.hits[:1], main, retriever, budget, quoted)
    if len(parts) > 1:
        # each part is also searched; its best article is quoted if the whole question found it relevant too
        candidates = main.hits[:PART_CANDIDATES]
        ids = {h.article.article_id for h in candidates}
        for part in parts:
            sub = retriever.search(part)
            if not sub.hits or confidence(sub, sub.hits[0], retriever) < min_confidence:
                continue
            lead = sub.hits[0]
            order = [lead] if lead.article.article_id in ids else []
            if asked_kinds(part):  # "…以后该打哪个电话" may be answered by a candidate its own words miss
                order += [h for h in candidates if h.article.article_id != lead.article.article_id]
            _quote_first_stating(part, order, sub, retriever, budget, quoted)
    if not quoted:  # no part of the question is answered by what the bulletins state
        return Answer(question, False, "not_stated", round(conf, 3), related=related, ranked_ids=ranked)
    newest = max(p.issue_date for p in quoted)
    return Answer(question, True, "answered", round(conf, 3), quoted, related[1:],
                  age_days=(today - newest).days, ranked_ids=ranked)
