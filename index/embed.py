"""Passages and questions → normalised vectors, only through `SentenceTransformer.encode`."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

from index.types import BulletinError
from index.use_module import UseM3Module

logger = logging.getLogger(__name__)

USE_M3 = "use-m3"
# Single texts (questions) whose vectors are kept: a question is embedded by the correction matcher and again,
# in the same words unless a typo was read as meant, by the retriever (one model call instead of two).
RECENT_TEXTS = 64


class Embedder:
    """Lazily loads the configured sentence-transformers model; `encode` gives unit-length float32 rows."""

    def __init__(self, model_name: str, threads: int = 1, batch_size: int = 32) -> None:
        if not model_name.strip():
            raise ValueError("embedding model name is empty")
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        self.model_name = model_name
        self.threads = threads
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._recent: dict[str, np.ndarray] = {}
        self._recent_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._model is not None:
            return
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        started = time.perf_counter()
        try:
            if self.model_name == USE_M3:
                model = SentenceTransformer(modules=[UseM3Module(threads=self.threads)], device="cpu")
            else:
                model = SentenceTransformer(self.model_name, device="cpu")
            self._model = model
        except (OSError, ValueError) as exc:
            raise BulletinError(
                f"cannot load embedding model {self.model_name!r}: {exc}. "
                "Give 'use-m3', a local model folder, or a model already in the Hugging Face cache."
            ) from None
        # some modules load weights and tokenizer on first use: make that part of loading
        model.encode(["预热 warm-up"], show_progress_bar=False)
        logger.info("loaded embedding model %s in %.1fs", self.model_name, time.perf_counter() - started)

    def _loaded(self) -> SentenceTransformer:
        """The model, loaded on first use."""
        self.warm_up()
        assert self._model is not None  # warm_up sets it or raises
        return self._model

    @property
    def dimension(self) -> int:
        dimension = self._loaded().get_embedding_dimension()
        if dimension is None:
            raise BulletinError(f"embedding model {self.model_name!r} does not say its vector dimension")
        return int(dimension)

    def encode(self, texts: list[str], progress: bool = False, batch_size: int | None = None) -> np.ndarray:
        """Embed texts into an (n, dimension) float32 array of unit vectors; `batch_size` overrides the
        configured one (many short texts: 1,000 topics took 40 s in batches of 32, 15 s in batches of 256)."""
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            with self._recent_lock:
                kept = self._recent.get(texts[0])
            if kept is not None:
                return kept.copy()
        vectors = model.encode(
            texts,
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(texts) == 1:
            with self._recent_lock:
                if len(self._recent) >= RECENT_TEXTS:
                    self._recent.pop(next(iter(self._recent)))  # the oldest
                self._recent[texts[0]] = vectors.copy()
        return vectors
