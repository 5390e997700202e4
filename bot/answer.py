"""Retrieval → Answer with one of three outcomes: the quote that answers, a possibly related quote, or none.

For the top articles (and newer articles linked to them by topic) the smallest quote is chosen and the
fitted answerability model (bot/answerability.py) weighs the evidence that it answers the question. The
newest article that answers wins; an older one is quoted only when newer ones on the topic do not state
what is asked, and the reply then names them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Literal

from bot.answerability import AnswerModel, Outcome
from bot.evidence import Evidence, SentenceEvidence, is_chinese_question, kind_flags, missing_words, place_missing, unknown_words
from bot.facts import FactKind, asked_kinds, names_topic, topic_words
from bot.quote import Quote, Sentence, article_sentences, choose_quote, sentence_evidence
from bot.retrieve import ArticleHit, HybridRetriever, Retrieval
from bot.tuning import ANSWER, QUOTE
from index.normalize import clean_question, has_content, normalize_text

logger = logging.getLogger(__name__)

# A question with several parts ("…在哪发现的？以后再看到该打哪个电话") is also answered part by part.
PART_SPLIT = re.compile(r"[？?！!；;。]+")
Reason = Literal["answered", "related", "low_probability", "empty_question", "no_index_match"]


@dataclass(frozen=True, kw_only=True)
class AnswerPart:
    """A quote from one article, with what is needed to cite it."""

    issue_id: str
    title: str
    issue_date: date
    source: str
    article_id: str
    score: float  # retrieval score
    probability: float  # the answerability model's probability that the quote answers
    quote: Quote
    asked: tuple[str, ...] = ()  # kinds of fact the question asks (to highlight them)
    newer: tuple[tuple[str, date], ...] = ()  # (title, date) of newer articles on the topic not quoted

    @property
    def text(self) -> str:
        return self.quote.text

    @property
    def sentences(self) -> list[str]:
        return [s.text for s in self.quote.sentences]


@dataclass(kw_only=True)
class Answer:
    """What the bot replies: the outcome, the quoted parts, and related titles."""

    question: str
    outcome: Outcome
    reason: Reason
    confidence: float = 0.0  # the model's probability for the lead quote
    parts: list[AnswerPart] = field(default_factory=list)
    related: list[AnswerPart] = field(default_factory=list)
    age_days: int | None = None  # age of the newest quoted issue
    ranked_ids: list[str] = field(default_factory=list)  # article ids, best first

    @property
    def answered(self) -> bool:
        return self.outcome == "answer"

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.parts)


@dataclass
class Candidate:
    """One article weighed for the answer."""

    hit: ArticleHit
    quote: Quote
    evidence: Evidence
    probability: float = 0.0


class QuestionContext:
    """A question's retrieval and the derived values every candidate needs."""

    def __init__(self, retrieval: Retrieval, retriever: HybridRetriever, budget: int) -> None:
        self.retrieval = retrieval
        self.retriever = retriever
        self.budget = budget
        self.text = retrieval.normalized
        self.kinds: list[FactKind] = asked_kinds(self.text)
        self.topic = topic_words(self.text, self.kinds)
        self.chinese = is_chinese_question(self.text)

    @classmethod
    def ask(cls, retriever: HybridRetriever, question: str, budget: int) -> QuestionContext:
        """Search the question and keep what its candidates need."""
        return cls(retriever.search(question, limit=ANSWER.linked_depth), retriever, budget)


@dataclass
class ArticleView:
    """One candidate article's sentences, with what is known of their relevance so far."""

    hit: ArticleHit
    sentences: list[Sentence]
    passages: tuple[str, str]  # texts of the retrievers' best and second passage in it
    similarities: dict[int, float]  # sentence index → cosine with the question
    scores: list[float] = field(default_factory=list)

    def evidence(self, q: QuestionContext) -> list[SentenceEvidence]:
        coverage = (lambda text: q.retriever.coverage(q.retrieval.words, text)) if q.retrieval.words else (
            lambda text: 0.0)
        return sentence_evidence(self.sentences, q.text, q.kinds, coverage, self.passages, self.similarities)


def view(q: QuestionContext, hit: ArticleHit) -> ArticleView:
    """The article's sentences; each sentence's similarity first estimated as that of its stored passage."""
    sentences = article_sentences(hit.article.body)
    passages = [p.passage.text for p in hit.passages if p.passage.text != hit.article.title]
    similarities = {}
    if q.retrieval.vector is not None:
        stored = q.retriever.passage_similarities(hit.article.article_id, q.retrieval.vector)
        for sentence in sentences:
            head, tail = sentence.text[:12], sentence.text[-12:]
            similarities[sentence.index] = max((cos for text, cos in stored if head in text or tail in text),
                                               default=0.0)
    return ArticleView(hit, sentences, tuple((passages + ["", ""])[:2]), similarities)


