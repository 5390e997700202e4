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
