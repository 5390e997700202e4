"""PDF, Word and web-page issues: every bundled issue rendered by reportlab, python-docx and as a news
page, read back, and compared with the text file's parse; bad files refused by name."""

from __future__ import annotations

import difflib
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest

from benchmarks.render import PdfLayout, issue_sections, render_docx, render_html, render_pdf
from bot.cli import main
from index.parse import parse_issue
from index.store import IndexStore
from index.types import BulletinError, Section

from conftest import BULLETINS, KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE

ISSUES = sorted(BULLETINS.glob("*.txt"))
FORMATS = ("pdf-1-column", "pdf-2-columns", "docx-headings", "docx-bold-titles", "html")
RUNNING_TEXT = re.compile(r"东昌府区新闻简报|第\d+版|- \d+ -|网友评论|写得好|版权所有|首页")


def render(kind: str, sections: list[Section], out: Path) -> None:
    if kind == "pdf-1-column":
        render_pdf(sections, out, PdfLayout(columns=1))
    elif kind == "pdf-2-columns":
        render_pdf(sections, out, PdfLayout(columns=2, title_size=13.0))
    elif kind.startswith("docx"):
        render_docx(sections, out, bold_titles=kind == "docx-bold-titles")
    else:
        render_html(sections, out)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every bundled issue in every format, rendered once per run, under the issue's own name."""
    files = {}
    for kind in FORMATS:
        folder = tmp_path_factory.mktemp(kind)
        suffix = {"pdf": ".pdf", "doc": ".docx", "htm": ".html"}[kind[:3]]
        for issue in ISSUES:
            out = folder / f"{issue.stem}{suffix}"
            render(kind, issue_sections(issue), out)
            files[kind, issue.name] = out
    return files


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("issue", ISSUES, ids=lambda p: p.stem)
def test_each_format_gives_the_text_files_articles(rendered, kind, issue):
    expected = parse_issue(issue, MAX_FILE_BYTES)
    got = parse_issue(rendered[kind, issue.name], MAX_FILE_BYTES)
    assert got.kind == kind.split("-")[0]
    assert got.issue_id == expected.issue_id and got.issue_date == expected.issue_date
    assert [a.title for a in got.articles] == [a.title for a in expected.articles]
    for mine, theirs in zip(got.articles, expected.articles):
        assert difflib.SequenceMatcher(None, mine.body, theirs.body, autojunk=False).ratio() >= 0.98, mine.title
        assert mine.source == theirs.source
        assert not RUNNING_TEXT.search(mine.title + mine.body), mine.title
    # the same repairs: broken words joined, pasted fragments removed, titles without a body skipped
    assert len(got.joined_breaks) == len(expected.joined_breaks) > 0
    assert got.fragments_removed == expected.fragments_removed
    assert got.empty_titles == expected.empty_titles


def test_pdf_running_headers_and_page_numbers_are_dropped_and_reported(rendered):
    issue = parse_issue(rendered["pdf-2-columns", "000_5799bfe337b1a530.txt"], MAX_FILE_BYTES)
    assert "- 1 -" in issue.dropped_lines and "- 2 -" in issue.dropped_lines
    assert any(line.startswith("东昌府区新闻简报") for line in issue.dropped_lines)
    assert "坚决把疫情防住" in issue.articles[0].body  # the word the text file breaks over a blank line


def test_the_masthead_dates_an_issue_whose_name_does_not(tmp_path):
    sections = issue_sections(BULLETINS / "2022-12-12.txt")
    render_pdf(sections, tmp_path / "简报.pdf", PdfLayout(header="东昌府区新闻简报 2022年12月12日"))
    issue = parse_issue(tmp_path / "简报.pdf", MAX_FILE_BYTES)
    assert (issue.issue_date, issue.date_source) == (date(2022, 12, 12), "masthead")


