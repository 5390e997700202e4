"""The characters of each page of a PDF, read with bounded work.

pdfminer draws a page into a device; the device here counts what is drawn and stops at the bound
(index/formats/limits.py), so a 1.6 KB PDF drawing 1,000,000 characters on one page is refused after
20,000 instead of taking 92 s and 2.2 GB. Pages are laid out one at a time and let go once read.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from operator import itemgetter

import pdfplumber
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfpage import PDFPage
from pdfplumber.page import Page, PDFPageAggregatorWithMarkedContent
from pdfplumber.utils import cluster_objects

from index.formats.limits import MAX_PAGE_CHARS, MAX_PAGE_GRAPHICS, MAX_PDF_CHARS, MAX_PDF_PAGES, over_limit

DEDUPE_TOLERANCE = 1  # points: pdfplumber's default for characters drawn twice (a fake bold)


class _Drawn(Exception):
    """A page drew more than its budget of characters or graphics."""


class _BoundedDevice(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's own page device, counting the characters and graphics pdfminer draws into it."""

    chars_left = 0
    graphics_left = 0

    def render_char(self, *args, **kwargs):
        self.chars_left -= 1
        if self.chars_left < 0:
            raise _Drawn("characters")
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args, **kwargs):
        self._graphic()
        return super().paint_path(*args, **kwargs)

    def render_image(self, *args, **kwargs):
        self._graphic()
        return super().render_image(*args, **kwargs)

    def _graphic(self) -> None:
        self.graphics_left -= 1
        if self.graphics_left < 0:
            raise _Drawn("graphics")


def dedupe(chars: list[dict]) -> list[dict]:
    """pdfplumber's dedupe_chars (one of the characters of the same text, font and size drawn within 1 pt of
    each other), in page order through a position map: its own restores the order with list.index, which
    took 98 s on a page of 20,000 distinct characters."""
    key = itemgetter("upright", "text", "fontname", "size")
    order = {id(char): n for n, char in enumerate(chars)}
    kept = []
    for _, group in itertools.groupby(sorted(chars, key=key), key=key):
        for row in cluster_objects(list(group), itemgetter("doctop"), DEDUPE_TOLERANCE):
            for cluster in cluster_objects(row, itemgetter("x0"), DEDUPE_TOLERANCE):
                kept.append(min(cluster, key=itemgetter("doctop", "x0")))
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
            page = Page(pdf, page_obj, page_number=number + 1)
            page._layout = device.get_result()  # the layout pdfplumber caches (Page.cached_properties) and reads
            yield number, dedupe(page.chars), float(page.width)
            page.close()
