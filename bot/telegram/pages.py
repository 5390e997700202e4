"""The 原文 button: a full article as pages of similar, phone-readable size, each within Telegram's limit."""

from __future__ import annotations

import html
import re

from bot.engine import Engine
from bot.replies.buttons import page_keyboard
from bot.replies.reply import TELEGRAM_LIMIT
from index.text import PAGE_CLAUSE_END, PAGE_SENTENCE_END
from telegram import InlineKeyboardMarkup

PAGE_CHARS = 1500  # visible characters on a page: a few screens on a phone
SENTENCE_CHARS = 300  # a longer sentence is cut at commas or spaces…
RUN_CHARS = 100  # …and a run without either every RUN_CHARS (small pieces keep pages balanced)
MAX_HEAD_CHARS = 200


def escape(text: str) -> str:
    """Text for Telegram's HTML mode (quotes need no escaping there)."""
    return html.escape(text, quote=False)


def _cut(text: str, pattern: re.Pattern) -> list[str]:
    """`text` cut after each match of `pattern`; the pieces join back to `text`."""
    ends = [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]
    return [text[a:b] for a, b in zip([0, *ends], [*ends, len(text)])]


def _pieces(body: str) -> list[str]:
    """Sentences and paragraph breaks; long ones cut at clauses, long clauses every RUN_CHARS."""
    pieces = []
    for sentence in _cut(body, PAGE_SENTENCE_END):
        for clause in _cut(sentence, PAGE_CLAUSE_END) if len(sentence) > SENTENCE_CHARS else [sentence]:
            size = RUN_CHARS if len(clause) > SENTENCE_CHARS else SENTENCE_CHARS
            pieces += [clause[i : i + size] for i in range(0, len(clause), size)]
    return pieces


def _starts(pieces: list[str], weights: list[float], limit: int, target: float) -> list[int]:
    """Where pages start: a page closes when the next piece would overflow it, or when the piece
    lies mostly beyond `target` (whitespace alone never makes a page)."""
    starts, weight, has_text = [0], 0.0, False
    for i, (piece, w) in enumerate(zip(pieces, weights)):
        if has_text and (weight + w > limit or weight + w / 2 > target):
            starts.append(i)
            weight, has_text = 0.0, False
        weight += w
        has_text = has_text or bool(piece.strip())
    return starts


def article_pages(body: str, visible: int = PAGE_CHARS, escaped: int = 3500) -> list[str]:
    """Consecutive slices of `body` (joined they are `body`), each at most `visible` characters and
    at most `escaped` once HTML-escaped, of similar size, cut at sentence or paragraph ends."""
    pieces = _pieces(body)
    # one weight bounds both lengths: a page whose weights sum to `visible` fits both limits
    weights = [max(len(p), len(escape(p)) * visible / escaped) for p in pieces]
    fewest = len(_starts(pieces, weights, visible, float("inf")))  # each page filled up
    # the smallest page target that still needs no more pages: every page, the last too, near it
    low, high = sum(weights) / fewest, 2.0 * visible
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (low, middle) if len(_starts(pieces, weights, visible, middle)) <= fewest else (middle, high)
    starts = _starts(pieces, weights, visible, high)
    return ["".join(pieces[a:b]) for a, b in zip(starts, [*starts[1:], len(pieces)])] or [""]


def article_texts(title: str, dateline: str, body: str) -> list[str]:
    """Every page of an article as Telegram HTML, each at most TELEGRAM_LIMIT characters."""
    if len(title) > MAX_HEAD_CHARS:
        title = title[:MAX_HEAD_CHARS] + "…"
    head = f"<b>{escape(title)}</b>\n{escape(dateline[:MAX_HEAD_CHARS])}\n\n"
    footer_room = len("\n\n（9999/9999）")
    pages = article_pages(body, escaped=TELEGRAM_LIMIT - len(head) - footer_room)
    if len(pages) == 1:
        return [head + escape(pages[0].strip())]
    return [f"{head}{escape(page.strip())}\n\n（{i}/{len(pages)}）" for i, page in enumerate(pages, 1)]


def article_page(engine: Engine, article_id: str, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of a full article as HTML, with previous/next buttons when it is long."""
    article = engine.article(article_id)
    if article is None:
        return "这篇文章已不在当前简报索引中。", None
    issue = engine.loaded.snapshot.issues[article.issue_id]
    texts = article_texts(article.title, f"{issue.dated.isoformat()} {article.source}", article.body)
    page = min(max(page, 0), len(texts) - 1)
    return texts[page], page_keyboard(article_id, page, len(texts))
