"""The reader's model: the last-token hidden state of the prompt, from llama.cpp (llama-cpp-python).

`Llama.embed()` tokenizes without special tokens, so the ChatML markers would be read as text: the
prompt is tokenized piece by piece (prompt.py) and decoded here. The prefix shared by every prompt is
decoded once and kept in the KV cache; each question decodes only its own tokens after it (positions
from the prefix on), and those are dropped again. Not thread-safe: one owner (the worker process).

The reader's own file (derive.py) has an identity head: the state is the last token's first n_embd
logits, and only that token's are computed. Any other GGUF (BULLETIN_READER_MODEL) is read in llama.cpp's
embedding mode (last-token pooling), which gives the same state but computes the head for every token."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from bot.reader import prompt
from bot.reader.derive import HEAD_KEY
from bot.reader.model_file import ReaderError

logger = logging.getLogger(__name__)

CONTEXT = 1024  # prefix (~40 tokens) + question (≤200 chars) + quote (≤400 chars) fit with room


class HiddenState:
    """Loads the GGUF model once; `vector` gives one prompt's last hidden state (float32)."""

    def __init__(self, model_path: Path, threads: int, embedding_mode: bool | None = None) -> None:
        """embedding_mode: None reads the reader's own file by its head and any other in embedding mode."""
        self.model_path, self.threads, self.embedding_mode = model_path, threads, embedding_mode
        self._llm: Any = None  # llama_cpp.Llama, imported on warm_up (an optional extra)
        self._prefix: list[int] = []
        self._tail: list[int] = []
        self.identity_head = False  # the reader's own file: read the last token's logits

    def warm_up(self) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise ReaderError('reader: llama-cpp-python is not installed (pip install -e ".[reader]")') from None
        self._llm = self._load(pooled=self.embedding_mode is True)
        identity = self._llm.metadata.get(HEAD_KEY) == "identity"
        self.identity_head = identity if self.embedding_mode is None else not self.embedding_mode
        if not self.identity_head:
            if self.embedding_mode is None:  # another GGUF: pooling is set when the context is made
                self._llm.close()
                self._llm = self._load(pooled=True)
            llama_cpp.llama_set_embeddings(self._llm._ctx.ctx, True)
        self._prefix, self._tail = self.tokens(prompt.prefix()), self.tokens(prompt.TAIL)
        self._decode(self._prefix, 0)

    def _load(self, pooled: bool) -> Any:
        """The model with a context; last-token pooling only for embedding mode (llama.cpp warns on stderr
        when a model without pooling is given one it does not use)."""
        import llama_cpp

        pooling = llama_cpp.LLAMA_POOLING_TYPE_LAST if pooled else llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED
        try:
            return llama_cpp.Llama(
                model_path=str(self.model_path),
                embedding=False,  # switched on in warm_up for a file without the identity head
                pooling_type=pooling,
                n_ctx=CONTEXT,
                n_batch=CONTEXT,
                n_ubatch=CONTEXT,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ReaderError(f"reader: {self.model_path} does not load ({exc})") from None

    def tokens(self, pieces: tuple[prompt.Piece, ...]) -> list[int]:
        assert self._llm is not None
        out: list[int] = []
        for piece in pieces:
            out += self._llm.tokenize(piece.text.encode("utf-8"), add_bos=False, special=piece.special)
        return out

    def vector(self, question: str, title: str, quote: str) -> np.ndarray:
        """The last-token hidden state of the whole prompt, decoded after the cached prefix."""
        # text of rare characters can take several tokens a character: cut the body, never the turn's end
        room = CONTEXT - len(self._prefix) - len(self._tail)
        rest = self.tokens((prompt.body(question, title, quote),))[:room] + self._tail
        try:
            return self._decode(rest, len(self._prefix))
        finally:
            self._forget(len(self._prefix))

    def _decode(self, tokens: list[int], start: int) -> np.ndarray:
        import llama_cpp

        assert self._llm is not None
        batch = self._llm._batch
        batch.reset()
        batch.set_batch(tokens, n_past=start, logits_all=not self.identity_head)
        self._llm._ctx.decode(batch)
        ctx = self._llm._ctx.ctx
        if self.identity_head:
            pointer = llama_cpp.llama_get_logits_ith(ctx, -1)
        else:
            pointer = llama_cpp.llama_get_embeddings_seq(ctx, 0)
        if not pointer:
            raise ReaderError(f"reader: {self.model_path} gave no hidden state")
        return np.ctypeslib.as_array(pointer, shape=(self._llm.n_embd(),)).astype(np.float32).copy()

    def _forget(self, keep: int) -> None:
        import llama_cpp

        assert self._llm is not None
        ctx = self._llm._ctx.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, keep, -1)
