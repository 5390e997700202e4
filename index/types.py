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
# ("masthead": a full date in a PDF's running header or an HTML page's title)
DateSource = Literal["", "file name", "--date", "masthead", "text", "text, year assumed", "collection", "today"]

# what a file's content says it is (its magic bytes), whatever its name
FileKind = Literal["text", "pdf", "docx", "html"]


@dataclass(frozen=True)
class Section:
    """One titled article as a reader of any format found it: the title and its body blocks
    (paragraphs, in reading order, not yet repaired; a block holding line breaks is a table)."""

    title: str
    blocks: list[str]


@dataclass(kw_only=True)
class Document:
    """What a format reader made of a file, before the shared repair: sections, what it dropped."""

    kind: FileKind
    content_hash: str  # of the file's bytes: the same file under any name is the same issue
    sections: list[Section]
    dropped_lines: list[str] = field(default_factory=list)  # running headers, footers, page numbers
    masthead: str = ""  # text that may carry the issue date (a PDF's running header, a page's title)
    pages_without_text: list[int] = field(default_factory=list)  # PDF pages read as images (scans?)


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
    joined_breaks: list[str] = field(default_factory=list)  # "title: …坚⏎决把…" per break repaired
    dropped_lines: list[str] = field(default_factory=list)  # running headers/footers, page numbers
    pages_without_text: list[int] = field(default_factory=list)  # PDF pages with no text layer: not indexed
    kind: FileKind = "text"
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
