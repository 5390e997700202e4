"""BM25 over passage tokens, stored with each index version and extended in place when issues are added.

The term-frequency matrix (passages × vocabulary) is built at index time, so a serving process loads it
instead of re-segmenting every passage, and `index add` only segments the new passages. It is kept by
rows (CSR), which appends cheaply; scoring uses a by-term copy (CSC) made on first use."""

from __future__ import annotations

import json
from collections import Counter
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import sparse

from index.normalize import char_pairs

K1, B = 1.5, 0.75
MATRIX_FILE, VOCAB_FILE = "lexical.npz", "lexical_vocab.json"


class LexicalIndex:
    """Passage-level BM25 with a growable vocabulary; row i is passage i (FAISS row i)."""

    def __init__(self, vocab: list[str], rows: sparse.csr_matrix) -> None:
        if rows.shape[1] != len(vocab):
            raise ValueError("vocabulary and matrix disagree")
        self.vocab = vocab
        self.term_ids = {term: i for i, term in enumerate(vocab)}
        self.rows = rows.tocsr()
        self.doc_lengths = np.asarray(self.rows.sum(axis=1), dtype=np.float32).ravel()
        self.doc_freq = np.bincount(self.rows.indices, minlength=len(vocab)).astype(np.float32)
        self.average_length = float(self.doc_lengths.mean()) if len(self.doc_lengths) else 1.0
        self._columns: sparse.csc_matrix | None = None

    @classmethod
    def empty(cls) -> LexicalIndex:
        return cls([], sparse.csr_matrix((0, 0), dtype=np.float32))

    @property
    def size(self) -> int:
        return len(self.doc_lengths)

    @cached_property
    def _norm(self) -> np.ndarray:
        return K1 * (1 - B + B * self.doc_lengths / (self.average_length or 1.0))

    @property
    def columns(self) -> sparse.csc_matrix:
        """The matrix by term, so one term's postings are contiguous."""
        if self._columns is None:
            self._columns = self.rows.tocsc()
        return self._columns

    def prepare_search(self) -> None:
        """Build the by-term copy and drop the by-row one: a serving process only scores,
        and one copy of a large matrix is enough. The index can no longer be extended."""
        self._columns = self.columns
        self.rows = None

    def extended(self, token_lists: list[list[str]]) -> LexicalIndex:
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
        added = sparse.csr_matrix((np.asarray(counts, np.float32), (rows, cols)), shape=(len(token_lists), len(vocab)))
        old = self.rows.copy()
        old.resize((self.size, len(vocab)))
        return LexicalIndex(vocab, sparse.vstack([old, added], format="csr"))

    def select(self, rows: list[int]) -> LexicalIndex:
        """A new index holding only these rows, in this order (terms no longer used stay harmless)."""
        return LexicalIndex(self.vocab, self.rows[rows])

    def has_term(self, term: str) -> bool:
        """True when some passage contains the term."""
        return term in self.term_ids

    def known(self, word: str) -> float:
        """Share of a word's character pairs that some passage contains (1.0 for a word the bulletins use)."""
        pairs = char_pairs(word) or [word]
        return sum(self.has_term(p) for p in pairs) / len(pairs)

    def document_frequency(self, term: str) -> int:
        """How many passages contain the term."""
        index = self.term_ids.get(term)
        return int(self.doc_freq[index]) if index is not None else 0

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a term (unknown terms are the rarest)."""
        df = float(self.document_frequency(term))
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query tokens."""
        scores = np.zeros(self.size, dtype=np.float32)
        norm = self._norm
        for term, count in Counter(tokens).items():
            index = self.term_ids.get(term)
            if index is None:
                continue
            columns = self.columns
            start, end = columns.indptr[index], columns.indptr[index + 1]
            rows, tf = columns.indices[start:end], columns.data[start:end]
            scores[rows] += count * self.idf(term) * tf * (K1 + 1) / (tf + norm[rows])
        return scores

    def save(self, folder: Path) -> list[str]:
        """Write the two files; return their names (for the manifest checksums)."""
        sparse.save_npz(folder / MATRIX_FILE, self.rows, compressed=False)
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        return [MATRIX_FILE, VOCAB_FILE]

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(vocab, sparse.load_npz(folder / MATRIX_FILE))
