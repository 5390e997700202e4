"""A PDF page's characters → its lines in reading order: rows, the two-column gutter, one line per column.

pdfplumber gives each character with its font, size and box (points, top down); a line here is the
characters of one row of one column, with its extent, its smallest size and whether it is all bold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Region = Literal["full", "left", "right"]
BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|,b$", re.I)


@dataclass(frozen=True)
class Line:
    """One visual line of one column (or spanning the page), in page coordinates (points, top down)."""

    page: int
    region: Region
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the smallest character size: a title line is large throughout
    bold: bool  # every character is in a bold face


def _line(page: int, region: Region, chars: list[dict]) -> Line:
    chars = sorted(chars, key=lambda c: c["x0"])
    text = chars[0]["text"]
    for before, char in zip(chars, chars[1:]):
        gap = char["x0"] - before["x1"]
        # a visible gap with no space character in the file (words placed apart) reads as a space
        if gap > 0.35 * char["size"] and not (before["text"].isspace() or char["text"].isspace()):
            text += " "
        text += char["text"]
    ink = [c for c in chars if not c["text"].isspace()] or chars
    return Line(
        page=page,
        region=region,
        text=text,
        x0=min(c["x0"] for c in ink),
        x1=max(c["x1"] for c in ink),
        top=min(c["top"] for c in ink),
        bottom=max(c["bottom"] for c in ink),
        size=round(min(c["size"] for c in ink), 1),
        bold=all(BOLD_FONT.search(c["fontname"]) for c in ink),
    )


def _rows(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped into rows by their vertical centre (a row may hold both columns' lines)."""
    rows: list[list[dict]] = []
    anchor = 0.0
    for char in sorted(chars, key=lambda c: ((c["top"] + c["bottom"]) / 2, c["x0"])):
        centre = (char["top"] + char["bottom"]) / 2
        if rows and centre - anchor <= 0.5 * min(char["size"], rows[-1][0]["size"]):
            rows[-1].append(char)
        else:
            rows.append([char])
            anchor = centre
    return rows


def _spans(row: list[dict]) -> list[tuple[float, float]]:
    """The x-ranges a row's ink covers, characters less than a character apart joined."""
    spans: list[tuple[float, float]] = []
    for char in sorted((c for c in row if not c["text"].isspace()), key=lambda c: c["x0"]):
        if spans and char["x0"] - spans[-1][1] < 1.2 * char["size"]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], char["x1"]))
        else:
            spans.append((char["x0"], char["x1"]))
    return spans


def _gutter(rows: list[list[dict]], width: float) -> float | None:
    """The x of the gap between two columns, when the page has two: a vertical strip near the middle
    that most rows leave empty with text on both sides (headers, page numbers and spanning titles
    may cross it)."""
    spans = [_spans(row) for row in rows]
    best: tuple[tuple[int, int], float] | None = None
    for step in range(30, 71):
        x = width * step / 100
        crossing = sum(1 for s in spans if any(a <= x <= b for a, b in s))
        split = sum(1 for s in spans if any(b < x for _, b in s) and any(a > x for a, _ in s)) - crossing
        rank = (split - 3 * crossing, -abs(step - 50))  # fewest rows crossing it, then nearest the middle
        if split >= 3 and split > 3 * crossing and (best is None or rank > best[0]):
            best = (rank, x)
    return best[1] if best else None


def page_lines(number: int, chars: list[dict], width: float) -> list[Line]:
    """A page's lines in reading order: spanning lines in place, and between them the left column,
    then the right one."""
    rows = _rows(chars)
    gutter = _gutter(rows, width)
    ordered: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []
    for row in rows:
        if gutter is None or any(a <= gutter <= b for a, b in _spans(row)):
            ordered += left + right
            left, right = [], []
            ordered.append(_line(number, "full", row))
            continue
        west, east = [c for c in row if c["x1"] <= gutter], [c for c in row if c["x1"] > gutter]
        if any(not c["text"].isspace() for c in west):
            left.append(_line(number, "left", west))
        if any(not c["text"].isspace() for c in east):
            right.append(_line(number, "right", east))
    return ordered + left + right
