"""A Word (.docx) file → Document: titles from heading styles or bold title paragraphs, tables as rows."""

from __future__ import annotations

import hashlib
import io
import zipfile

from index.formats.limits import (
    MAX_DOCUMENT_CHARS,
    MAX_DOCX_PARAGRAPHS,
    MAX_DOCX_RUNS,
    MAX_DOCX_SECTIONS,
    MAX_DOCX_XML_BYTES,
    MAX_TABLE_CELLS,
    MAX_TABLE_COLUMNS,
    MAX_UNPACKED_RATIO,
    MAX_ZIP_MEMBERS,
    over_limit,
)
from index.types import BulletinError, Document, Section

WORD_NS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
XML_PARTS = (".xml", ".rels")  # what python-docx parses whole when it opens the file (photos are only held)
MAX_BOLD_TITLE_CHARS = 60  # a bold paragraph longer than this is emphasis in the body, not a title
TITLE_STYLES = ("heading", "title", "标题")
CELL_SEPARATOR = "\u3000"  # the ideographic space: table cells of a row stay apart without adding words


def _check_archive(raw: bytes, name: str, max_bytes: int) -> None:
    """A Word archive within the bounds, judged from its directory before anything is unpacked (zipfile
    unpacks no more than a member's stated size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise BulletinError(f"{name}: a damaged zip archive, not a readable Word document ({exc})") from None
    names = {m.filename for m in members}
    if "word/document.xml" not in names:
        shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
        raise BulletinError(f"{name}: a zip archive of other files ({shown}), not a Word document (.docx)")
    if len(members) > MAX_ZIP_MEMBERS:
        raise over_limit(name, "parts in the archive", len(members), MAX_ZIP_MEMBERS)
    xml = sum(m.file_size for m in members if m.filename.lower().endswith(XML_PARTS))
    if xml > MAX_DOCX_XML_BYTES:
        raise over_limit(name, "XML unpacked (bytes)", xml, MAX_DOCX_XML_BYTES)
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_RATIO * max_bytes:
        raise BulletinError(
            f"{name}: unpacks to {unpacked:,} bytes, over {MAX_UNPACKED_RATIO}× the {max_bytes:,}-byte limit"
        )


def _check_body(body, name: str) -> None:
    """The body's paragraphs, runs, cells and sections within the bounds, counted in the parsed XML before
    python-docx walks it (at ~40 µs a paragraph)."""
    for tag, what, limit in (
        ("w:p", "paragraphs", MAX_DOCX_PARAGRAPHS),
        ("w:r", "runs of text", MAX_DOCX_RUNS),
        ("w:tc", "table cells", MAX_TABLE_CELLS),
        ("w:sectPr", "sections", MAX_DOCX_SECTIONS),
    ):
        count = int(body.xpath(f"count(.//{tag})"))  # counted in C, no element objects (python-docx knows w:)
        if count > limit:
            raise over_limit(name, what, count, limit)


def _is_title(paragraph) -> bool:
    """A heading style, or a short paragraph all in bold that does not end like a sentence."""
    style = (paragraph.style.name if paragraph.style is not None else "").lower()
    if style.startswith(TITLE_STYLES):
        return True
    text = paragraph.text.strip()
    runs = [r for r in paragraph.runs if r.text.strip()]
    return (
        bool(runs)
        and all(r.bold for r in runs)
        and len(text) <= MAX_BOLD_TITLE_CHARS
        and text[-1] not in "。！？；：:;!?"
    )


def _number(element, path: str, default: int) -> int:
    """An integer w:val at `path` under an element (a span, a count); the default when absent or not a number."""
    found = element.find(path, WORD_NS)
    value = None if found is None else found.get(f"{{{WORD_NS['w']}}}val")
    return int(value) if value is not None and value.isascii() and value.isdigit() else default


def _table_text(table) -> str:
    """A table as text: one line per row, its cells apart, repeated (merged) cells once.

    The rows are walked here, not through python-docx's Row.cells: that one repeats a cell once per grid
    column it spans (gridSpan="2147483647": over 2.7 GB in 60 s) and finds a vertically merged cell's text
    by recursing up the rows (1,200 merged rows: 72 s, then RecursionError). Here a span is clamped to the
    table's grid, and a merged cell takes the text of the cell above at its column, one row at a time."""
    from docx.table import _Cell

    tbl = table._tbl
    columns = len(tbl.findall("w:tblGrid/w:gridCol", WORD_NS)) or MAX_TABLE_COLUMNS
    columns = min(columns, MAX_TABLE_COLUMNS)
    rows: list[str] = []
    above: dict[int, str] = {}  # grid column → the text of the cell starting there in the row above
    for tr in tbl.iterchildren(f"{{{WORD_NS['w']}}}tr"):
        column = min(_number(tr, "w:trPr/w:gridBefore", 0), columns)
        here: dict[int, str] = {}
        cells: list[str] = []
        for tc in tr.iterchildren(f"{{{WORD_NS['w']}}}tc"):
            merge = tc.find("w:tcPr/w:vMerge", WORD_NS)
            if merge is not None and merge.get(f"{{{WORD_NS['w']}}}val", "continue") == "continue":
                text = above.get(column, "")  # a merged cell with nothing above it (a first row) is empty
            else:
                text = " ".join(_Cell(tc, table).text.split())
            here[column] = text
            column += min(max(_number(tc, "w:tcPr/w:gridSpan", 1), 1), max(columns - column, 1))
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        above = here
        if cells:
            rows.append(CELL_SEPARATOR.join(cells))
    return "\n".join(rows)


def docx_document(raw: bytes, name: str, max_bytes: int) -> Document:
    """A .docx file as a Document; a zip of other files or a damaged document is refused."""
    _check_archive(raw, name, max_bytes)
    import docx  # python-docx, imported only for Word files
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
        _check_body(document.element.body, name)
        items = list(document.iter_inner_content())  # paragraphs and tables in document order
        # the page header stays out of the articles; like text before the first title, it may date the issue
        masthead = [p.text.strip() for s in document.sections for p in s.header.paragraphs if p.text.strip()]
    except (BulletinError, MemoryError):  # MemoryError: the guard's address-space bound, reported by it
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors… on a damaged file
        raise BulletinError(f"{name}: not a readable Word document ({type(exc).__name__}: {exc})") from None
    sections: list[Section] = []
    before_first: list[str] = []
    chars = 0
    for item in items:
        text = _table_text(item) if isinstance(item, Table) else item.text.strip()
        if not text:
            continue
        chars += len(text)
        if chars > MAX_DOCUMENT_CHARS:
            raise over_limit(name, "characters of text", None, MAX_DOCUMENT_CHARS)
        if not isinstance(item, Table) and _is_title(item):
            sections.append(Section(" ".join(text.split()), []))
        elif sections:
            sections[-1].blocks.append(text)
        else:
            before_first.append(text)
    if not sections:
        raise BulletinError(f"{name}: no article titles found (no heading styles and no bold title paragraphs)")
    return Document(
        kind="docx",
        content_hash=hashlib.sha256(raw).hexdigest(),
        sections=sections,
        dropped_lines=[f"before the first title: {text}" for text in before_first],
        masthead=" ".join(masthead + before_first),
    )
