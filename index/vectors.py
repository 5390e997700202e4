"""Vectors for new passages: embedded, or taken from the index when it already holds the same text."""

from __future__ import annotations

import hashlib

import faiss
import numpy as np

from index.embed import Embedder
from index.store import Snapshot
from index.types import Passage


def embedding_text(title: str, passage: Passage) -> str:
    """A body passage is embedded and searched with its title for context; the title passage alone."""
    return title if passage.text == title else f"{title}：{passage.text}"


def reconstruct(index: faiss.Index, rows: list[int]) -> np.ndarray:
    """The stored vectors of these rows (flat and HNSW indexes both keep them)."""
    out = np.zeros((len(rows), index.d), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i] = index.reconstruct(row)
    return out


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def vectors_for(
    embedder: Embedder, base: Snapshot | None, new: list[Passage], texts: list[str]
) -> tuple[np.ndarray, int, int]:
    """(vectors, embedded, reused) for the new passages' embedding texts: a text already in the index
    (an issue that repeats another's articles, a renamed copy) reuses its stored vector, and a text
    that comes twice is embedded once."""
    keys = [_key(t) for t in texts]
    stored: dict[bytes, int] = {}  # text key → row in the base index
    if base is not None and new:
        bodies, wanted = {p.text for p in new}, set(keys)
        for row, p in enumerate(base.passages):
            if p.text in bodies:  # a cheap filter before building and hashing the embedding text
                key = _key(embedding_text(base.articles[p.article_id].title, p))
                if key in wanted:
                    stored.setdefault(key, row)
    todo = {k: t for k, t in zip(keys, texts) if k not in stored}
    vectors = dict(zip(todo, embedder.encode(list(todo.values()), progress=len(todo) > 256)))
    if stored and base is not None:  # only a base has stored rows
        vectors.update(zip(stored, reconstruct(base.faiss_index, list(stored.values()))))
    array = np.stack([vectors[k] for k in keys]) if keys else embedder.encode([])
    return array, len(todo), len(texts) - len(todo)
