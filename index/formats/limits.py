"""What one bulletin file may cost to read: the bounds every reader checks, in one place.

A bulletin is a few dozen articles of a few hundred characters; the real 东昌府区 issue is
about 20,000 characters on 8 pages. Each bound below is far above any real issue and far below
what a crafted file would need to stall the reader or fill memory. A file over a bound is
refused with a message naming the file and the bound (`over_limit`).
"""

from __future__ import annotations

from index.types import BulletinError

# the text a file may yield, all articles together (the real issue: ~20,000 characters)
MAX_DOCUMENT_CHARS = 2_000_000
# whole-file bounds on the work of reading one file, whatever its kind: each file is read in a child process
# (index/guard.py) killed past PARSE_SECONDS of wall time and whose address space is capped at
# PARSE_MEMORY_BYTES (which bounds its resident memory too); BULLETIN_PARSE_SECONDS and
# BULLETIN_PARSE_MEMORY_BYTES override them
PARSE_SECONDS = 30.0
PARSE_MEMORY_BYTES = 1 << 30  # 1 GiB

# PDF. pdfminer lays out a few thousand characters a second and holds ~2 KB per character of a page: a 1.6 KB
# PDF drawing 1,000,000 characters on one page took 92 s and 2.2 GB; a 23-page two-column issue of 33,000
# characters takes 14 s on 2 cores at load 14. Pages are read one at a time, so memory follows the page bound.
MAX_PDF_PAGES = 200  # the real issue: 8 pages
MAX_PAGE_CHARS = 20_000  # characters drawn on one page (the real issue: ~2,500; a dense broadsheet ~10,000)
MAX_PDF_CHARS = 100_000  # characters drawn in the whole file (the real issue: ~20,000)
MAX_PAGE_GRAPHICS = 20_000  # paths and images drawn on one page (rules, boxes, photos: a few hundred)

# Word. A .docx is a zip of XML parts parsed whole; python-docx walks them at ~40 µs a paragraph: a DOCX
# of empty <w:p/> (8 KB file, 5 MB of XML) took 33 s, a 30 KB one over 110 s and 1.1 GB.
MAX_ZIP_MEMBERS = 1_000  # parts in the archive (a real issue: ~20, with its photos)
MAX_UNPACKED_RATIO = 20  # all parts unpacked (photos included), times BULLETIN_MAX_FILE_BYTES
MAX_DOCX_XML_BYTES = 10_000_000  # the XML parts unpacked (a real issue: well under 1 MB)
MAX_DOCX_PARAGRAPHS = 20_000  # paragraphs, table cells' included (a real issue: a few hundred)
MAX_DOCX_RUNS = 200_000  # runs of formatted text (a real issue: a few thousand)
MAX_DOCX_SECTIONS = 100  # section breaks: python-docx resolves each section's header through the ones before
MAX_TABLE_CELLS = 20_000  # <w:tc> cells, all tables together
MAX_TABLE_COLUMNS = 63  # Word's own maximum; a gridSpan is clamped to the table's grid, and to this


def over_limit(name: str, what: str, found: int | str | None, limit: int | str) -> BulletinError:
    """The refusal of a file over one of these bounds, naming the file, what was counted and the bound
    (`found` None: a reader that stops counting at the bound)."""
    shown_limit = f"{limit:,}" if isinstance(limit, int) else limit
    if found is None:
        return BulletinError(f"{name}: {what}: over the limit of {shown_limit}")
    shown_found = f"{found:,}" if isinstance(found, int) else found
    return BulletinError(f"{name}: {what}: {shown_found}, over the limit of {shown_limit}")
