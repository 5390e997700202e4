"""`index add` of a 12-page PDF issue: the time beyond embedding (reading the PDF, layout, repair,
chunking, BM25, writing the version) must stay ≤ 10 s on 2 cores.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python -m benchmarks.pdf_add

The PDF is typeset by benchmarks/render.py in two columns with running headers and page numbers,
from the bundled issues' articles (to 12 pages); it is added to an index of the holdout notice, so
every passage is new and embedded. Writes benchmarks/pdf_results.json and its section of RESULTS.md."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.render import PdfLayout, issue_sections, render_pdf
from benchmarks.sections import PDF_RESULTS, write_results
from bot.settings import available_cores
from index.builder import IndexBuilder
from index.embed import Embedder
from index.parse import parse_issue
from index.store import IndexStore
from index.types import Section

HERE = Path(__file__).resolve().parent
BASE_ISSUE = HERE.parent / "samples" / "eval" / "holdout" / "2023-04-10.txt"
PAGES = 12
LAYOUT = PdfLayout(columns=2, title_size=13.0)
MAX_BYTES = 10**8


class TimedEmbedder(Embedder):
    """The index's embedder, keeping the time spent encoding."""

    encode_seconds = 0.0

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        try:
            return super().encode(texts, progress)
        finally:
            self.encode_seconds += time.perf_counter() - started


def twelve_pages(out: Path) -> int:
    """Render bundled articles, as many as fill PAGES pages, into `out`; returns the page count."""
    articles: list[Section] = [
        s for path in sorted((HERE.parent / "samples" / "bulletins").glob("*.txt")) for s in issue_sections(path)
    ]
    count = len(articles)
    while render_pdf(articles[:count], out, LAYOUT) > PAGES:
        count -= 1
    return render_pdf(articles[:count], out, LAYOUT)


def measure(work: Path) -> dict:
    pdf = work / "2023-05-08.pdf"
    pages = twelve_pages(pdf)
    started = time.perf_counter()
    issue = parse_issue(pdf, MAX_BYTES)
    parse_s = time.perf_counter() - started
    embedder = TimedEmbedder("use-m3", threads=available_cores(), batch_size=32)
    builder = IndexBuilder(IndexStore(work / "data", keep_versions=2), embedder, MAX_BYTES)
    builder.build([BASE_ISSUE])
    builder.warm_up()  # model and dictionary loading are not part of the add
    embedder.encode_seconds = 0.0
    started = time.perf_counter()
    report = builder.add([pdf])
    add_s = time.perf_counter() - started
    return {
        "pages": pages,
        "pdf_kb": round(pdf.stat().st_size / 1024, 1),
        "articles": len(issue.articles),
        "chars": sum(len(a.body) for a in issue.articles),
        "passages_embedded": report.embedded,
        "parse_s": round(parse_s, 2),
        "add_s": round(add_s, 2),
        "embed_s": round(embedder.encode_seconds, 2),
        "beyond_embedding_s": round(add_s - embedder.encode_seconds, 2),
        "cores": available_cores(),
    }


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="pdf-add-"))
    try:
        row = measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(row), flush=True)
    PDF_RESULTS.write_text(json.dumps(row, indent=1), "utf-8")
    write_results()


if __name__ == "__main__":
    main()
