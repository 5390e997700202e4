"""Candidate articles for a question: each quoted with its smallest quote and weighed with the evidence that
the quote answers (the features of bot/answering/evidence.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from bot.answering.evidence import (
    Evidence,
    SentenceEvidence,
    kind_flags,
    missing_words,
    place_missing,
    unknown_words,
)
from bot.answering.facts import FactKind, asked_kinds, names_topic, topic_words
from bot.answering.quote import Quote, Sentence, article_sentences, choose_quote, sentence_evidence
from bot.answering.reranker import Reranker
from bot.answering.retrieve import ArticleHit, HybridRetriever, Retrieval
from bot.tuning import ANSWER, JUDGE, QUOTE
from index.normalize import is_chinese, normalize_text


@dataclass
class Candidate:
    """One article weighed for the answer."""

    hit: ArticleHit
    quote: Quote  # as shown: it may hold one more sentence than the quote the evidence is of (bot/tuning.QUOTE)
    evidence: Evidence
    probability: float = 0.0
    shortlist: tuple[Sentence, ...] = ()  # the best-scored whole sentences, in reading order (for an LLM judge)


class QuestionContext:
    """A question's retrieval and the derived values every candidate needs."""

    def __init__(self, retrieval: Retrieval, retriever: HybridRetriever, budget: int) -> None:
        self.retrieval = retrieval
        self.retriever = retriever
        self.budget = budget
        self.text = retrieval.normalized
        self.kinds: list[FactKind] = asked_kinds(self.text)
        self.topic = topic_words(self.text, self.kinds)
        self.chinese = float(is_chinese(self.text))

    @classmethod
    def ask(
        cls, retriever: HybridRetriever, question: str, budget: int, reranker: Reranker | None = None
    ) -> QuestionContext:
        """Search the question (reordered by the reranker, when there is one) and keep what its candidates need."""
        retrieval = retriever.search(question, limit=ANSWER.linked_depth)
        return cls(reranker.rerank(retrieval) if reranker else retrieval, retriever, budget)


@dataclass
class ArticleView:
    """One candidate article's sentences, with what is known of their relevance so far."""

    hit: ArticleHit
    sentences: list[Sentence]
    passages: tuple[str, str]  # texts of the retrievers' best and second passage in it
    similarities: dict[int, float]  # sentence index → cosine with the question
    scores: list[float] = field(default_factory=list)

    def evidence(self, q: QuestionContext) -> list[SentenceEvidence]:
        coverage = (
            (lambda text: q.retriever.coverage(q.retrieval.words, text)) if q.retrieval.words else (lambda text: 0.0)
        )
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
            similarities[sentence.index] = max(
                (cos for text, cos in stored if head in text or tail in text), default=0.0
            )
    best, second = (passages + ["", ""])[:2]
    return ArticleView(hit, sentences, (best, second), similarities)


def embed_sentences(q: QuestionContext, views: list[ArticleView], per_article: int | None) -> None:
    """Replace the estimates by the sentences' own similarity: for the `per_article` best-scored sentences
    of every view (all sentences when None), embedded in one call."""
    if q.retrieval.vector is None:
        return
    chosen = [
        (v, s)
        for v in views
        for s in (
            v.sentences
            if per_article is None
            else [v.sentences[i] for i in sorted(range(len(v.sentences)), key=lambda i: -v.scores[i])[:per_article]]
        )
    ]
    vectors = q.retriever.sentence_vectors([s.text for _, s in chosen])
    for (v, sentence), cos in zip(chosen, vectors @ q.retrieval.vector):
        v.similarities[sentence.index] = float(cos)


def weigh(
    q: QuestionContext, hits: list[ArticleHit], score: Callable[[list[SentenceEvidence]], list[float]]
) -> list[Candidate]:
    """Quote each hit (its sentences scored by `score`, the sentence model) and gather the evidence that the
    quote answers the question (of the quote as the answer model was fitted on; the one shown may be longer)."""
    views = [view(q, hit) for hit in hits]
    for v in views:
        v.scores = score(v.evidence(q))
    embed_sentences(q, views, QUOTE.dense_shortlist)
    best_score = q.retrieval.hits[0].score if q.retrieval.hits else 1.0
    out = []
    for v in views:
        v.scores = score(v.evidence(q))
        quote_with = partial(
            choose_quote,
            v.sentences,
            v.scores,
            q.kinds,
            q.budget,
            lambda text: not q.topic or names_topic(text, q.topic),
        )
        weighed, shown = quote_with(), quote_with(second_share=QUOTE.shown_second_share)
        best = sorted(range(len(v.sentences)), key=lambda i: -v.scores[i])[: JUDGE.sentences]
        shortlist = tuple(v.sentences[i] for i in sorted(best))
        evidence = _evidence(q, v.hit, weighed, v.similarities, best_score)
        out.append(Candidate(v.hit, shown, evidence, shortlist=shortlist))
    return out


def _evidence(
    q: QuestionContext, hit: ArticleHit, quote: Quote, similarities: dict[int, float], best_score: float
) -> Evidence:
    retriever, words = q.retriever, q.retrieval.words
    article = retriever.article_text(hit.article.article_id)
    quoted = [s.normalized for s in quote.sentences]
    quote_text = " ".join(quoted)
    quoted_sims = [similarities.get(s.index, 0.0) for s in quote.sentences]
    missing_max, missing_share = missing_words(words, article)
    title = normalize_text(hit.article.title)
    quote_max, quote_share = missing_words(words, quote_text + " " + title)
    asked, unstated_quote, unstated_article = kind_flags(q.text, q.kinds, quoted, article)
    return Evidence(
        dense_article=hit.dense,
        dense_deficit=hit.dense - q.retrieval.top_dense,
        dense_gap=q.retrieval.dense_gap,
        dense_whole=retriever.article_similarity(hit.article.article_id, q.retrieval.vector)
        if q.retrieval.vector is not None
        else 0.0,
        lexical_article=hit.lexical,
        score_ratio=hit.score / best_score if best_score > 0 else 0.0,
        coverage_article=retriever.coverage(words, article) if words else 0.0,
        coverage_title=retriever.coverage(words, title) if words else 0.0,
        coverage_quote=retriever.coverage(words, quote_text) if words else 0.0,
        quote_similarity=max(quoted_sims, default=0.0),
        missing_info_max=missing_max,
        missing_info_share=missing_share,
        missing_quote_max=quote_max,
        missing_quote_share=quote_share,
        unknown_info_max=unknown_words(words, retriever.known),
        missing_place=place_missing(q.text, article),
        kind_asked=asked,
        kind_unstated_quote=unstated_quote,
        kind_unstated_article=unstated_article,
        chinese=q.chinese,
        question_words=float(len(words)),
    )


def candidate_hits(q: QuestionContext) -> list[ArticleHit]:
    """The top articles, and lower-ranked articles of other issues on the same topic as one of them."""
    hits = q.retrieval.hits
    pool = hits[: ANSWER.rerank_depth]
    for hit in hits[ANSWER.rerank_depth : ANSWER.linked_depth]:
        if any(q.retriever.linked(hit.article.article_id, p.article.article_id) for p in pool):
            pool.append(hit)
    return pool
