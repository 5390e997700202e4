"""Articles of different issues on the same topic (a site list and its later update), found by vectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import faiss
import numpy as np


@dataclass(frozen=True)
class TopicLink:
    """Two articles of different issues about the same topic; `newer` is the later issue's."""

    older: str
    newer: str
    similarity: float


def topic_links(
    article_ids: list[str],
    vectors: np.ndarray,
    dates: list[date],
    *,
    min_cosine: float,
    per_article: int,
) -> list[TopicLink]:
    """Link each article to its nearest articles of other issue dates whose mean
    passage vectors (unit rows of `vectors`) have cosine ≥ min_cosine; one link per pair."""
    if len(article_ids) < 2:
        return []
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    k = min(len(article_ids), per_article * 4 + 1)  # same-issue neighbours are skipped, so look further
    sims, found = index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
    links: dict[tuple[str, str], TopicLink] = {}
    for row, (row_sims, row_found) in enumerate(zip(sims, found)):
        kept = 0
        for similarity, other in zip(row_sims, row_found):
            if other < 0 or similarity < min_cosine or kept >= per_article:
                break
            if dates[other] == dates[row]:
                continue
            kept += 1
            older, newer = (row, other) if dates[row] < dates[other] else (other, row)
            key = (article_ids[older], article_ids[newer])
            links.setdefault(key, TopicLink(key[0], key[1], round(float(similarity), 4)))
    return sorted(links.values(), key=lambda link: (link.older, link.newer))
