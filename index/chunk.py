"""Article → sentence-aligned passages of bounded length."""

from __future__ import annotations

from index.text import PASSAGE_CLAUSE_END, PASSAGE_END
from index.types import Article, Passage

MAX_PASSAGE_CHARS = 220
MIN_PASSAGE_CHARS = 40


def split_sentences(text: str) -> list[str]:
    """Split Chinese text into sentences, keeping each end mark with its sentence."""
    sentences: list[str] = []
    for paragraph in text.split("\n\n"):
        start = 0
        for match in PASSAGE_END.finditer(paragraph):
            piece = paragraph[start : match.end()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def _hard_split(sentence: str, limit: int) -> list[str]:
    """Cut an over-long sentence at commas where possible, else at the limit."""
    pieces, current = [], ""
    for clause in PASSAGE_CLAUSE_END.split(sentence):
        while len(clause) > limit:
            pieces.append(current + clause[: limit - len(current)])
            clause, current = clause[limit - len(current) :], ""
        if len(current) + len(clause) > limit and current:
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return pieces


def chunk_article(article: Article, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """The title as passage 0, then consecutive sentences of each paragraph packed into passages
    of at most max_chars. Titles say what an article is about in residents' words, so they
    are searched on their own too."""
    texts: list[str] = []
    for paragraph in article.body.split("\n\n"):
        current = ""
        for sentence in split_sentences(paragraph):
            for piece in _hard_split(sentence, max_chars) if len(sentence) > max_chars else [sentence]:
                if current and len(current) + len(piece) > max_chars:
                    texts.append(current)
                    current = ""
                current += piece
        if current:
            # a short paragraph tail joins the previous passage when it fits, so no passage is a stub
            if texts and len(current) < MIN_PASSAGE_CHARS and len(texts[-1]) + len(current) <= max_chars:
                texts[-1] += current
            else:
                texts.append(current)
    return [Passage(article.article_id, i, text) for i, text in enumerate([article.title] + texts)]
