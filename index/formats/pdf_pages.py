"""The characters of each page of a PDF, read with bounded work.

pdfminer draws a page into a device; the device here keeps only the characters, counts what is drawn and
stops at the bound (index/formats/limits.py), so a 1.6 KB PDF drawing 1,000,000 characters on one page is
refused after 20,000 instead of taking 92 s and 2.2 GB. Pages are laid out one at a time and let go once read.
Each character becomes the dict pdfplumber would make of it, with only the keys the reader uses: pdfplumber's
own conversion (every attribute of every character resolved) took 15 of the 21 s a 19,000-character page took.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

import pdfplumber
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTChar, LTContainer
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfpage import PDFPage
from pdfplumber.page import Page

from index.formats.limits import MAX_PAGE_CHARS, MAX_PAGE_GRAPHICS, MAX_PDF_CHARS, MAX_PDF_PAGES, over_limit

DEDUPE_TOLERANCE = 1  # points: pdfplumber's default for characters drawn twice (a fake bold)


class _Drawn(Exception):
    """A page drew more than its budget of characters or graphics."""


class _BoundedDevice(PDFPageAggregator):
    """pdfminer's page device, counting the characters and graphics drawn into it; graphics are not kept."""

    chars_left = 0
    graphics_left = 0

    def render_char(self, *args, **kwargs):
        self.chars_left -= 1
        if self.chars_left < 0:
            raise _Drawn("characters")
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args, **kwargs) -> None:
        self._graphic()

    def render_image(self, *args, **kwargs) -> None:
        self._graphic()

    def _graphic(self) -> None:
        self.graphics_left -= 1
        if self.graphics_left < 0:
            raise _Drawn("graphics")


def _char_dicts(layout: LTContainer, page: Page) -> list[dict]:
    """The page's characters (those inside forms too) as pdfplumber's Page.chars gives them: top-down
    coordinates in points from the MediaBox's corner (pdfplumber's Page.process_object)."""
    height, (left, offset) = float(page.height), page.mediabox[:2]
    chars, stack = [], [iter(layout)]
    while stack:  # a loop, not recursion: forms may nest
        obj = next(stack[-1], None)
        if obj is None:
            stack.pop()
        elif isinstance(obj, LTChar):
            top = height - obj.y1 + offset
            fontname = obj.fontname.decode("latin-1") if isinstance(obj.fontname, bytes) else obj.fontname
            chars.append(
                {
                    "text": obj.get_text(),
                    "fontname": fontname,
                    "size": obj.size,
                    "upright": obj.upright,
                    "x0": obj.x0 + left,
                    "x1": obj.x1 + left,
                    "top": top,
                    "bottom": height - obj.y0 + offset,
                    "doctop": top,
                }
            )
        elif isinstance(obj, LTContainer):
            stack.append(iter(obj))
    return chars


def _clusters(items: Iterable[dict], coordinate: Callable[[dict], float]) -> list[list[dict]]:
    """The items by a coordinate, split where neighbours are more than the tolerance apart (what pdfplumber's
    cluster_objects gives, without its per-call dicts: most clusters hold one character)."""
    groups: list[list[dict]] = []
    last = 0.0
    for item in sorted(items, key=coordinate):
        value = coordinate(item)
        if not groups or value - last > DEDUPE_TOLERANCE:
            groups.append([])
        groups[-1].append(item)
        last = value
    return groups


def dedupe(chars: list[dict]) -> list[dict]:
    """pdfplumber's dedupe_chars (one of the characters of the same text, font and size drawn within 1 pt of
    each other), in page order through a position map: its own restores the order with list.index, which
    took 98 s on a page of 20,000 distinct characters."""
    key = itemgetter("upright", "text", "fontname", "size")
    position = itemgetter("doctop", "x0")
    order = {id(char): n for n, char in enumerate(chars)}
    kept = []
    for _, group in itertools.groupby(sorted(chars, key=key), key=key):
        for row in _clusters(group, itemgetter("doctop")):
            kept += [min(cluster, key=position) for cluster in _clusters(row, itemgetter("x0"))]
    return sorted(kept, key=lambda char: order[id(char)])


def page_chars(raw: bytes, name: str) -> Iterator[tuple[int, list[dict], float]]:
    """(page number from 0, its characters, its width) for each page; a file over a bound is refused."""
    drawn = 0
    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        for number, page_obj in enumerate(PDFPage.create_pages(pdf.doc)):
            if number == MAX_PDF_PAGES:
                raise over_limit(name, "pages", None, MAX_PDF_PAGES)
            budget = min(MAX_PAGE_CHARS, MAX_PDF_CHARS - drawn)
            device = _BoundedDevice(pdf.rsrcmgr, pageno=number + 1, laparams=pdf.laparams)
            device.chars_left, device.graphics_left = budget, MAX_PAGE_GRAPHICS
            try:
                PDFPageInterpreter(pdf.rsrcmgr, device).process_page(page_obj)
            except _Drawn as what:
                if str(what) == "graphics":
                    limit = over_limit(name, f"paths and images drawn on page {number + 1}", None, MAX_PAGE_GRAPHICS)
                elif budget == MAX_PAGE_CHARS:
                    limit = over_limit(name, f"characters drawn on page {number + 1}", None, budget)
                else:
                    limit = over_limit(name, "characters drawn in the file", None, MAX_PDF_CHARS)
                raise limit from None
            drawn += budget - device.chars_left
            page = Page(pdf, page_obj, page_number=number + 1)  # for its boxes only
            yield number, dedupe(_char_dicts(device.get_result(), page)), float(page.width)
