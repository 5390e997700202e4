"""Bulletin file → Issue: decode, split into articles, repair layout artifacts, find dates."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import unicodedata
from dataclasses import replace
from datetime import date
from pathlib import Path

from index.fragments import remove_pasted_fragments
from index.text import CLOSER_SET, DROP_IN_FILES, PARAGRAPH_TERMINALS
from index.types import Article, BulletinError, DateSource, Issue

logger = logging.getLogger(__name__)

HEADING = re.compile(r"^#{1,3}[ \t\u3000]+(?P<title>\S.*?)\s*$")
SOURCE_LINE = re.compile(r"^(?:[(（][^()（）]{1,40}[)）]|《[^《》]{1,30}》)$")
FILE_DATE = re.compile(r"(20\d\d)-(\d\d)-(\d\d)")
FULL_DATE = re.compile(r"(20\d\d)年(\d{1,2})月(\d{1,2})日")
MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日")
MAX_ARTICLE_CHARS = 30_000
DATELINE_WINDOW = 40
PLAIN_ID = re.compile(r"[\w.\-]+")
FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of an ordinary file of at most max_bytes, read no further than that: a huge file,
    a device (/dev/zero) or a named pipe is refused before it can fill memory or block."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO must not wait for a writer
    except OSError as exc:
        raise BulletinError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)  # of the file opened, not of whatever the name points to by now
        if stat.S_ISDIR(info.st_mode):
            raise BulletinError(f"{path.name}: is a directory, not a bulletin file")
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in FILE_KINDS if test(info.st_mode)), "a special file")
            raise BulletinError(f"{path.name}: {kind}, not an ordinary file; only text files are read")
        if info.st_size > max_bytes:
            raise BulletinError(f"{path.name}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(max_bytes + 1)  # one byte more tells a file that grew since
    except OSError as exc:
        raise BulletinError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise BulletinError(f"{path.name}: over the {max_bytes:,}-byte limit")
    return raw


def read_bulletin_text(path: Path, max_bytes: int) -> tuple[str, str]:
    """Read a bulletin file as text (UTF-8, UTF-8 with BOM or GB18030); return (text, sha256)."""
    raw = read_limited(path, max_bytes)
    if not raw.strip():
        raise BulletinError(f"{path.name}: the file is empty")
    if b"\x00" in raw:
        raise BulletinError(f"{path.name}: binary data (NUL bytes), not a text file")
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise BulletinError(f"{path.name}: not UTF-8 or GB18030 text")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
    if controls > max(8, len(text) // 1000):
        raise BulletinError(f"{path.name}: {controls} control characters, not a text file")
    return text, hashlib.sha256(raw).hexdigest()


def _ends_paragraph(paragraph: str) -> bool:
    last = paragraph[-1]
    if last in PARAGRAPH_TERMINALS:
        return True
    return last in CLOSER_SET and len(paragraph) > 1 and paragraph[-2] in PARAGRAPH_TERMINALS | CLOSER_SET


def repair_paragraphs(blocks: list[str]) -> list[str]:
    """Join blocks that a blank line split mid-word or mid-sentence (坚\\n\\n决把 → 坚决把)."""
    paragraphs: list[str] = []
    for block in blocks:
        if paragraphs and not _ends_paragraph(paragraphs[-1]) and not SOURCE_LINE.match(block):
            paragraphs[-1] += block
        else:
            paragraphs.append(block)
    return paragraphs


def _blocks(lines: list[str]) -> list[str]:
    """Group lines into blank-line separated blocks; lines inside a block are one paragraph."""
    blocks, current = [], []
    for line in lines:
        stripped = line.strip(" \t\u3000")
        if stripped:
            current.append(stripped)
        elif current:
            blocks.append("".join(current))
            current = []
    if current:
        blocks.append("".join(current))
    return blocks


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """Split the text at '#'/'##' headings into (title, body lines)."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        match = HEADING.match(line)
        if match:
            sections.append((match.group("title"), []))
        elif sections:
            sections[-1][1].append(line)
    return sections


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


def parse_issue(path: Path, max_bytes: int, issue_date: date | None = None) -> Issue:
    """Parse one bulletin file into a cleaned Issue; raise BulletinError if it is not one."""
    text, content_hash = read_bulletin_text(path, max_bytes)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(DROP_IN_FILES)
    sections = split_sections(text)
    if not sections:
        raise BulletinError(f"{path.name}: no '# title' headings found; not a bulletin issue")
    issue_id = issue_id_for(path)
    date_source: DateSource = "--date" if issue_date else ""
    if issue_date is None:
        match = FILE_DATE.search(path.name)
        if match:
            issue_date = _safe_date(*map(int, match.groups()))
            date_source = "file name" if issue_date else ""

    issue = Issue(
        issue_id=issue_id,
        file_name=path.name,
        content_hash=content_hash,
        issue_date=issue_date,
        date_source=date_source,
        articles=[],
        source_path=str(path.absolute()),
    )
    drafts: list[tuple[str, str, str, tuple[int, int, int | None] | None]] = []
    for title, lines in sections:
        paragraphs = repair_paragraphs(_blocks(lines))
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
                issue_id=issue_id, position=position, title=title, body=body, source=source, article_date=article_date
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
