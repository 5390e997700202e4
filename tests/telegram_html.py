"""A checker for Telegram's HTML parse mode: only its tags, balanced, and only valid entities."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            raise ValueError(f"tag <{tag}> is not allowed by Telegram")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            raise ValueError(f"unbalanced </{tag}>")


def check_telegram_html(text: str) -> None:
    """Raise ValueError unless Telegram would accept `text` in HTML mode."""
    if not text.strip():
        raise ValueError("empty message")
    if len(text) > 4096:
        raise ValueError("longer than 4096 characters")
    if ENTITY.search(text):
        raise ValueError("a bare & that is not an entity")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise ValueError(f"unclosed <{checker.stack[-1]}>")
