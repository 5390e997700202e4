"""Question → ranked articles: BM25 over jieba words + dense FAISS search, fused, grouped by article."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, cast, get_args

import numpy as np

from bot.answering.evidence import present
from bot.answering.message import clean_question
from bot.answering.spelling import Speller
from bot.tuning import LINKS, RETRIEVAL
from index.embed import Embedder
from index.normalize import content_words, normalize_text, query_terms, search_text
from index.store import Snapshot
from index.types import Article, Passage

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class PassageHit:
    """One passage with its scores from both retrievers."""

    row: int
    passage: Passage
    dense: float  # cosine similarity to the question
    lexical: float  # BM25 score, divided by the question's best BM25 score
    fused: float


@dataclass
class ArticleHit:
    """An article with the passages that matched, best first."""

    article: Article
    issue_date: date
    score: float
    dense: float
    lexical: float
    passages: list[PassageHit] = field(default_factory=list)


@dataclass(frozen=True)
class Reranked:
    """What the optional reranker (bot/answering/reranker.py) said about the top articles."""

    scores: dict[str, float]  # article id → its best passage's reranker score
    top: float
    threshold: float  # below `top` < threshold no quote is given as the answer


@dataclass
class Retrieval:
    """A ranked answer to 'which articles speak to this question'."""

    question: str
    normalized: str
    words: list[str]  # content words of the question (no stopwords, no bigrams)
    hits: list[ArticleHit]
    vector: np.ndarray | None = None  # the question's embedding
    top_dense: float = 0.0  # best passage cosine similarity
    dense_gap: float = 0.0  # best minus 11th best cosine: how much the best match stands out
    reranked: Reranked | None = None  # set when a reranker reordered the hits


class HybridRetriever:
    """Searches one loaded index Snapshot; `search` is safe to call from several threads."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, mode: Mode = "hybrid") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if snapshot.faiss_index is None or snapshot.lexical is None:
            raise ValueError("snapshot has no FAISS or lexical index loaded")
        self.snapshot = snapshot
        self.embedder = embedder
        self.mode = mode
        self.speller = Speller(snapshot.lexical)
        self._ready = False
        self._dates: dict[str, date] = {}
        self._rows: dict[str, list[int]] = {}
        self._article_rows: dict[str, int] = {}
        self._article_matrix = np.zeros((0, 1), dtype=np.float32)
        self._texts: dict[str, str] = {}
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._passage_vectors: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        """Group passages by article, compute the article vectors (for topic links) and load the embedding model."""
        if not self._ready:
            for row, passage in enumerate(self.snapshot.passages):
                self._rows.setdefault(passage.article_id, []).append(row)
            self._article_rows, self._article_matrix = self.article_vectors()
            self._dates = {a: self.issue_date(article) for a, article in self.snapshot.articles.items()}
            self.snapshot.lexical.prepare_search()
            self._ready = True
        self.embedder.warm_up()

    def issue_date(self, article: Article) -> date:
        return self.snapshot.issues[article.issue_id].dated

    def _lexical(self, terms: list[str]) -> np.ndarray:
        if terms and self.mode != "dense":
            scores = self.snapshot.lexical.scores(terms)
        else:
            scores = np.zeros(len(self.snapshot.passages), dtype=np.float32)
        top = float(scores.max()) if len(scores) else 0.0
        return scores / top if top > 0 else scores

    def _dense(self, vector: np.ndarray | None) -> np.ndarray:
        scores = np.zeros(len(self.snapshot.passages), dtype=np.float32)
        if vector is None or not len(scores):
            return scores
        k = min(len(scores), max(RETRIEVAL.candidates, 1))
        sims, rows = self.snapshot.faiss_index.search(vector, k)
        valid = rows[0] >= 0
        scores[rows[0][valid]] = sims[0][valid]
        return scores

    def _fuse(self, lexical: np.ndarray, dense: np.ndarray) -> np.ndarray:
        """Passage score: cosine similarity plus the scaled BM25 score (each 0 when its retriever is off)."""
        return np.maximum(dense, 0.0) + RETRIEVAL.lexical_weight * lexical

    def article_vectors(self) -> tuple[dict[str, int], np.ndarray]:
        """Mean passage vector of each article (unit rows), to tell when two articles share a topic."""
        index = self.snapshot.faiss_index
        positions: dict[str, int] = {}
        owner = np.array(
            [positions.setdefault(p.article_id, len(positions)) for p in self.snapshot.passages], dtype=np.int64
        )
        sums = np.zeros((len(positions), index.d), dtype=np.float32)
        for start in range(0, index.ntotal, 8192):  # in blocks: a large index is not copied whole
            block = index.reconstruct_n(start, min(8192, index.ntotal - start))
            np.add.at(sums, owner[start : start + len(block)], block)
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
        return positions, sums

    def passage_similarities(self, article_id: str, vector: np.ndarray) -> list[tuple[str, float]]:
        """(text, cosine with the question vector) of every passage of an article, from the stored vectors:
        choosing sentences then needs no model call."""
        rows = self._rows.get(article_id, [])
        return [
            (self.snapshot.passages[row].text, float(cos)) for row, cos in zip(rows, self._vectors(article_id) @ vector)
        ]

    def _vectors(self, article_id: str) -> np.ndarray:
        """The stored vectors of an article's passages, read from the index once and then kept (bounded):
        a new issue's articles are weighed for every followed topic."""
        vectors = self._passage_vectors.get(article_id)
        if vectors is None:
            rows, index = self._rows.get(article_id, []), self.snapshot.faiss_index
            vectors = np.vstack([index.reconstruct(row) for row in rows]) if rows else np.zeros((0, index.d))
            if len(self._passage_vectors) >= RETRIEVAL.text_cache_size:
                self._passage_vectors = {}
            self._passage_vectors[article_id] = vectors
        return vectors

    def sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        """Unit vectors of sentences; the ones seen before come from a bounded cache (safe across threads:
        a lookup never depends on the cache keeping an entry)."""
        found = {s: self._sentence_vectors.get(s) for s in sentences}
        missing = [s for s, vector in found.items() if vector is None]
        if missing:
            encoded = dict(zip(missing, self.embedder.encode(missing)))
            found.update(encoded)
            self._keep_sentences(encoded)
        if not sentences:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.vstack([cast(np.ndarray, found[s]) for s in sentences])  # each found or encoded above

    def _keep_sentences(self, encoded: dict[str, np.ndarray]) -> None:
        if len(self._sentence_vectors) + len(encoded) > RETRIEVAL.text_cache_size:
            self._sentence_vectors = {}
        self._sentence_vectors.update(encoded)

    def encode_with_sentences(self, texts: list[str], sentences: list[str]) -> np.ndarray:
        """Vectors of `texts`, embedded in one model call with the `sentences` not yet cached (whose vectors
        are then cached, so weighing them later needs no call)."""
        missing = list(dict.fromkeys(s for s in sentences if s not in self._sentence_vectors))
        vectors = self.embedder.encode(texts + missing, batch_size=len(texts) + len(missing))
        self._keep_sentences(dict(zip(missing, vectors[len(texts) :])))
        return vectors[: len(texts)]

    def topic_vectors(self) -> tuple[dict[str, int], np.ndarray]:
        """The article vectors computed at warm-up (article id → row), shared rather than computed again."""
        self.warm_up()
        return self._article_rows, self._article_matrix

    def article_similarity(self, article_id: str, vector: np.ndarray) -> float:
        """Cosine of the question vector with the article's mean passage vector (the whole article's topic)."""
        row = self._article_rows.get(article_id)
        return float(self._article_matrix[row] @ vector) if row is not None else 0.0

    def linked(self, a: str, b: str) -> bool:
        """True when two articles of different issues are on the same topic: their mean passage vectors have
        cosine ≥ LINKS.min_cosine. Checked when needed, from the vectors loaded anyway, so a large index
        costs nothing more at start-up (all pairs would be quadratic)."""
        ra, rb = self._article_rows.get(a), self._article_rows.get(b)
        if ra is None or rb is None or self._dates[a] == self._dates[b]:
            return False
        return float(self._article_matrix[ra] @ self._article_matrix[rb]) >= LINKS.min_cosine

    def idf(self, word: str) -> float:
        """Rarity of a word across passages; a word no passage uses is rarest."""
        return self.snapshot.lexical.idf(word)

    def known(self, word: str) -> float:
        """Share of a word's character pairs that some passage contains (1.0 for a word the bulletins use)."""
        return self.snapshot.lexical.known(word)

    def coverage(self, words: list[str], text: str) -> float:
        """IDF-weighted share of the question's words found in a (normalised) text.

        A word that is absent as a whole earns the share of its character pairs present,
        so 养老院 partly matches 养老机构."""
        total = sum(self.idf(w) for w in words)
        if not total:
            return 0.0
        return sum(self.idf(w) * present(w, text) for w in words) / total

    def article_text(self, article_id: str) -> str:
        """Normalised title and body of an article (computed when first needed, then kept)."""
        text = self._texts.get(article_id)
        if text is None:
            article = self.snapshot.articles[article_id]
            text = normalize_text(f"{article.title} {article.body}")
            if len(self._texts) >= RETRIEVAL.text_cache_size:
                self._texts.clear()
            self._texts[article_id] = text
        return text

    def normalize(self, question: str) -> str:
        """The text a question is searched as (typos read as meant)."""
        return self.speller.correct(search_text(clean_question(question)))

    def search(self, question: str, limit: int = 5) -> Retrieval:
        """Rank articles for a question (any language, any script)."""
        self.warm_up()
        return self.search_normalized(question, self.normalize(question), None, limit)

    def search_normalized(self, question: str, normalized: str, vector: np.ndarray | None, limit: int = 5) -> Retrieval:
        """`search` of a question already normalized (`normalize`), with its embedding when already
        computed (a batch of followed topics: bot/following/topic_batch.py), else embedded here."""
        self.warm_up()
        terms, words = query_terms(normalized), content_words(normalized)
        if not normalized or not self.snapshot.passages:
            return Retrieval(question, normalized, words, [])
        # the question's vector also serves to choose the answer's sentences; BM25-only needs none
        if self.mode == "bm25":
            vector = None
        elif vector is None:
            vector = self.embedder.encode([normalized])
        else:
            vector = vector.reshape(1, -1)
        lexical, dense = self._lexical(terms), self._dense(vector)
        ranked_dense = np.sort(dense)[::-1]
        fused = self._fuse(lexical, dense)
        by_article: dict[str, ArticleHit] = {}
        for row in np.argsort(-fused, kind="stable")[: RETRIEVAL.candidates]:
            if fused[row] <= 0:
                break
            passage = self.snapshot.passages[row]
            hit = PassageHit(int(row), passage, float(dense[row]), float(lexical[row]), float(fused[row]))
            article = self.snapshot.articles[passage.article_id]
            entry = by_article.get(passage.article_id)
            if entry is None:
                entry = by_article[passage.article_id] = ArticleHit(article, self.issue_date(article), 0.0, 0.0, 0.0)
            entry.passages.append(hit)
        for entry in by_article.values():
            entry.score = entry.passages[0].fused + RETRIEVAL.support_weight * sum(p.fused for p in entry.passages[1:3])
            entry.dense = max(p.dense for p in entry.passages)
            entry.lexical = max(p.lexical for p in entry.passages)
        hits = sorted(by_article.values(), key=lambda h: (-h.score, -h.issue_date.toordinal()))
        return Retrieval(
            question,
            normalized,
            words,
            hits[:limit],
            None if vector is None else vector[0],
            top_dense=float(ranked_dense[0]),
            dense_gap=float(ranked_dense[0] - ranked_dense[min(10, len(ranked_dense) - 1)]),
        )

    def article_hits(self, retrieval: Retrieval, article_ids: list[str]) -> list[ArticleHit]:
        """The given articles scored for a searched question as `search` scores them, whether or not they made
        its top passages (a follower's new articles are weighed even when older issues rank higher); dense
        similarity is exact here, from the stored vectors."""
        self.warm_up()
        lexical = self._lexical(query_terms(retrieval.normalized))
        hits = []
        for article_id in article_ids:
            article, rows = self.snapshot.articles[article_id], self._rows.get(article_id, [])
            if not rows:
                continue
            vector = retrieval.vector
            dense = np.array(
                [cos for _, cos in self.passage_similarities(article_id, vector)]
                if vector is not None
                else [0.0] * len(rows)
            )
            fused = self._fuse(lexical[rows], dense)
            passages = sorted(
                (
                    PassageHit(row, self.snapshot.passages[row], float(d), float(lexical[row]), float(f))
                    for row, d, f in zip(rows, dense, fused)
                ),
                key=lambda p: -p.fused,
            )
            score = passages[0].fused + RETRIEVAL.support_weight * sum(p.fused for p in passages[1:3])
            hits.append(
                ArticleHit(
                    article,
                    self.issue_date(article),
                    score,
                    max(p.dense for p in passages),
                    max(p.lexical for p in passages),
                    passages,
                )
            )
        return hits
