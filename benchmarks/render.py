"""Render a bulletin text file as the PDF, Word file or web page staff receive (for tests and benchmarks).

The layout mimics a district bulletin: a running header and page numbers on every page, titles
larger than the body, indented paragraphs, one or two columns, CJK text in reportlab's built-in
STSong-Light CID font (no font file needed); a title breaks where its text has a line break, or where
it fills the column. Each blank-line block of the text file becomes one paragraph, so the text
file's layout artifacts (a word split over two blocks) reach the rendering too.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from index.formats.text import blocks_of, split_sections
from index.types import Section

FONT = "STSong-Light"
PAGE_W, PAGE_H = 595.0, 842.0  # A4 in points
MARGIN = 56.0
GUTTER = 24.0
BODY, BODY_LEADING = 10.5, 16.0
HEADER_SIZE = 9.0


@dataclass(frozen=True)
class PdfLayout:
    """How one PDF is typeset."""

    columns: int = 1
    header: str = "东昌府区新闻简报"
    title_size: float = 15.0
    centre_titles: bool = False  # each title line centred in its column (else flush left)


def issue_sections(path: Path) -> list[Section]:
    """A text issue's titles and raw blocks, as its file holds them."""
    text = path.read_text("utf-8-sig").replace("\r\n", "\n")
    return [Section(title, blocks_of(lines)) for title, lines in split_sections(text)]


def _wrap(text: str, width: float, size: float, indent: float = 0.0) -> list[str]:
    """Break text into lines that fit `width`, anywhere between characters as CJK typesetting does
    (a space that does not fit stays at the end of its line)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, current, used = [], "", indent
    for char in text:
        w = stringWidth(char, FONT, size)
        if current and used + w > width and not char.isspace():
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += w
    return [*lines, current] if current else lines


def render_pdf(sections: list[Section], out: Path, layout: PdfLayout) -> int:
    """Typeset the sections into a PDF; returns the number of pages."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(out), pagesize=(PAGE_W, PAGE_H))
    col_w = (PAGE_W - 2 * MARGIN - GUTTER * (layout.columns - 1)) / layout.columns
    top, bottom = PAGE_H - MARGIN - 14, MARGIN + 10
    state = {"page": 1, "column": 0, "y": top}

    def decorate() -> None:
        pdf.setFont(FONT, HEADER_SIZE)
        pdf.drawString(MARGIN, PAGE_H - MARGIN + 4, f"{layout.header}  第{state['page']}版")
        pdf.line(MARGIN, PAGE_H - MARGIN, PAGE_W - MARGIN, PAGE_H - MARGIN)
        pdf.drawCentredString(PAGE_W / 2, MARGIN - 20, f"- {state['page']} -")

    def advance(height: float) -> None:
        if state["y"] - height >= bottom:
            return
        if state["column"] + 1 < layout.columns:
            state["column"] += 1
        else:
            pdf.showPage()
            state["page"] += 1
            state["column"] = 0
            decorate()
        state["y"] = top

    def draw(lines: list[str], size: float, leading: float, indent: float, centre: bool = False) -> None:
        for i, line in enumerate(lines):
            advance(leading)
            x = MARGIN + state["column"] * (col_w + GUTTER) + (indent if i == 0 else 0.0)
            if centre:
                x += (col_w - pdfmetrics.stringWidth(line, FONT, size)) / 2
            pdf.setFont(FONT, size)
            pdf.drawString(x, state["y"] - size, line)
            state["y"] -= leading

    decorate()
    for section in sections:
        state["y"] -= 8  # space above a title
        advance(2 * layout.title_size * 1.4)  # no title alone at a column's foot
        # a "\n" in a title is the typesetter's own line break (at a phrase, the line short of the column)
        title = [line for part in section.title.split("\n") for line in _wrap(part, col_w, layout.title_size)]
        draw(title, layout.title_size, layout.title_size * 1.4, 0.0, layout.centre_titles)
        state["y"] -= 4
        for block in section.blocks:
            draw(_wrap(block, col_w, BODY, indent=2 * BODY), BODY, BODY_LEADING, 2 * BODY)
    pdf.showPage()
    pdf.save()
    return state["page"]


def render_docx(sections: list[Section], out: Path, bold_titles: bool = False) -> None:
    """A Word file: titles as Heading 1/2 (or, with bold_titles, as bold plain paragraphs)."""
    from docx import Document

    doc = Document()
    doc.add_paragraph("东昌府区新闻简报").runs[0].italic = True  # a masthead line before the first title
    for n, section in enumerate(sections):
        if bold_titles:
            doc.add_paragraph().add_run(section.title).bold = True
        else:
            doc.add_heading(section.title, level=1 if n == 0 else 2)
        for block in section.blocks:
            doc.add_paragraph(block)
    doc.save(str(out))


def render_html(sections: list[Section], out: Path) -> None:
    """A news page: scripts, navigation, a header, the articles, a comment block and a footer."""
    parts = []
    for n, section in enumerate(sections):
        tag = "h1" if n == 0 else "h2"
        parts.append(f"<{tag}>{html.escape(section.title)}</{tag}>")
        parts += [f"<p>{html.escape(block)}</p>" for block in section.blocks]
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>东昌府区新闻简报</title>
<script>var nav = "首页 | 要闻 | 通知公告"; console.log("第1版");</script>
<style>p {{ text-indent: 2em; }}</style></head>
<body>
<nav><a href="/">首页</a> | <a href="/news">要闻</a> | <a href="/notice">通知公告</a></nav>
<header><div class="masthead">东昌府区融媒体中心 主办</div></header>
<div class="main"><article>
{chr(10).join(parts)}
</article>
<div class="comments"><h3>网友评论</h3><p>写得好！点赞。</p></div></div>
<footer><p>版权所有 东昌府区融媒体中心 第1页</p></footer>
</body></html>"""
    out.write_text(page, "utf-8")
