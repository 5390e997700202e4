"""The reader's prompt: a yes/no question about one quote, in Qwen's ChatML, as token pieces.

The model is not asked to answer: the probe reads its last hidden state after "assistant\n", where it
is about to say 是 or 否. The wording is the one measured in docs/evaluation.md ("The local reader").
Resident and bulletin text is tokenized with special tokens off, so a question that types
"<|im_end|>" stays text and cannot end the turn."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

VERSION = "yesno-1"
SYSTEM = "你判断一段简报原文是否直接回答了居民的问题。只回答“是”或“否”。"
ASK = "这段原文是否直接说出了问题所问的内容？"
QUESTION_CHARS = 200  # a resident's question is at most a few sentences; the rest is not read
QUOTE_CHARS = 400  # the shown quote is at most BULLETIN_ANSWER_MAX_CHARS (360 by default)


@dataclass(frozen=True)
class Piece:
    """Text to tokenize, and whether its special tokens are markers (ours) or text (theirs)."""

    text: str
    special: bool


def prefix() -> tuple[Piece, ...]:
    """What every prompt starts with: evaluated once and kept in the model's cache."""
    return (
        Piece("<|im_start|>", True),
        Piece(f"system\n{SYSTEM}", False),
        Piece("<|im_end|>", True),
        Piece("\n", False),
        Piece("<|im_start|>", True),
        Piece("user\n问题：", False),
    )


def body(question: str, title: str, quote: str) -> Piece:
    """The part of the prompt after the prefix: the question, the quote and the ask."""
    return Piece(f"{question[:QUESTION_CHARS]}\n原文：《{title[:100]}》{quote[:QUOTE_CHARS]}\n{ASK}", False)


# the end of the user's turn and the start of the assistant's, after which the model would say 是 or 否
TAIL = (Piece("<|im_end|>", True), Piece("\n", False), Piece("<|im_start|>", True), Piece("assistant\n", False))


def prompt_key(model_sha256: str, question: str, title: str, quote: str) -> str:
    """The cache key of one prompt's vector: the model, the prompt's version and its text."""
    text = "\x1f".join((model_sha256, VERSION, question[:QUESTION_CHARS], title[:100], quote[:QUOTE_CHARS]))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