def test_the_kind_comes_from_the_content_not_the_name(rendered, tmp_path):
    disguised = tmp_path / "2022-12-05.txt"
    disguised.write_bytes(rendered["pdf-1-column", "2022-12-05.txt"].read_bytes())
    assert parse_issue(disguised, MAX_FILE_BYTES).kind == "pdf"
    page = tmp_path / "2022-12-12.htm"
    page.write_bytes(rendered["html", "2022-12-12.txt"].read_bytes())
    assert parse_issue(page, MAX_FILE_BYTES).kind == "html"


def test_a_word_table_is_kept_as_rows(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_heading("春节期间核酸采样点安排", level=1)
    doc.add_paragraph("东昌府讯 春节期间，以下采样点照常开放。")
    table = doc.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("采样点", "开放时间"), ("区人民医院", "8:00-17:00")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    doc.save(str(tmp_path / "2023-01-16.docx"))
    body = parse_issue(tmp_path / "2023-01-16.docx", MAX_FILE_BYTES).articles[0].body
    assert body == "东昌府讯 春节期间，以下采样点照常开放。\n\n采样点\u3000开放时间\n区人民医院\u30008:00-17:00"


def _scan(path: Path) -> None:
    """A PDF holding only a page image, as a scanner makes it."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (300, 400), 255)
    ImageDraw.Draw(image).rectangle((20, 20, 280, 60), fill=0)
    pdf = canvas.Canvas(str(path))
    pdf.drawImage(ImageReader(image), 50, 200, 300, 400)
    pdf.showPage()
    pdf.save()


def _bad_files(folder: Path) -> dict[str, str]:
    """Each file that must be refused, with the reason staff must read."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    _scan(folder / "scan.pdf")
    pdf = canvas.Canvas(str(folder / "locked.pdf"), encrypt=StandardEncryption("secret"))
    pdf.drawString(72, 720, "bulletin")
    pdf.showPage()
    pdf.save()
    with zipfile.ZipFile(folder / "photos.docx", "w") as archive:
        archive.writestr("photos/1.jpg", b"\xff\xd8\xff")
    (folder / "empty.html").write_text(
        "<!DOCTYPE html><html><head><title>东昌府区</title><script>var a=1;</script></head><body>"
        "<nav><a href='/'>首页</a></nav><div class='content'><p>页面暂无内容。</p></div></body></html>",
        "utf-8",
    )
    with (folder / "huge.pdf").open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(200_000_000)  # sparse: 200 MB that take no disk
    return {
        "scan.pdf": "no text layer (scanned pages?); OCR is not supported",
        "locked.pdf": "encrypted (password-protected)",
        "photos.docx": "a zip archive of other files (photos/1.jpg), not a Word document",
        "empty.html": "no article found in the page",
        "huge.pdf": "200,000,000 bytes is over the 5,000,000-byte limit",
    }


def test_bad_files_are_refused_by_name_with_the_reason(tmp_path):
    for name, reason in _bad_files(tmp_path).items():
        with pytest.raises(BulletinError, match=re.escape(f"{name}: ") + ".*" + re.escape(reason)):
            parse_issue(tmp_path / name, MAX_FILE_BYTES)


def test_add_indexes_the_good_pdf_and_names_each_bad_file(capsys, data_dir, tmp_path):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    before = store.current()
    reasons = _bad_files(tmp_path)
    bad = [str(tmp_path / name) for name in reasons]
    assert main(["index", "add", *bad]) == 1  # nothing readable: no new version
    assert store.current() == before
    capsys.readouterr()

    good = tmp_path / NEW_ISSUE.with_suffix(".pdf").name
    render_pdf(issue_sections(NEW_ISSUE), good, PdfLayout(columns=2, title_size=13.0))
    assert main(["index", "preview", str(good)]) == 0
    shown = capsys.readouterr().out
    assert f"{good.name}: pdf, issue 2023-02-06, dated 2023-02-06 (from file name)" in shown
    assert "dropped" in shown and "- 1 -" in shown
    assert store.current() == before  # preview indexes nothing
    assert main(["index", "preview", "--json", str(good)]) == 0
    preview = json.loads(capsys.readouterr().out)
    expected = parse_issue(NEW_ISSUE, MAX_FILE_BYTES)
    assert [a["title"] for a in preview["articles"]] == [a.title for a in expected.articles]
    assert [a["chars"] for a in preview["articles"]] == [len(a.body) for a in expected.articles]

    assert main(["index", "add", *bad[:2], str(good), *bad[2:]]) == 1
    out = capsys.readouterr().out
    for name, reason in reasons.items():
        assert f"FAILED {name}: " in out and reason in out
    assert "added: 2023-02-06" in out and "layout repaired: 2023-02-06 (pdf)" in out
    snapshot = store.load()
    assert store.current() != before and "2023-02-06" in snapshot.issues
    titles = [a.title for a in snapshot.articles.values() if a.issue_id == "2023-02-06"]
    assert sorted(titles) == sorted(a.title for a in expected.articles)


def test_a_word_header_dates_the_issue_and_a_page_headline_titles_its_article(tmp_path):
    from docx import Document

    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "东昌府区新闻简报 2023年3月20日"
    doc.add_heading("区图书馆恢复夜间开放", level=1)
    doc.add_paragraph("东昌府讯 区图书馆自3月20日起恢复夜间开放，开放时间延长至21:00。")
    doc.save(str(tmp_path / "简报.docx"))
    issue = parse_issue(tmp_path / "简报.docx", MAX_FILE_BYTES)
    assert (issue.issue_date, issue.date_source) == (date(2023, 3, 20), "masthead")
    assert "2023年3月20日" not in issue.articles[0].body

    (tmp_path / "2023-03-20.html").write_text(
        "<html><body><div class='title'><h1>区图书馆恢复夜间开放</h1></div><div class='share'>分享到微信</div>"
        "<div class='content'><p>东昌府讯 区图书馆自3月20日起恢复夜间开放。</p><p>开放时间延长至21:00。</p></div>"
        "<div class='related'><p>相关新闻：区文化馆开展培训活动。</p></div></body></html>",
        "utf-8",
    )
    [article] = parse_issue(tmp_path / "2023-03-20.html", MAX_FILE_BYTES).articles
    assert article.title == "区图书馆恢复夜间开放"
    assert article.body == "东昌府讯 区图书馆自3月20日起恢复夜间开放。\n\n开放时间延长至21:00。"


def test_build_takes_every_format_from_a_folder(tmp_path):
    from index.builder import bulletin_files

    for name in ("a.txt", "b.PDF", "c.docx", "d.html", "e.htm", "README.md", "f.doc.bak"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in bulletin_files(tmp_path)] == ["a.txt", "b.PDF", "c.docx", "d.html", "e.htm"]


def test_a_scanned_page_inside_a_typeset_pdf_is_reported(tmp_path, capsys):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(tmp_path / "2023-03-27.pdf"))
    pdf.setFont("STSong-Light", 16)
    pdf.drawString(72, 760, "区图书馆恢复夜间开放")
    pdf.setFont("STSong-Light", 10.5)
    pdf.drawString(72, 730, "东昌府讯 区图书馆自3月20日起恢复夜间开放。")
    pdf.drawString(72, 714, "开放时间延长至21:00。")
    pdf.showPage()
    pdf.rect(72, 300, 200, 200, fill=1)  # a page of graphics only, as a scanned page reads
    pdf.showPage()
    pdf.save()
    issue = parse_issue(tmp_path / "2023-03-27.pdf", MAX_FILE_BYTES)
    assert [a.title for a in issue.articles] == ["区图书馆恢复夜间开放"]
    assert issue.pages_without_text == [2]
    assert main(["index", "preview", str(tmp_path / "2023-03-27.pdf")]) == 0
    assert "NOT INDEXED: pages 2 have no text layer (scanned?); OCR is not supported" in capsys.readouterr().out
