"""Typed records passed between the ingestion stages: file → Issue/Article → Passage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal


def stable_id(*parts: str) -> str:
    """A short id derived from content, so the same text always gets the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


class BulletinError(Exception):
    """A bulletin file or index operation failed; the message is meant for staff."""


@dataclass(frozen=True, kw_only=True)
class Article:
    """One cleaned article of an issue."""

    issue_id: str
    position: int
    title: str
    body: str  # paragraphs joined by "\n\n", layout breaks repaired
    source: str  # the closing attribution line, e.g. "(区医保局)" or "《经济日报》"
    article_date: date | None  # the dateline date ("11月16日"), when the body gives one

    @cached_property  # ids are asked for often on large indexes; hashing once is enough
    def article_id(self) -> str:
        return stable_id(self.issue_id, self.title, self.body)


# where an issue's date came from: its file name, `index add --date`, the datelines in the text
# ("text, year assumed" when none gives a year and no other issue does), the other indexed issues'
# dates ("collection"), or today; "" only while parsing, before one is found
DateSource = Literal["", "file name", "--date", "text", "text, year assumed", "collection", "today"]


@dataclass(kw_only=True)
class Issue:
    """A parsed bulletin issue with what the cleaning did to it."""

    issue_id: str
    file_name: str
    content_hash: str
    issue_date: date | None
    date_source: DateSource
    articles: list[Article]
    empty_titles: list[str] = field(default_factory=list)
    fragments_removed: list[str] = field(default_factory=list)
    truncated_titles: list[str] = field(default_factory=list)
    # month/day datelines whose year the text does not give; resolved later against other issues
    undated_days: list[tuple[int, int]] = field(default_factory=list)
    source_path: str = ""  # the file as staff named it, to name both files when two claim one id

    @property
    def dated(self) -> date:
        """The issue date, which every indexed issue has (only parsing leaves it None, until the
        undated issues of a command are dated)."""
        if self.issue_date is None:
            raise BulletinError(f"issue {self.issue_id} has no date yet")
        return self.issue_date


@dataclass(frozen=True)
class Passage:
    """A sentence-aligned piece of an article: the unit that is embedded and retrieved."""

    article_id: str
    position: int
    text: str

    @cached_property
    def passage_id(self) -> str:
        return stable_id(self.article_id, str(self.position), self.text)
