"""Which reader a file needs, chosen by its content (magic bytes), not by its name."""

from __future__ import annotations

import re
from pathlib import Path

from index.formats.text import read_limited, text_document
from index.types import BulletinError, Document, FileKind

# an HTML page starts (after a BOM, blank space and comments) with one of these tags; the comments are
# skipped by a loop, not by a repeated group: `(?:<!--.*?-->\s*)*` took over 60 s on a 307-byte file
# of b"<!---->" * 40 and hung `index add` while it held the index lock
HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|article)\b", re.I)
SNIFF_BYTES = 4096
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc / .xls / .ppt container
ZIP_MAGIC = b"PK\x03\x04"


def detect_kind(raw: bytes, name: str) -> FileKind:
    """The kind of file these bytes are; refuses containers that are no bulletin format."""
    if b"%PDF-" in raw[:1024]:  # the PDF header may follow a little junk
        return "pdf"
    if raw.startswith(ZIP_MAGIC):
        return "docx"
    if raw.startswith(OLE_MAGIC):
        raise BulletinError(f"{name}: an old binary Office file (.doc); save it as .docx (Word 2007 or later)")
    if looks_like_html(raw[:SNIFF_BYTES]):
        return "html"
    return "text"


def looks_like_html(head: bytes) -> bool:
    """Whether the first bytes, past a BOM, blank space and comments, open an HTML page (linear time)."""
    position = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while position < len(head) and head[position : position + 1].isspace():
            position += 1
        if not head.startswith(b"<!--", position):
            return HTML_TAG.match(head, position) is not None
        end = head.find(b"-->", position + 4)
        if end < 0:
            return False
        position = end + 3


def read_document(path: Path, max_bytes: int) -> Document:
    """Read any supported bulletin file (size checked before reading) into a Document."""
    raw = read_limited(path, max_bytes)
    kind = detect_kind(raw, path.name)
    # each reader is imported only when needed: the PDF stack alone takes a second to import
    if kind == "pdf":
        from index.formats.pdf import pdf_document

        return pdf_document(raw, path.name)
    if kind == "docx":
        from index.formats.docx import docx_document

        return docx_document(raw, path.name, max_bytes)
    if kind == "html":
        from index.formats.html import html_document

        return html_document(raw, path.name)
    return text_document(raw, path.name)
