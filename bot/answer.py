"""Retrieval → extractive Answer: the bulletin sentences that best answer the question, with citations."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from index.normalize import clean_question, has_content, normalize_text
from bot.retrieve import ArticleHit, HybridRetriever, Retrieval
from index.chunk import split_sentences

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


# Answer-type check: a question asking for a price or whether something is free is answered
# only by an article that states one; otherwise the bulletin talks about the topic, not the ask.
ASKS = (
    (re.compile(r"多少钱|几块钱|收费|费用|价格|价钱|票价|how much|cost|price|fee"),
     re.compile(r"\d\s*(元|块)|免费|不收取?(任何)?费用|free")),
    (re.compile(r"免费|free"), re.compile(r"免费|不收取?(任何)?费用|free")),
)


# What kind of fact a question asks for, and what a sentence stating that fact looks like.
# A sentence of the asked kind gets a bonus when the answer's sentences are chosen.
FACT_KINDS = (
    (re.compile(r"电话|热线|号码|打哪|打什么|打那个|打哪个|联系|咨询|投诉|举报|反映|告|phone|call"),
     re.compile(r"\d{4}-\d{7}|\b1\d{4}\b|\b12\d{3}\b|\b11\d\b")),
    (re.compile(r"多久|多长时间|几天|多少天|回音|答复|期限|how long"),
     re.compile(r"\d+\s*个?(工作日|天|小时|分钟|周|个月|年)")),
    (re.compile(r"几点|什么时候|啥时候|时间|开门|关门|上班|截止|最晚|到啥时|到什么时|when|hours|open"),
     re.compile(r"\d{1,2}[:：]\d{2}|\d+月\d+日|周[一二三四五六日]|星期")),
    (re.compile(r"在哪|哪里|哪儿|地址|地点|去哪|where"),
     re.compile(r"路|街道|社区|医院|中心|广场|楼|门诊|窗口|采样点|服务站")),
    (re.compile(r"带什么|带啥|带哪些|材料|证件|手续|bring|documents"),
     re.compile(r"身份证|户口簿|证件|证明|照片|材料|社保卡")),
    (re.compile(r"多少钱|收费|费用|价格|缴费标准|how much|cost|price|fee"), re.compile(r"\d\s*(元|块)|免费")),
)
FACT_BONUS = 0.5


def fact_bonus(question: str, sentence: str) -> float:
    """FACT_BONUS when the sentence states the kind of fact the question asks for."""
    return FACT_BONUS if any(ask.search(question) and fact.search(sentence) for ask, fact in FACT_KINDS) else 0.0


def states_what_is_asked(question: str, article_text: str) -> bool:
    """False when the question asks for a price (or 'free?') and the article gives none."""
    return all(answer.search(article_text) for ask, answer in ASKS if ask.search(question))


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
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in retrieval.normalized)
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
    scores = []
    for index, sentence in enumerate(sentences):
        value = retriever.coverage(words, normalize_text(sentence)) if words else 0.0
        value += PASSAGE_PRIOR if sentence in best else PASSAGE_PRIOR / 3 if sentence in second else 0.0
        value += fact_bonus(question, sentence)
        scores.append(value - 0.001 * index)  # ties: the earlier sentence
    # only the most promising sentences are embedded: that is most of an answer's time
    if question_vector is not None:
        shortlist = sorted(range(len(sentences)), key=scores.__getitem__, reverse=True)[:DENSE_SHORTLIST]
        vectors = retriever.embedder.encode([sentences[i] for i in shortlist])
        for index, similarity in zip(shortlist, vectors @ question_vector):
            scores[index] += SENTENCE_DENSE_WEIGHT * float(similarity)
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
    if not states_what_is_asked(cleaned, retriever.article_text(main.hits[0].article.article_id)):
        return Answer(question, False, "not_stated", round(conf, 3), related=related, ranked_ids=ranked)

    leads = [(main.hits[0], main)]
    parts = question_parts(cleaned)
    if len(parts) > 1:
        # each part's best article also quoted, if the whole question found it relevant too
        candidates = {h.article.article_id for h in main.hits[:PART_CANDIDATES]}
        for part in parts:
            sub = retriever.search(part)
            lead = sub.hits[0] if sub.hits else None
            if (lead and lead.article.article_id in candidates
                    and confidence(sub, lead, retriever) >= min_confidence
                    and all(lead.article.article_id != h.article.article_id for h, _ in leads)):
                leads.append((lead, sub))
    budget = 2 * max_chars // (len(leads) + 1)  # a many-part answer may run longer, up to 1.5x
    quoted = [_part(hit, r, retriever, budget) for hit, r in leads]
    newest = max(p.issue_date for p in quoted)
    return Answer(question, True, "answered", round(conf, 3), quoted, related[1:],
                  age_days=(today - newest).days, ranked_ids=ranked)
