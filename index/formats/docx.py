"""A Word (.docx) file → Document: titles from heading styles or bold title paragraphs, tables as rows."""

from __future__ import annotations

import hashlib
import io
import zipfile

from index.types import BulletinError, Document, Section

# a .docx is a zip; its XML is parsed whole, so the unpacked size is bounded (a zip bomb is refused)
MAX_UNPACKED_RATIO = 20
MAX_BOLD_TITLE_CHARS = 60  # a bold paragraph longer than this is emphasis in the body, not a title
TITLE_STYLES = ("heading", "title", "标题")
CELL_SEPARATOR = "\u3000"  # the ideographic space: table cells of a row stay apart without adding words


def _check_archive(raw: bytes, name: str, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise BulletinError(f"{name}: a damaged zip archive, not a readable Word document ({exc})") from None
    names = {m.filename for m in members}
    if "word/document.xml" not in names:
        shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
        raise BulletinError(f"{name}: a zip archive of other files ({shown}), not a Word document (.docx)")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_RATIO * max_bytes:
        raise BulletinError(
            f"{name}: unpacks to {unpacked:,} bytes, over {MAX_UNPACKED_RATIO}× the {max_bytes:,}-byte limit"
        )


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


def _table_text(table) -> str:
    """A table as text: one line per row, its cells apart, repeated (merged) cells once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
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
        items = list(document.iter_inner_content())  # paragraphs and tables in document order
        # the page header stays out of the articles; like text before the first title, it may date the issue
        masthead = [p.text.strip() for s in document.sections for p in s.header.paragraphs if p.text.strip()]
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors… on a damaged file
        raise BulletinError(f"{name}: not a readable Word document ({type(exc).__name__}: {exc})") from None
    sections: list[Section] = []
    before_first: list[str] = []
    for item in items:
        text = _table_text(item) if isinstance(item, Table) else item.text.strip()
        if not text:
            continue
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
