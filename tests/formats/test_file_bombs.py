"""Small staff files that unpack or draw far more than they weigh: each refused at a named bound (or read
correctly) in bounded time and memory; any reader that still runs too long or needs too much memory is stopped
by the bounded child process, and the other files of the command are indexed."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from index.guard import FileReader
from index.types import BulletinError

from conftest import MAX_FILE_BYTES, NEW_ISSUE

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
TITLE = (
    "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>区图书馆开放</w:t></w:r></w:p><w:p><w:r><w:t>东昌府讯 开放。</w:t></w:r></w:p>"
)
BOUND = 20.0  # seconds a bomb may take here (each took a minute or more, or ran out of memory, before)


def pdf(path: Path, pages: list[bytes], stream: bytes | None = None) -> Path:
    """A PDF in Helvetica whose pages draw these content streams (compressed; or one stream given as is)."""
    streams = [stream] if stream else [zlib.compress(page, 9) for page in pages]
    kids = [f"{3 + 2 * n} 0 R" for n in range(len(streams))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode(),
    ]
    for n, data in enumerate(streams):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * n} 0 R /Resources "
            "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>".encode()
        )
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(
        b"%010d 00000 n \n" % o for o in offsets
    )
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(out)
    return path


def docx(path: Path, body: str) -> Path:
    """A Word file of one document part (python-docx needs no more)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override '
            'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>',
        )
        archive.writestr("word/document.xml", f"<w:document {W}><w:body>{TITLE}{body}</w:body></w:document>")
    path.write_bytes(buffer.getvalue())
    return path


def million_characters(path: Path) -> Path:
    return pdf(path, [b"BT /F1 1 Tf 10 10 Td (" + b"a" * 1_000_000 + b") Tj ET"])