def embed_sentences(q: QuestionContext, views: list[ArticleView], per_article: int | None) -> None:
    """Replace the estimates by the sentences' own similarity: for the `per_article` best-scored sentences
    of every view (all sentences when None), embedded in one call."""
    if q.retrieval.vector is None:
        return
    chosen = [(v, s) for v in views for s in (
        v.sentences if per_article is None
        else [v.sentences[i] for i in sorted(range(len(v.sentences)), key=lambda i: -v.scores[i])[:per_article]])]
    vectors = q.retriever.sentence_vectors([s.text for _, s in chosen])
    for (v, sentence), cos in zip(chosen, vectors @ q.retrieval.vector):
        v.similarities[sentence.index] = float(cos)


def weigh(q: QuestionContext, hits: list[ArticleHit],
          score: Callable[[list[SentenceEvidence]], list[float]]) -> list[Candidate]:
    """Quote each hit (its sentences scored by `score`, the sentence model) and gather the evidence that the
    quote answers the question."""
    views = [view(q, hit) for hit in hits]
    for v in views:
        v.scores = score(v.evidence(q))
    embed_sentences(q, views, QUOTE.dense_shortlist)
    best_score = q.retrieval.hits[0].score if q.retrieval.hits else 1.0
    out = []
    for v in views:
        v.scores = score(v.evidence(q))
        quote = choose_quote(v.sentences, v.scores, q.kinds, q.budget,
                             lambda text: not q.topic or names_topic(text, q.topic))
        out.append(Candidate(v.hit, quote, _evidence(q, v.hit, quote, v.similarities, best_score)))
    return out


def _evidence(q: QuestionContext, hit: ArticleHit, quote: Quote, similarities: dict[int, float],
              best_score: float) -> Evidence:
    retriever, words = q.retriever, q.retrieval.words
    article = retriever.article_text(hit.article.article_id)
    quoted = [normalize_text(s.text) for s in quote.sentences]
    quote_text = " ".join(quoted)
    quoted_sims = [similarities.get(s.index, 0.0) for s in quote.sentences]
    missing_max, missing_share = missing_words(words, article)
    quote_max, quote_share = missing_words(words, quote_text + " " + normalize_text(hit.article.title))
    asked, unstated_quote, unstated_article = kind_flags(q.text, q.kinds, quoted, article)
    return Evidence(
        dense_article=hit.dense, dense_deficit=hit.dense - q.retrieval.top_dense, dense_gap=q.retrieval.dense_gap,
        dense_whole=retriever.article_similarity(hit.article.article_id, q.retrieval.vector)
        if q.retrieval.vector is not None else 0.0,
        lexical_article=hit.lexical, score_ratio=hit.score / best_score if best_score > 0 else 0.0,
        coverage_article=retriever.coverage(words, article) if words else 0.0,
        coverage_title=retriever.coverage(words, normalize_text(hit.article.title)) if words else 0.0,
        coverage_quote=retriever.coverage(words, quote_text) if words else 0.0,
        quote_similarity=max(quoted_sims, default=0.0),
        missing_info_max=missing_max, missing_info_share=missing_share,
        missing_quote_max=quote_max, missing_quote_share=quote_share,
        unknown_info_max=unknown_words(words, retriever.known),
        missing_place=place_missing(q.text, article),
        kind_asked=asked, kind_unstated_quote=unstated_quote, kind_unstated_article=unstated_article,
        chinese=q.chinese, question_words=float(len(words)),
    )


def candidate_hits(q: QuestionContext) -> list[ArticleHit]:
    """The top articles, and lower-ranked articles of other issues on the same topic as one of them."""
    hits = q.retrieval.hits
    pool = hits[: ANSWER.rerank_depth]
    for hit in hits[ANSWER.rerank_depth : ANSWER.linked_depth]:
        if any(q.retriever.linked(hit.article.article_id, p.article.article_id) for p in pool):
            pool.append(hit)
    return pool


@dataclass
class Decision:
    """The candidate chosen for a question (or part), its outcome, and the others weighed."""

    chosen: Candidate
    outcome: Outcome
    weighed: list[Candidate]
    newer: list[Candidate]  # newer articles on the same topic that were not chosen


def decide(q: QuestionContext, model: AnswerModel) -> Decision | None:
    """Weigh the top articles and the newer articles linked to them; the newest that answers wins."""
    if not q.retrieval.hits:
        return None
    weighed = weigh(q, candidate_hits(q), model.sentence_scores)
    for candidate in weighed:
        candidate.probability = model.probability(candidate.evidence)
    chosen, same = choose(weighed, q.retriever.linked, model.recency_margin)
    newer = sorted((c for c in same if c.hit.issue_date > chosen.hit.issue_date
                    and c.probability >= model.related_threshold), key=lambda c: c.hit.issue_date, reverse=True)
    return Decision(chosen, model.outcome(chosen.probability), weighed, newer)


