"""Bulletin file → Issue: read it (any format), repair layout artifacts, find dates."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

from index.formats.detect import read_document
from index.fragments import remove_pasted_fragments
from index.text import CLOSER_SET, PARAGRAPH_TERMINALS
from index.types import Article, BulletinError, DateSource, Document, Issue

logger = logging.getLogger(__name__)

SOURCE_LINE = re.compile(r"^(?:[(（][^()（）]{1,40}[)）]|《[^《》]{1,30}》)$")
FILE_DATE = re.compile(r"(20\d\d)-(\d\d)-(\d\d)")
FULL_DATE = re.compile(r"(20\d\d)年(\d{1,2})月(\d{1,2})日")
MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日")
MAX_ARTICLE_CHARS = 30_000
DATELINE_WINDOW = 40
PLAIN_ID = re.compile(r"[\w.\-]+")
BREAK_CONTEXT = 6  # characters either side of a repaired break, shown to staff by `index preview`


def _ends_paragraph(paragraph: str) -> bool:
    last = paragraph[-1]
    if last in PARAGRAPH_TERMINALS:
        return True
    return last in CLOSER_SET and len(paragraph) > 1 and paragraph[-2] in PARAGRAPH_TERMINALS | CLOSER_SET


def repair_paragraphs(blocks: list[str], joined: list[str] | None = None) -> list[str]:
    """Join blocks that a blank line split mid-word or mid-sentence (坚\\n\\n决把 → 坚决把); each
    join is noted in `joined` ("…坚⏎决把…"). A table (a block of several lines) is never joined."""
    paragraphs: list[str] = []
    for block in blocks:
        previous = paragraphs[-1] if paragraphs else ""
        if previous and not _ends_paragraph(previous) and not SOURCE_LINE.match(block) and "\n" not in previous + block:
            if joined is not None:
                joined.append(f"…{previous[-BREAK_CONTEXT:]}⏎{block[:BREAK_CONTEXT]}…")
            paragraphs[-1] += block
        else:
            paragraphs.append(block)
    return paragraphs


def _dateline(body: str) -> tuple[int, int, int | None] | None:
    """The (month, day, year?) an article's dateline gives, e.g. '东昌府讯 11月17日，'."""
    head = body[: DATELINE_WINDOW + 12]
    found = [m for m in (FULL_DATE.search(head), MONTH_DAY.search(head)) if m]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    if first.start() >= DATELINE_WINDOW:
        return None
    if first.re is FULL_DATE:
        return int(first.group(2)), int(first.group(3)), int(first.group(1))
    return int(first.group(1)), int(first.group(2)), None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def resolve_month_day(month: int, day: int, anchors: list[date]) -> date | None:
    """The date with this month/day that lies closest to any anchor date."""
    best: date | None = None
    for anchor in anchors:
        for year in (anchor.year - 1, anchor.year, anchor.year + 1):
            candidate = _safe_date(year, month, day)
            if candidate and (best is None or abs(candidate - anchor) < abs(best - anchor)):
                best = candidate
    return best


def issue_id_for(path: Path) -> str:
    """The issue id of a file: its name without extension when that is already a plain id
    ('2022-12-05'), else the name made plain plus a hash of the real name, so that two different
    names never share an id ('简报 2024-07-01' → '简报_2024-07-01_5f1c2a9e', not '简报_2024-07-01')."""
    stem = path.stem
    if PLAIN_ID.fullmatch(stem) and len(stem) <= 80 and unicodedata.is_normalized("NFKC", stem):
        return stem
    plain = re.sub(r"[^\w.\-]+", "_", unicodedata.normalize("NFKC", stem)).strip("_")[:60] or "issue"
    return f"{plain}_{hashlib.sha256(stem.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def masthead_date(text: str) -> date | None:
    """The first full date ('2022年12月5日' or '2022-12-05') in a running header or page title."""
    for match in (FULL_DATE.search(text), FILE_DATE.search(text)):
        if match and (found := _safe_date(*map(int, match.groups()))):
            return found
    return None