def empty_paragraphs(path: Path, xml_bytes: int) -> Path:
    return docx(path, "<w:p/>" * (xml_bytes // 6))


def read(path: Path, reader: FileReader | None = None):
    """The file parsed by the bounded child process; (issue or refusal message, seconds taken)."""
    started = time.monotonic()
    with FileReader(BOUND) if reader is None else reader as bounded:
        try:
            result = bounded.parse(path, MAX_FILE_BYTES)
        except BulletinError as exc:
            result = str(exc)
    return result, time.monotonic() - started


def test_a_pdf_drawing_a_million_characters_on_one_page_is_refused_at_the_page_bound(tmp_path):
    """1.6 KB: 92 s and 2.2 GB before."""
    path = million_characters(tmp_path / "2023-09-10.pdf")
    assert path.stat().st_size < 1_700
    refusal, seconds = read(path)
    assert refusal == "2023-09-10.pdf: characters drawn on page 1: over the limit of 20,000"
    assert seconds < BOUND


def test_a_pdf_drawing_many_pages_is_refused_at_the_file_bound(tmp_path):
    page = b"BT /F1 1 Tf 10 10 Td (" + b"a" * 19_000 + b") Tj ET"
    refusal, _ = read(pdf(tmp_path / "many.pdf", [page] * 6))
    assert refusal == "many.pdf: characters drawn in the file: over the limit of 100,000"


def test_a_word_cell_spanning_two_billion_columns_is_read_once(tmp_path):
    """1 KB, gridSpan="2147483647": over 2.7 GB in 60 s before; the span is clamped to the table's grid."""
    rows = (
        '<w:tr><w:tc><w:tcPr><w:gridSpan w:val="2147483647"/></w:tcPr><w:p><w:r><w:t>开放时间</w:t></w:r></w:p></w:tc>'
        "</w:tr><w:tr><w:tc><w:p><w:r><w:t>周一</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>9:00</w:t></w:r></w:p>"
        "</w:tc></w:tr>"
    )
    path = docx(tmp_path / "2023-09-11.docx", f"<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>{rows}</w:tbl>")
    assert path.stat().st_size < 1_200
    issue, seconds = read(path)
    assert issue.articles[0].body == "东昌府讯 开放。\n\n开放时间\n周一\u30009:00"
    assert seconds < 10


def test_a_word_file_of_empty_paragraphs_is_refused_at_the_paragraph_bound(tmp_path):
    """8 KB, 5 MB of <w:p/>: 33 s before."""
    path = empty_paragraphs(tmp_path / "2023-09-12.docx", 5_000_000)
    assert path.stat().st_size < 10_000
    refusal, seconds = read(path)
    assert refusal == "2023-09-12.docx: paragraphs: 833,335, over the limit of 20,000"
    assert seconds < BOUND


def test_a_word_file_unpacking_to_20_mb_of_xml_is_refused_before_parsing(tmp_path):
    """30 KB, 20 MB of <w:p/>: over 110 s and 1.1 GB before."""
    path = empty_paragraphs(tmp_path / "2023-09-13.docx", 20_000_000)
    assert path.stat().st_size < 32_000
    refusal, seconds = read(path)
    assert refusal.startswith("2023-09-13.docx: XML unpacked (bytes): 20,000,")
    assert refusal.endswith(", over the limit of 10,000,000")
    assert seconds < 10


def test_a_chain_of_1200_merged_rows_is_read_row_by_row(tmp_path):
    """72 s, then RecursionError before; a merged cell with nothing above it is empty (ValueError before)."""
    first = '<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>采样点</w:t></w:r></w:p></w:tc>'
    row = "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc></w:tr>"
    rows = first + "<w:tc><w:p><w:r><w:t>0</w:t></w:r></w:p></w:tc></w:tr>" + "".join(map(row.format, range(1, 1200)))
    orphan = f"<w:tbl>{row.format('甲')}</w:tbl>"  # its merged cell has nothing above it
    issue, seconds = read(docx(tmp_path / "2023-09-14.docx", f"<w:tbl>{rows}</w:tbl>{orphan}"))
    lines = issue.articles[0].body.split("\n\n")[1].split("\n")
    assert lines == [f"采样点\u3000{n}" for n in range(1200)]
    assert issue.articles[0].body.endswith("\n\n甲")
    assert seconds < BOUND


def test_a_word_file_of_5000_section_breaks_is_refused_at_the_section_bound(tmp_path):
    """python-docx finds each section's header through the sections before it: 59 s, then RecursionError."""
    path = docx(tmp_path / "2023-09-15.docx", "<w:p><w:pPr><w:sectPr/></w:pPr></w:p>" * 5000)
    refusal, seconds = read(path)
    assert refusal == "2023-09-15.docx: sections: 5,000, over the limit of 100"
    assert seconds < 10


def test_index_add_refuses_each_bomb_by_name_and_indexes_the_good_file(data_dir, tmp_path, capsys):
    good = tmp_path / NEW_ISSUE.name
    shutil.copy(NEW_ISSUE, good)
    bombs = [million_characters(tmp_path / "bomb.pdf"), empty_paragraphs(tmp_path / "bomb.docx", 5_000_000)]
    started = time.monotonic()
    code = main(["index", "add", str(good), *map(str, bombs)])
    out = capsys.readouterr()
    assert time.monotonic() - started < 90  # the model's load and the good file's embedding included
    assert code == 1
    assert "FAILED bomb.pdf: characters drawn on page 1: over the limit of 20,000" in out.out + out.err
    assert "FAILED bomb.docx: paragraphs: 833,335, over the limit of 20,000" in out.out + out.err
    main(["index", "list", "--json"])
    assert NEW_ISSUE.stem in capsys.readouterr().out


def slow_pdf(path: Path) -> Path:
    """A PDF inside every bound that still takes over a second: 5 pages of 19,000 characters (1.5 s on
    2 loaded cores; pdfminer lays out each character in Python)."""
    lines = b"".join(b"(" + b"a" * 150 + b") Tj 0 -3.6 Td " for _ in range(19_000 // 150))
    return pdf(path, [b"BT /F1 3 Tf 10 830 Td " + lines + b" ET"] * 5)


def test_a_reader_running_past_the_time_bound_is_killed_and_the_next_file_read(tmp_path):
    slow = slow_pdf(tmp_path / "slow.pdf")
    reader = FileReader(seconds=0.5)
    refusal, seconds = read(slow, reader)
    assert reader.started == 1
    assert refusal.startswith("slow.pdf: reading it took longer than 0.5 s, the limit for one file")
    assert 0.5 <= seconds < 5
    with reader:
        issue = reader.parse(NEW_ISSUE, MAX_FILE_BYTES)  # a new child for the next file
    assert issue.articles and reader.started == 2


def inflating(mebibytes: int) -> bytes:
    """A zlib stream of that many MiB of spaces (~1 KB each), made by repeating one fully flushed block."""
    chunk, check = b" " * (1 << 20), 1
    z = zlib.compressobj(9)
    head, block = (z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH) for _ in range(2))
    for _ in range(mebibytes):
        check = zlib.adler32(chunk, check)
    return head + block * (mebibytes - 1) + z.flush()[:-4] + check.to_bytes(4, "big")


@pytest.mark.parametrize("setting", ["BULLETIN_PARSE_SECONDS", "BULLETIN_PARSE_MEMORY_BYTES"])
def test_index_add_stops_a_slow_or_hungry_file_and_indexes_the_good_one(
    data_dir, tmp_path, capsys, monkeypatch, setting
):
    """A file inside the readers' bounds that takes longer, or a page that inflates to 1 GiB (1 MB of PDF):
    that file's one-line refusal, the lock released, the good file indexed."""
    good = tmp_path / NEW_ISSUE.name
    shutil.copy(NEW_ISSUE, good)
    if setting == "BULLETIN_PARSE_SECONDS":
        monkeypatch.setenv(setting, "0.5")
        bad, reason = slow_pdf(tmp_path / "bad.pdf"), "reading it took longer than 0.5 s"
    else:
        monkeypatch.setenv(setting, str(512 << 20))
        bad, reason = pdf(tmp_path / "bad.pdf", [], inflating(1024)), "reading it needed more than 512 MiB of memory"
    code = main(["index", "add", str(bad), str(good)])
    out = capsys.readouterr()
    assert code == 1 and f"FAILED bad.pdf: {reason}" in out.out + out.err
    assert "Traceback" not in out.out + out.err
    main(["index", "list", "--json"])
    assert NEW_ISSUE.stem in capsys.readouterr().out
    assert main(["index", "remove", NEW_ISSUE.stem]) == 0  # index.lock is free


def test_index_preview_is_bounded_like_add(tmp_path, capsys, monkeypatch):
    """The PDF reads in 1.5 s here (over 120 s before: pdfplumber's dedupe is quadratic); preview stops it at 0.5 s."""
    monkeypatch.setenv("BULLETIN_PARSE_SECONDS", "0.5")
    code = main(["index", "preview", str(slow_pdf(tmp_path / "slow.pdf"))])
    assert code == 1 and "error: slow.pdf: reading it took longer than 0.5 s" in capsys.readouterr().err
