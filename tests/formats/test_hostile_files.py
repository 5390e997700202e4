"""Staff files built to make a reader backtrack: refused or read in bounded time, while the index lock is
held, without stopping the good files of the same command."""

from __future__ import annotations

import shutil
import time

from bot.cli import main
from index.formats.detect import detect_kind

from conftest import NEW_ISSUE

COMMENTS = b"<!---->" * 40 + "东昌府讯 区图书馆开放。\n".encode() * 8  # 307 bytes: took over 60 s to sniff


def test_a_page_of_empty_comments_is_sniffed_in_milliseconds():
    started = time.perf_counter()
    assert detect_kind(COMMENTS, "bad.txt") == "text"
    assert detect_kind(b"<!---->" * 500 + b"<html><body>", "page.txt") == "html"
    assert detect_kind(b"\xef\xbb\xbf <!-- a --> \n<!DOCTYPE html>", "page.html") == "html"
    assert time.perf_counter() - started < 0.05


def test_index_add_reads_the_good_file_beside_it(data_dir, tmp_path, capsys):
    bad = tmp_path / "2023-09-02.txt"
    bad.write_bytes(COMMENTS)
    good = tmp_path / NEW_ISSUE.name
    shutil.copy(NEW_ISSUE, good)
    started = time.monotonic()
    code = main(["index", "add", str(good), str(bad)])
    out = capsys.readouterr()
    assert time.monotonic() - started < 60  # the model's load included; the sniffing alone ran past 60 s
    assert code == 1 and "FAILED 2023-09-02.txt" in out.out + out.err
    main(["index", "list", "--json"])
    assert NEW_ISSUE.stem in capsys.readouterr().out


def identical_pages_pdf(path):
    """Two identical pages: every line repeats on every page, as a running header does."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    for _ in range(2):
        page.setFont("STSong-Light", 18)
        page.drawString(72, 750, "区图书馆开放时间调整")
        page.setFont("STSong-Light", 11)
        page.drawString(72, 720, "东昌府讯 区图书馆自下周起延长开放时间。")
        page.showPage()
    page.save()


def deep_page(depth: int, tag: str) -> bytes:
    return (
        f"<html><body>{f'<{tag}>' * depth}<h2>医保服务</h2><p>医保业务可在网上办理。</p>{f'</{tag}>' * depth}".encode()
    )


def test_bad_files_of_any_kind_are_refused_by_name_and_the_good_one_indexed(data_dir, tmp_path, capsys):
    """A 2-page PDF of identical pages (IndexError), a page nested 1,200 <div>s deep (RecursionError) and one
    of 5,000 nested <article>s (61 s, then RecursionError) stopped `index add` with a traceback."""
    identical_pages_pdf(tmp_path / "2023-09-04.pdf")
    (tmp_path / "2023-09-05.html").write_bytes(deep_page(1200, "div"))
    (tmp_path / "2023-09-06.html").write_bytes(deep_page(5000, "article"))
    good = tmp_path / NEW_ISSUE.name
    shutil.copy(NEW_ISSUE, good)
    started = time.monotonic()
    names = ["2023-09-04.pdf", "2023-09-05.html", "2023-09-06.html"]
    code = main(["index", "add", *(str(tmp_path / n) for n in names), str(good)])
    out = capsys.readouterr()
    assert time.monotonic() - started < 90
    assert code == 1 and "FAILED 2023-09-04.pdf: every line of the PDF repeats" in out.out + out.err
    assert "Traceback" not in out.out + out.err
    main(["index", "list", "--json"])
    listed = capsys.readouterr().out
    assert NEW_ISSUE.stem in listed and "2023-09-05" in listed and "2023-09-06" in listed  # deep pages read


def test_hidden_web_page_text_is_not_indexed():
    from index.formats.html import html_document

    page = (
        '<html><body><article><h2>医保服务</h2><p>医保业务可在网上办理。<span style="DISPLAY : none">请访问 '
        'http://x.example 领取补贴</span></p><p hidden>隐藏段落。</p><div aria-hidden="true">隐藏二。</div>'
        '<p style="visibility:hidden">隐藏三。</p></article></body></html>'
    )
    document = html_document(page.encode(), "2023-09-07.html")
    text = "".join(s.title + "".join(s.blocks) for s in document.sections)
    assert text == "医保服务医保业务可在网上办理。"


def test_a_symbolic_link_is_refused_by_name(data_dir, tmp_path, capsys):
    secret = tmp_path / ".env"
    secret.write_text("# 东昌府区\nBULLETIN_TELEGRAM_TOKEN=123456:SECRET-TOKEN\n", encoding="utf-8")
    link = tmp_path / "2023-09-02.txt"
    link.symlink_to(secret)
    for command in (["index", "preview", str(link)], ["index", "add", str(link)]):
        code = main(command)
        out = capsys.readouterr()
        assert code == 1 and "2023-09-02.txt: a symbolic link, not a file" in out.out + out.err
        assert "SECRET-TOKEN" not in out.out + out.err
    main(["index", "list", "--json"])
    assert "2023-09-02" not in capsys.readouterr().out


def test_text_of_unmapped_glyph_codes_is_refused_and_a_trace_of_them_dropped():
    """An owner-password PDF (no-copy flag, CID font without a character map) was indexed as 9 articles titled
    "(cid:3206)(cid:3189)…"."""
    import pytest

    from index.formats.pdf import Line, _mapped_text
    from index.types import BulletinError

    def line(text: str) -> Line:
        return Line(page=1, region="full", text=text, x0=0, x1=100, top=0, bottom=10, size=11, bold=False)

    garbage = [line("(cid:3206)(cid:3189)(cid:77)"), line("(cid:12)(cid:3189)东")]
    with pytest.raises(BulletinError, match="2023-09-08.pdf: .* glyph codes with no character map"):
        _mapped_text(garbage, "2023-09-08.pdf")
    good = [line("东昌府讯 区图书馆自下周起延长开放时间，读者可凭证借阅图书，欢迎广大市民前来。" * 6 + "(cid:5)")]
    assert _mapped_text(good, "2023-09-09.pdf")[0].text.endswith("欢迎广大市民前来。")
