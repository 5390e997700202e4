"""Inline buttons: the callback-data format (encoding, decoding, the patterns the handlers are
routed by) and the keyboards built from it.

    art:<article_id>:<page>   原文 under an answer: the article's page, sent as a new message
    pg:<article_id>:<page>    previous/next under a 原文 page: that page, in place
    fb:<log_id>:<1|0>         👍 / 👎 for the logged question
    iss:<issue key>           an issue of /issues: its article titles (the key: stable_id of the issue id)
    fol:<topic>               a topic of the /follow keyboard

Telegram allows 64 bytes of callback data; an article id is 16 hex characters.
"""

from __future__ import annotations

import re

from bot.answering.answer import Answer
from index.types import Article, stable_id
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

ARTICLE, PAGE, VOTE, ISSUE, FOLLOW = "art", "pg", "fb", "iss", "fol"
# Routed by prefix only: a malformed rest is decoded leniently (page 0, a vote not stored), as
# Telegram may deliver buttons of an older message or version.
ARTICLE_PATTERN = re.compile(f"^{ARTICLE}:")
PAGE_PATTERN = re.compile(f"^{PAGE}:")
VOTE_PATTERN = re.compile(f"^{VOTE}:")
ISSUE_PATTERN = re.compile(f"^{ISSUE}:")
FOLLOW_PATTERN = re.compile(f"^{FOLLOW}:")
TITLE_BUTTON_CHARS = 30  # a phone shows about this much of a one-button row
MAX_NUMBER_DIGITS = 12  # a page or log id in button data; longer is not one of ours
VOTED = " ✓"


def article_data(kind: str, article_id: str, page: int) -> str:
    """Callback data for a 原文 (ARTICLE) or previous/next (PAGE) button."""
    return f"{kind}:{article_id}:{page}"


def vote_data(log_id: int, helpful: bool) -> str:
    """Callback data for a 👍 (helpful) or 👎 button."""
    return f"{VOTE}:{log_id}:{int(helpful)}"


def ascii_number(text: str) -> int | None:
    """A number of ASCII digits only: '²'.isdigit() is true and int('²') raised out of the 原文 handler."""
    if 0 < len(text) <= MAX_NUMBER_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def decode_article(data: str) -> tuple[str, int]:
    """(article id, page) of a 原文 or previous/next button; page 0 when it is not a number."""
    _, _, rest = data.partition(":")
    article_id, _, page = rest.partition(":")
    return article_id, ascii_number(page) or 0


def decode_vote(data: str) -> tuple[int | None, bool]:
    """(log id, helpful) of a feedback button; no log id when it is not a number."""
    _, _, rest = data.partition(":")
    log_id, _, value = rest.partition(":")
    return ascii_number(log_id), value == "1"


def answer_keyboard(answer: Answer, log_id: int) -> InlineKeyboardMarkup:
    """原文 button(s) for the quoted articles, and 👍 / 👎 feedback."""
    rows = []
    if answer.answered:
        labels = ["原文"] if len(answer.parts) == 1 else [f"原文 {i}" for i in range(1, len(answer.parts) + 1)]
        rows.append(
            [
                InlineKeyboardButton(label, callback_data=article_data(ARTICLE, part.article_id, 0))
                for label, part in zip(labels, answer.parts)
            ]
        )
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=vote_data(log_id, True)),
            InlineKeyboardButton("👎", callback_data=vote_data(log_id, False)),
        ]
    )
    return InlineKeyboardMarkup(rows)


def page_keyboard(article_id: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """◀ 上一页 / 下一页 ▶ under page `page` (from 0) of `pages`; None for a single page."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ 上一页", callback_data=article_data(PAGE, article_id, page - 1)))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton("下一页 ▶", callback_data=article_data(PAGE, article_id, page + 1)))
    return InlineKeyboardMarkup([buttons]) if buttons else None


def ticked_vote(markup: InlineKeyboardMarkup, pressed: str) -> InlineKeyboardMarkup | None:
    """The buttons with the pressed 👍/👎 ticked and the other not; None when it already was, or when the
    pressed data is not a button of this message (data forged with another message's log id changed that
    resident's vote)."""
    if pressed not in {b.callback_data for row in markup.inline_keyboard for b in row}:
        return None

    def tick(b: InlineKeyboardButton) -> InlineKeyboardButton:
        if not VOTE_PATTERN.match(str(b.callback_data or "")):
            return b
        return InlineKeyboardButton(
            b.text.removesuffix(VOTED) + (VOTED if b.callback_data == pressed else ""), callback_data=b.callback_data
        )

    rows = [[tick(b) for b in row] for row in markup.inline_keyboard]
    before = [b.text for row in markup.inline_keyboard for b in row]
    return None if [b.text for row in rows for b in row] == before else InlineKeyboardMarkup(rows)


def issue_key(issue_id: str) -> str:
    """A short fixed-length key for an issue in button data (issue ids may be long or non-ASCII)."""
    return stable_id(issue_id)


def titles_keyboard(articles: list[Article]) -> InlineKeyboardMarkup:
    """One button per article, labelled with its title; pressing it sends the article (as 原文 does)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_short(a.title), callback_data=article_data(ARTICLE, a.article_id, 0))]
            for a in articles
        ]
    )


def issues_keyboard(issues: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per (issue id, label), opening that issue's titles."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{ISSUE}:{issue_key(issue_id)}")] for issue_id, label in issues]
    )


def topics_keyboard(topics: list[str]) -> InlineKeyboardMarkup:
    """The /follow keyboard: common topics, two per row."""
    made = [InlineKeyboardButton(t, callback_data=f"{FOLLOW}:{t}") for t in topics]
    return InlineKeyboardMarkup([made[i : i + 2] for i in range(0, len(made), 2)])


def decode_rest(data: str) -> str:
    """What follows the prefix of an issue or follow button."""
    return data.partition(":")[2]


def _short(title: str) -> str:
    return title if len(title) <= TITLE_BUTTON_CHARS else title[: TITLE_BUTTON_CHARS - 1] + "…"