def parse_issue(path: Path, max_bytes: int, issue_date: date | None = None) -> Issue:
    """Parse one bulletin file (text, PDF, DOCX or HTML) into a cleaned Issue; raise BulletinError
    naming the file if it is not one. Any other failure of a reader on a malformed file (a ValueError in a
    Word table, an IndexError in a PDF, a RecursionError in a deep page) is that file's refusal too: it
    used to stop `index add` with a traceback, and the good files beside it were not indexed."""
    try:
        return parse_document(read_document(path, max_bytes), path, issue_date)
    except (BulletinError, MemoryError):  # MemoryError: over the guard's memory bound (index/guard.py) says so
        raise
    except Exception as exc:  # RecursionError included
        logger.warning("%s: the reader failed", path.name, exc_info=True)
        detail = " ".join(str(exc).split())[:120]
        raise BulletinError(
            f"{path.name}: a malformed file the reader could not read ({type(exc).__name__}"
            f"{': ' + detail if detail else ''})"
        ) from None


def parse_document(document: Document, path: Path, issue_date: date | None = None) -> Issue:
    """Repair what a format reader found into an Issue: the same repair for every format."""
    date_source: DateSource = "--date" if issue_date else ""
    if issue_date is None:
        match = FILE_DATE.search(path.name)
        if match:
            issue_date = _safe_date(*map(int, match.groups()))
            date_source = "file name" if issue_date else ""
    if issue_date is None and (issue_date := masthead_date(document.masthead)):
        date_source = "masthead"
    issue = Issue(
        issue_id=issue_id_for(path),
        file_name=path.name,
        content_hash=document.content_hash,
        issue_date=issue_date,
        date_source=date_source,
        articles=[],
        source_path=str(path.absolute()),
        dropped_lines=document.dropped_lines,
        pages_without_text=document.pages_without_text,
        kind=document.kind,
    )
    drafts: list[tuple[str, str, str, tuple[int, int, int | None] | None]] = []
    for section in document.sections:
        joined: list[str] = []
        title = section.title
        paragraphs = repair_paragraphs(section.blocks, joined)
        issue.joined_breaks += [f"{title}: {note}" for note in joined]
        source = paragraphs.pop() if paragraphs and SOURCE_LINE.match(paragraphs[-1]) else ""
        body = "\n\n".join(paragraphs)
        if not body:
            issue.empty_titles.append(title)
            continue
        if len(body) > MAX_ARTICLE_CHARS:
            body = body[:MAX_ARTICLE_CHARS]
            issue.truncated_titles.append(title)
        drafts.append((title, body, source, _dateline(body)))
    if not drafts:
        raise BulletinError(f"{path.name}: headings found but no article has a body")

    bodies, removed = remove_pasted_fragments([(t, b) for t, b, _, _ in drafts])
    issue.fragments_removed = removed

    explicit = [d for *_, dl in drafts if dl and dl[2] and (d := _safe_date(dl[2], dl[0], dl[1]))]
    if issue.issue_date is None and explicit:
        issue.issue_date, issue.date_source = max(explicit), "text"
    for position, ((title, _, source, dateline), body) in enumerate(zip(drafts, bodies)):
        article_date = None
        if dateline and dateline[2]:
            article_date = _safe_date(dateline[2], dateline[0], dateline[1])
        elif dateline and issue.issue_date:
            article_date = resolve_month_day(dateline[0], dateline[1], [issue.issue_date])
        elif dateline:
            issue.undated_days.append((dateline[0], dateline[1]))
        issue.articles.append(
            Article(
                issue_id=issue.issue_id,
                position=position,
                title=title,
                body=body,
                source=source,
                article_date=article_date,
            )
        )
    return issue


def date_undated_issue(issue: Issue, anchors: list[date], today: date) -> None:
    """Give an issue with only month/day datelines a date, from other issues' dates or today."""
    if issue.issue_date is not None:
        return
    if issue.undated_days:
        resolved = [resolve_month_day(m, d, anchors or [today]) for m, d in issue.undated_days]
        dates = [d for d in resolved if d and d <= today]
        if dates:
            issue.issue_date = max(dates)
            issue.date_source = "collection" if anchors else "text, year assumed"
    if issue.issue_date is None:
        issue.issue_date, issue.date_source = today, "today"
    for i, article in enumerate(issue.articles):
        dateline = _dateline(article.body)
        if article.article_date is None and dateline:
            article_date = resolve_month_day(dateline[0], dateline[1], [issue.issue_date])
            issue.articles[i] = replace(article, article_date=article_date)
    logger.info("issue %s dated %s (%s)", issue.issue_id, issue.issue_date, issue.date_source)
