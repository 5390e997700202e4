"""BM25 over passage tokens, stored with each index version and extended in place when issues are added.

The term-frequency matrix (passages × vocabulary, CSC so one term's postings are contiguous) is built
at index time, so a serving process loads it instead of re-segmenting every passage, and `index add`
only segments the new passages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

K1, B = 1.5, 0.75
MATRIX_FILE, VOCAB_FILE = "lexical.npz", "lexical_vocab.json"


class LexicalIndex:
    """Passage-level BM25 with a growable vocabulary; row i is passage i (FAISS row i)."""

    def __init__(self, vocab: list[str], matrix: sparse.csc_matrix) -> None:
        if matrix.shape[1] != len(vocab):
            raise ValueError("vocabulary and matrix disagree")
        self.vocab = vocab
        self.term_ids = {term: i for i, term in enumerate(vocab)}
        self.matrix = matrix.tocsc()
        self._refresh()

    def _refresh(self) -> None:
        self.doc_lengths = np.asarray(self.matrix.sum(axis=1)).ravel().astype(np.float32)
        self.doc_freq = np.diff(self.matrix.indptr).astype(np.float32)
        self.average_length = float(self.doc_lengths.mean()) if len(self.doc_lengths) else 1.0

    @classmethod
    def empty(cls) -> "LexicalIndex":
        return cls([], sparse.csc_matrix((0, 0), dtype=np.float32))

    @property
    def size(self) -> int:
        return self.matrix.shape[0]

    def extended(self, token_lists: list[list[str]]) -> "LexicalIndex":
        """A new index with these passages appended as rows (the vocabulary grows as needed)."""
        vocab, term_ids = list(self.vocab), dict(self.term_ids)
        rows, cols, counts = [], [], []
        for row, tokens in enumerate(token_lists):
            for term, count in Counter(tokens).items():
                if term not in term_ids:
                    term_ids[term] = len(vocab)
                    vocab.append(term)
                rows.append(row)
                cols.append(term_ids[term])
                counts.append(count)
        added = sparse.csr_matrix((np.asarray(counts, np.float32), (rows, cols)),
                                  shape=(len(token_lists), len(vocab)))
        old = self.matrix.tocsr()
        old.resize((self.size, len(vocab)))
        return LexicalIndex(vocab, sparse.vstack([old, added], format="csc"))

    def select(self, rows: list[int]) -> "LexicalIndex":
        """A new index holding only these rows, in this order (terms no longer used stay harmless)."""
        return LexicalIndex(self.vocab, self.matrix.tocsr()[rows].tocsc())

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a term (unknown terms are the rarest)."""
        index = self.term_ids.get(term)
        df = float(self.doc_freq[index]) if index is not None else 0.0
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens."""
        scores = np.zeros(self.size, dtype=np.float32)
        norm = K1 * (1 - B + B * self.doc_lengths / (self.average_length or 1.0))
        for term, count in Counter(tokens).items():
            index = self.term_ids.get(term)
            if index is None:
                continue
            start, end = self.matrix.indptr[index], self.matrix.indptr[index + 1]
            rows, tf = self.matrix.indices[start:end], self.matrix.data[start:end]
            scores[rows] += count * self.idf(term) * tf * (K1 + 1) / (tf + norm[rows])
        return scores

    def save(self, folder: Path) -> list[str]:
        """Write the two files; return their names (for the manifest checksums)."""
        sparse.save_npz(folder / MATRIX_FILE, self.matrix, compressed=False)
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        return [MATRIX_FILE, VOCAB_FILE]

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(vocab, sparse.load_npz(folder / MATRIX_FILE))
