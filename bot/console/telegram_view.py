"""Telegram HTML shown in a browser as the resident sees it: only Telegram's tags pass, links only to
http(s) and tg: addresses, everything else is text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from markupsafe import Markup

from bot.replies.html_check import TAGS

SAFE_LINK = ("http://", "https://", "tg://")


class _Rebuild(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.out.append(html.escape(self.get_starttag_text() or ""))
            return
        if tag == "a":
            href = dict(attrs).get("href") or ""
            safe = href.strip().lower().startswith(SAFE_LINK)
            self.out.append(f'<a href="{html.escape(href)}" rel="noopener noreferrer">' if safe else "<a>")
        elif tag in ("tg-spoiler", "span"):
            self.out.append('<span class="spoiler">')
        else:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in TAGS:
            self.out.append("</span>" if tag in ("tg-spoiler", "span") else f"</{tag}>")
        else:
            self.out.append(html.escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data))


def telegram_html(text: str) -> Markup:
    """Browser-safe HTML for a Telegram HTML message."""
    parser = _Rebuild()
    parser.feed(text)
    parser.close()
    return Markup("".join(parser.out))