def choose(weighed: list[Candidate], linked: Callable[[str, str], bool],
           margin: float) -> tuple[Candidate, list[Candidate]]:
    """The candidate to quote, and the candidates on the same topic as the most probable one: of those, the
    newest whose probability is at least (1 − margin) times the best's wins (a later notice supersedes an
    earlier one even when its wording matches the question less well)."""
    best = max(weighed, key=lambda c: c.probability)
    same = [c for c in weighed if c is best or linked(c.hit.article.article_id, best.hit.article.article_id)]
    eligible = [c for c in same if c.probability >= best.probability * (1 - margin)]
    return max(eligible, key=lambda c: (c.hit.issue_date, c.probability)), same


def _part(candidate: Candidate, q: QuestionContext, newer: list[Candidate] = ()) -> AnswerPart:
    article = candidate.hit.article
    return AnswerPart(
        issue_id=article.issue_id, title=article.title, issue_date=candidate.hit.issue_date,
        source=article.source, article_id=article.article_id, score=round(candidate.hit.score, 4),
        probability=round(candidate.probability, 3), quote=candidate.quote,
        asked=tuple(k.name for k in q.kinds),
        newer=tuple((c.hit.article.title, c.hit.issue_date) for c in newer),
    )


def question_parts(question: str) -> list[str]:
    """Split a multi-part question; one part when it has only one."""
    parts = [p.strip() for p in PART_SPLIT.split(question) if has_content(p)]
    return parts[: ANSWER.max_parts] if len(parts) > 1 else [question]


def answer_question(retriever: HybridRetriever, model: AnswerModel, question: str, *, max_chars: int,
                    today: date) -> Answer:
    """Answer one resident question extractively, or say honestly that the bulletins do not answer it."""
    cleaned = clean_question(question)
    if not has_content(cleaned):
        return Answer(question=question, outcome="none", reason="empty_question")
    parts = question_parts(cleaned)
    budget = max_chars if len(parts) == 1 else 2 * max_chars // (len(parts) + 1)
    whole = QuestionContext.ask(retriever, cleaned, budget)
    decision = decide(whole, model)
    if decision is None:
        return Answer(question=question, outcome="none", reason="no_index_match")
    ranked = sorted(decision.weighed, key=lambda c: c is not decision.chosen)
    ranked_ids = [c.hit.article.article_id for c in ranked]
    ranked_ids += [h.article.article_id for h in whole.retrieval.hits if h.article.article_id not in ranked_ids]
    answered = [(decision, whole)] if decision.outcome == "answer" else []
    if len(parts) > 1:  # each part is searched too; its answer joins when it states something new
        for text in parts:
            sub = QuestionContext.ask(retriever, text, budget)
            found = decide(sub, model)
            if found is not None and found.outcome == "answer":
                answered.append((found, sub))
    quoted = _distinct([_part(d.chosen, q, d.newer) for d, q in answered])
    confidence = round(decision.chosen.probability, 3)
    if quoted:
        related = _related(decision, {p.article_id for p in quoted}, whole, model)
        return Answer(question=question, outcome="answer", reason="answered", confidence=confidence,
                      parts=quoted, related=related, ranked_ids=ranked_ids,
                      age_days=(today - max(p.issue_date for p in quoted)).days)
    if decision.outcome == "related":
        lead = _part(decision.chosen, whole, decision.newer)
        return Answer(question=question, outcome="related", reason="related", confidence=confidence,
                      parts=[lead], ranked_ids=ranked_ids, age_days=(today - lead.issue_date).days)
    return Answer(question=question, outcome="none", reason="low_probability", confidence=confidence,
                  related=_related(decision, set(), whole, model), ranked_ids=ranked_ids)


def _distinct(parts: list[AnswerPart]) -> list[AnswerPart]:
    """One part per article: a later quote of an article already quoted adds its new sentences to it."""
    merged: dict[str, AnswerPart] = {}
    for part in parts:
        first = merged.get(part.article_id)
        if first is None:
            merged[part.article_id] = part
            continue
        sentences = {s.index: s for s in first.quote.sentences + part.quote.sentences}
        quote = Quote(tuple(sentences[i] for i in sorted(sentences)), first.quote.list_size)
        merged[part.article_id] = AnswerPart(**{**first.__dict__, "quote": quote})
    return list(merged.values())


def _related(decision: Decision, quoted: set[str], q: QuestionContext, model: AnswerModel) -> list[AnswerPart]:
    """Titles worth suggesting: weighed articles above the relevance floor, each title once."""
    floor = model.related_threshold * ANSWER.related_floor_share
    out, titles = [], set()
    for c in sorted(decision.weighed, key=lambda c: -c.probability):
        key = (c.hit.article.title, c.hit.issue_date)
        if c.hit.article.article_id in quoted or key in titles or c.probability < floor:
            continue
        titles.add(key)
        out.append(_part(c, q))
    return out[: ANSWER.related_limit]
