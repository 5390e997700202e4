"""What `index add` would make of a file, shown to staff before anything is indexed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from index.formats.limits import PARSE_MEMORY_BYTES, PARSE_SECONDS
from index.guard import FileReader
from index.parse import MAX_ARTICLE_CHARS, date_undated_issue
from index.store import IndexStore
from index.text import QUOTE_END
from index.types import BulletinError, Issue

FIRST_SENTENCE_CHARS = 80  # a first sentence longer than this is shown cut, with "…"
DROPPED_SHOWN = 4  # dropped header lines shown in the terminal (--json lists all)


@dataclass(frozen=True)
class ArticlePreview:
    """One article as it would be indexed."""

    title: str
    chars: int
    first_sentence: str
    source: str


@dataclass(frozen=True)
class IssuePreview:
    """An issue as it would be indexed, with every repair the reader and the cleaner made."""

    file: str
    kind: str
    issue_id: str
    date: str
    date_source: str
    articles: list[ArticlePreview]
    joined_breaks: list[str]
    fragments_removed: list[str]
    empty_articles: list[str]
    truncated_articles: list[str]
    dropped_lines: list[str]
    pages_without_text: list[int]

    def as_dict(self) -> dict:
        return asdict(self)


def _first_sentence(body: str) -> str:
    match = QUOTE_END.search(body)
    sentence = body[: match.end()] if match else body.split("\n", 1)[0]
    return sentence if len(sentence) <= FIRST_SENTENCE_CHARS else sentence[:FIRST_SENTENCE_CHARS] + "…"


def known_dates(store: IndexStore) -> list[date]:
    """The dates of the issues in the current index (they date an issue whose text gives no year)."""
    current = store.current_or_none()
    if current is None:
        return []
    try:
        issues = store.manifest(current).get("issues", {})
    except BulletinError:
        return []
    return [date.fromisoformat(info["date"]) for info in issues.values()]


def preview_issue(
    path: Path,
    max_bytes: int,
    issue_date: date | None,
    anchors: list[date],
    seconds: float = PARSE_SECONDS,
    memory_bytes: int = PARSE_MEMORY_BYTES,
) -> IssuePreview:
    """Parse (in the bounded child process, as `index add` does) and date a file, without indexing it."""
    with FileReader(seconds, memory_bytes) as reader:
        issue: Issue = reader.parse(path, max_bytes, issue_date)
    date_undated_issue(issue, anchors, date.today())
    return IssuePreview(
        file=path.name,
        kind=issue.kind,
        issue_id=issue.issue_id,
        date=issue.dated.isoformat(),
        date_source=issue.date_source,
        articles=[ArticlePreview(a.title, len(a.body), _first_sentence(a.body), a.source) for a in issue.articles],
        joined_breaks=issue.joined_breaks,
        fragments_removed=issue.fragments_removed,
        empty_articles=issue.empty_titles,
        truncated_articles=issue.truncated_titles,
        dropped_lines=issue.dropped_lines,
        pages_without_text=issue.pages_without_text,
    )


def preview_lines(preview: IssuePreview) -> list[str]:
    """The preview as staff read it in a terminal."""
    lines = [
        f"{preview.file}: {preview.kind}, issue {preview.issue_id}, dated {preview.date} (from {preview.date_source})",
        f"{len(preview.articles)} articles:",
    ]
    for n, article in enumerate(preview.articles, 1):
        source = f"  {article.source}" if article.source else ""
        lines.append(f"  {n:>2}. {article.title}  ({article.chars:,} chars){source}")
        lines.append(f"      {article.first_sentence}")
    for label, items in (
        ("joined break", preview.joined_breaks),
        ("removed pasted fragment", preview.fragments_removed),
        ("skipped empty article", preview.empty_articles),
        (f"article cut to its first {MAX_ARTICLE_CHARS:,} characters", preview.truncated_articles),
    ):
        lines += [f"  {label}: {item}" for item in items]
    if preview.dropped_lines:
        shown = list(dict.fromkeys(preview.dropped_lines))[:DROPPED_SHOWN]
        more = ", …" if len(set(preview.dropped_lines)) > DROPPED_SHOWN else ""
        lines.append(
            f"  dropped {len(preview.dropped_lines)} lines (running headers, footers, page numbers, masthead): "
            + ", ".join(shown)
            + more
        )
    if preview.pages_without_text:
        pages = ", ".join(map(str, preview.pages_without_text))
        lines.append(f"  NOT INDEXED: pages {pages} have no text layer (scanned?); OCR is not supported")
    repairs = (preview.joined_breaks, preview.fragments_removed, preview.empty_articles, preview.truncated_articles)
    if not any((*repairs, preview.dropped_lines)):
        lines.append("  no repairs needed")
    lines.append(f"nothing indexed; `bulletin-bot index add {preview.file}` indexes it")
    return lines
