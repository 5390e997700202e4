"""A typeset PDF (with a text layer) → Document: columns, running headers, titles by typography.

pdfminer.six (opened through pdfplumber; `pdf_pages` bounds the work) gives every character with its
font, size and position; CJK fonts, embedded or not, come out as text. The layout is rebuilt here
from those positions because that is where the bulletin's own typography is: titles are larger or
bold, a two-column page has an empty vertical gutter (lines in reading order: `pdf_layout`), running
headers and page numbers repeat at the page edges.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import replace

from index.formats.pdf_layout import Line, Region, page_lines
from index.types import BulletinError, Document, Section

TITLE_SCALE = 1.15  # a title's characters are at least this much larger than the body's
# A title wrapped over lines: the next line of the same size (within 4%: 15 pt and a 13 pt subtitle are two
# sizes) and weight, below it in the same column, at most this many characters' height under it. The typeset
# bundled issues measure 0.4 (a title's own leading, 1.4×) against ≥ 1.2 between two titles when an article
# has no body. Only "the line before filled its column" (still the rule across a column or page break) lost
# a title broken at a phrase ("春运返程高峰 / 我区城乡公交加密班次"): an empty article and the second line
# as the title, 3 of 8 titles of one two-column issue.
TITLE_LINE_GAP = 0.8
TITLE_SIZE_CLASS = 0.04
LATIN_WORD_END = re.compile(r"[A-Za-z][,.;:!?)]?$")  # a title line ending a Latin word: joined with a space
EDGE_LINES = 2  # lines at each page edge that may be running headers or footers
# a page number alone: "3", "- 3 -", "第3页", "3 / 12", "Page 3 of 12"
PAGE_NUMBER = re.compile(
    r"^[\s\-–—·.]*(?:第\s*)?\d{1,4}\s*(?:页|版)?(?:\s*(?:/|／|of|共)\s*\d{1,4}\s*页?)?[\s\-–—·.]*$", re.I
)
PAGE_WORD = re.compile(r"^\s*page\s+", re.I)
# A glyph the font does not map to a character comes out as "(cid:3206)": an owner-password PDF with a
# no-copy flag was indexed as 9 articles titled "(cid:3206)(cid:3189)…". Past this share of the text the file
# is refused; below it, the stray codes are dropped.
UNMAPPED = re.compile(r"\(cid:\d{1,6}\)")
MAX_UNMAPPED_SHARE = 0.05


def _read_pages(raw: bytes, name: str) -> list[list[Line]]:
    from index.formats.pdf_pages import page_chars  # imported here: only PDF files need pdfplumber

    try:
        # each page becomes lines as it is read, so only one page's characters are held at a time
        return [page_lines(n, chars, width) for n, chars, width in page_chars(raw, name)]
    except (BulletinError, MemoryError):  # MemoryError: the guard's address-space bound, reported by it
        raise
    except Exception as exc:  # pdfminer wraps every failure in its own exception; the cause says which
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if type(cause).__name__ in ("PDFPasswordIncorrect", "PDFEncryptionError"):
            raise BulletinError(
                f"{name}: the PDF is encrypted (password-protected); save an unprotected copy and add that"
            ) from None
        raise BulletinError(f"{name}: not a readable PDF ({type(cause).__name__}: {cause})") from None


def _running_key(text: str) -> str:
    """A line as it repeats on every page: digits (page numbers, dates) and spaces aside."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running(pages: list[list[Line]]) -> tuple[list[list[Line]], list[str]]:
    """Remove running headers, footers and page numbers: lines at a page's top or bottom edge that
    are a page number or repeat (digits aside) at the edge of other pages."""
    edges: list[list[Line]] = []
    for lines in pages:
        by_height = sorted(lines, key=lambda line: line.top)
        edges.append(by_height[:EDGE_LINES] + by_height[-EDGE_LINES:])
    counts = Counter(key for lines in edges for key in {_running_key(line.text) for line in lines})
    repeats = max(2, len(pages) // 2)  # on at least half the pages, and on more than one
    dropped: list[str] = []
    kept_pages = []
    for lines, edge in zip(pages, edges):
        running = {
            line
            for line in edge
            if PAGE_NUMBER.match(PAGE_WORD.sub("", line.text)) or counts[_running_key(line.text)] >= repeats
        }
        dropped += [line.text.strip() for line in lines if line in running]
        kept_pages.append([line for line in lines if line not in running])
    return kept_pages, dropped


def _breaks_paragraph(before: Line, line: Line, bounds: dict[Region, tuple[float, float]]) -> bool:
    """Whether a body line starts a new paragraph: it is indented, the line before stopped short of
    the column's right edge, or (in the same column) a gap wider than the line spacing separates them."""
    left, _ = bounds[line.region]
    _, right_before = bounds[before.region]
    if line.x0 > left + 0.8 * line.size or before.x1 < right_before - 1.5 * before.size:
        return True
    same_column = (before.page, before.region) == (line.page, line.region)
    return same_column and line.top - before.bottom > 0.9 * line.size


def _continues_title(before: Line, line: Line, bounds: dict[Region, tuple[float, float]]) -> bool:
    """Whether a title-sized line is the next line of the title before it rather than a title of its own:
    the same size and weight, and just below it in its column, or (at a column or page break) the line
    before filled its column."""
    if before.bold != line.bold or abs(before.size - line.size) > TITLE_SIZE_CLASS * max(before.size, line.size):
        return False
    if (before.page, before.region) == (line.page, line.region):
        return before.top < line.top and line.top - before.bottom <= TITLE_LINE_GAP * line.size
    return before.x1 >= bounds[before.region][1] - 1.5 * before.size


def _join_title(title: str, line: str) -> str:
    """A title and its next line: joined as written for Chinese, with a space between two Latin words."""
    if LATIN_WORD_END.search(title) and line[:1].isascii() and line[:1].isalpha():
        return f"{title} {line}"
    return title + line


def _sections(lines: list[Line], body_size: float, body_bold: bool) -> tuple[list[Section], list[str]]:
    """Titles (larger or bolder than the body) and the paragraphs under each; lines before the first
    title are returned apart (the masthead)."""
    bounds: dict[Region, tuple[float, float]] = {}
    for line in lines:
        low, high = bounds.get(line.region, (line.x0, line.x1))
        bounds[line.region] = (min(low, line.x0), max(high, line.x1))
    sections: list[Section] = []
    before_first: list[str] = []
    last: Line | None = None
    last_title = False
    for line in lines:
        is_title = line.size >= TITLE_SCALE * body_size or (line.bold and not body_bold)
        if is_title:
            if last_title and last is not None and _continues_title(last, line, bounds):
                sections[-1] = Section(_join_title(sections[-1].title, line.text), [])
            else:
                sections.append(Section(line.text, []))
        elif not sections:
            before_first.append(line.text.strip())
        elif last_title or last is None or _breaks_paragraph(last, line, bounds):
            sections[-1].blocks.append(line.text)
        else:
            sections[-1].blocks[-1] += line.text
        last, last_title = line, is_title
    return [Section(s.title.strip(), [b.strip() for b in s.blocks]) for s in sections], before_first


def _mapped_text(lines: list[Line], name: str) -> list[Line]:
    """The lines without unmapped glyph codes; refused when such codes are more than a trace of the text."""
    total = sum(len(line.text) for line in lines)
    unmapped = sum(len(m) for line in lines for m in UNMAPPED.findall(line.text))
    if total and unmapped > MAX_UNMAPPED_SHARE * total:
        raise BulletinError(
            f"{name}: {unmapped / total:.0%} of the PDF's text is glyph codes with no character map (cid:…), "
            "as a copy-protected PDF gives; export it again without protection, or send the Word file"
        )
    if not unmapped:
        return lines
    kept = (replace(line, text=UNMAPPED.sub("", line.text)) for line in lines)
    return [line for line in kept if line.text.strip()]


def pdf_document(raw: bytes, name: str) -> Document:
    """A PDF with a text layer as a Document; a scan (no text) or a locked file is refused."""
    pages = _read_pages(raw, name)
    if not any(pages):
        raise BulletinError(
            f"{name}: the PDF has no text layer (scanned pages?); OCR is not supported: "
            "ask for the PDF as exported from the typesetting program, or the Word file"
        )
    # a scanned page inside a typeset issue: staff must know that its text is missing
    blank = [n for n, page in enumerate(pages, 1) if not page]
    pages, dropped = _drop_running(pages)
    lines = _mapped_text([line for page in pages for line in page], name)
    if not lines:  # every line repeated on every page (a 2-page PDF of two identical pages raised IndexError)
        raise BulletinError(
            f"{name}: every line of the PDF repeats on every page, as running headers do; no article text is left"
        )
    sizes = Counter(line.size for line in lines for _ in line.text)
    body_size = sizes.most_common(1)[0][0]
    bolds = Counter(line.bold for line in lines for _ in line.text)
    sections, masthead = _sections(lines, body_size, bolds.most_common(1)[0][0])
    if not sections:
        raise BulletinError(f"{name}: no article titles found (no line is larger or bolder than the body text)")
    return Document(
        kind="pdf",
        content_hash=hashlib.sha256(raw).hexdigest(),
        sections=sections,
        pages_without_text=blank,
        dropped_lines=dropped + [f"before the first title: {text}" for text in masthead],
        masthead=" ".join(dropped + masthead),
    )
