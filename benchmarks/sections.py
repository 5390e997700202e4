"""RESULTS.md: the main table of `benchmarks.run`, then one section per side benchmark (parsing, PDF add,
push), each rebuilt from that benchmark's saved JSON, so that re-running any one keeps the others' figures."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SIDE_HEADINGS = ("## Parsing one large file", "## Adding a PDF issue", "## Pushing a new issue to followers")


def write_results(head: str | None = None) -> None:
    """Rewrite RESULTS.md: `head` (default: the file's text before its first side section), then every
    side section that has saved figures."""
    # imported here: those modules import this one to write their sections
    from benchmarks.pdf_add import pdf_section
    from benchmarks.push import push_section
    from benchmarks.run import parse_section

    if head is None:
        text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
        cut = min((i for i in (text.find(f"\n{h}") for h in SIDE_HEADINGS) if i >= 0), default=len(text))
        head = text[:cut]
    RESULTS.write_text(head.rstrip("\n") + "\n" + parse_section() + pdf_section() + push_section(), "utf-8")
