"""Whether a correction may still be served by an index version: its article is there and no newer issue
has an article on the same topic that the correction's author did not see."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from bot.answering.quote import Sentence, article_sentences
from bot.answering.retrieve import HybridRetriever
from bot.tuning import LINKS
from index.embed import Embedder
from index.store import IndexStore, Snapshot
from index.types import Article

logger = logging.getLogger(__name__)


@dataclass
class IndexView:
    """What corrections need of one index version: its articles, their issue dates and topic vectors."""

    version: str
    articles: dict[str, Article]
    dates: dict[str, date]  # article id → issue date
    rows: dict[str, int]  # article id → row of `vectors`
    vectors: np.ndarray  # mean passage vector of each article (unit rows), as topic links use them

    @classmethod
    def of(cls, snapshot: Snapshot, retriever: HybridRetriever | None = None) -> IndexView:
        """The view of a snapshot; the article vectors are the serving retriever's, or computed without
        loading any model."""
        if retriever is not None:
            rows, vectors = retriever.topic_vectors()
        else:
            rows, vectors = HybridRetriever(snapshot, Embedder(snapshot.model or "use-m3")).article_vectors()
        dates = {a: snapshot.issues[article.issue_id].dated for a, article in snapshot.articles.items()}
        return cls(snapshot.version, snapshot.articles, dates, rows, vectors)

    def sentences(self, article_id: str) -> list[Sentence]:
        """The article's quotable sentences, numbered as pins name them."""
        article = self.articles.get(article_id)
        return article_sentences(article.body) if article else []

    def newer_linked(self, article_id: str) -> list[str]:
        """Articles of later issues on the article's topic (cosine ≥ LINKS.min_cosine, as bot/answering/retrieve.py
        links them), newest first."""
        row = self.rows.get(article_id)
        if row is None:
            return []
        dated = self.dates[article_id]
        similar = self.vectors @ self.vectors[row]
        found = [a for a, r in self.rows.items() if similar[r] >= LINKS.min_cosine and self.dates[a] > dated]
        return sorted(found, key=lambda a: self.dates[a], reverse=True)

    def problem(self, article_id: str | None, seen: tuple[str, ...]) -> str:
        """Why a correction on this article must be reviewed before it is served again ("" when it need not):
        the article is gone, or a later issue has an article on its topic that was not there when it was made."""
        if article_id is None:
            return ""
        if article_id not in self.articles:
            return f"article {article_id} is not in index version {self.version} (removed or replaced)"
        for newer in self.newer_linked(article_id):
            if newer not in seen:
                article = self.articles[newer]
                return f"a newer issue may supersede it: 《{article.title}》 ({self.dates[newer].isoformat()})"
        return ""


def current_view(data_dir: Path, cached: IndexView | None = None) -> IndexView:
    """The view of the current index version under DATA_DIR (the cached one while it is still current)."""
    store = IndexStore(data_dir, 1)
    name = store.current()
    if cached is not None and cached.version == name:
        return cached
    return IndexView.of(store.load(name))
