"""What `index add` reads: ordinary files only, never more than the size limit; and what it embeds:
only passage texts the index does not hold yet."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from index.builder import IndexBuilder
from index.parse import parse_issue
from index.store import IndexStore
from index.types import BulletinError

from conftest import KEEP_VERSIONS, MAX_FILE_BYTES, NEW_ISSUE


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "2023-03-06.txt"
    with big.open("wb") as handle:
        handle.write("# 标题\n\n东昌府讯 正文。".encode())
        handle.truncate(50_000_000)  # sparse: 50 MB that take no disk
    tracemalloc.start()
    try:
        with pytest.raises(BulletinError, match="50,000,000 bytes is over the 5,000,000-byte limit"):
            parse_issue(big, max_bytes=5_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the old reader held all 50 MB before checking the size


def test_a_device_is_refused(tmp_path):
    with pytest.raises(BulletinError, match="zero: a character device, not an ordinary file"):
        parse_issue(Path("/dev/zero"), MAX_FILE_BYTES)
    zero = tmp_path / "zero.txt"  # named as a bulletin: refused as the link it is, before the device is opened
    zero.symlink_to("/dev/zero")
    with pytest.raises(BulletinError, match="zero.txt: a symbolic link, not a file"):
        parse_issue(zero, MAX_FILE_BYTES)


def test_a_named_pipe_is_refused_at_once_and_the_other_files_are_indexed(capsys, data_dir, tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.update(code=main(["index", "add", str(fifo), str(NEW_ISSUE)])), daemon=True
    )
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # unblock the reader (the old code waits for a writer while holding the lock)
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=120)
        pytest.fail("index add blocked on a named pipe")
    out = capsys.readouterr().out
    assert outcome["code"] == 1
    assert "FAILED pipe.txt: a named pipe (FIFO), not an ordinary file" in out
    assert "2023-02-06" in IndexStore(data_dir, KEEP_VERSIONS).load().issues


def test_an_issue_repeating_indexed_articles_reuses_their_vectors(data_dir, embedder, tmp_path):
    store = IndexStore(data_dir, KEEP_VERSIONS)
    builder = IndexBuilder(store, embedder, MAX_FILE_BYTES)
    first = builder.add([NEW_ISSUE])
    again = tmp_path / "2023-02-13.txt"  # the same articles and one new one, under another issue id
    again.write_text(
        NEW_ISSUE.read_text("utf-8") + "\n\n## 春季花展下周开幕\n\n东昌府讯 2月10日，记者从区园林局获悉，"
        "春季花展将于2月18日在东昌湖畔开幕，市民可免费入园。\n\n(区园林局)",
        "utf-8",
    )
    report = builder.add([again])
    assert report.embedded == 2 and report.reused == first.embedded  # the new article: title + one passage
    snapshot = store.load()
    rows = {}
    for row, passage in enumerate(snapshot.passages):
        rows.setdefault((snapshot.articles[passage.article_id].title, passage.text), []).append(row)
    repeated = [r for r in rows.values() if len(r) == 2]
    assert len(repeated) == first.embedded
    for a, b in repeated:  # the copies carry the very vectors of the originals
        assert np.array_equal(snapshot.faiss_index.reconstruct(a), snapshot.faiss_index.reconstruct(b))
