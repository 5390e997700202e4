"""RESULTS.md: the main table of `benchmarks.run`, then one section per side benchmark (parsing, PDF add,
push), each rebuilt from that benchmark's saved JSON, so that re-running any one keeps the others' figures.

The benchmarks import this module to save their figures; it imports none of them."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PARSE_RESULTS = HERE / "parse_results.json"
PARSE_HEADING = "## Parsing one large file"
PDF_RESULTS = HERE / "pdf_results.json"
PDF_HEADING = "## Adding a PDF issue"
PUSH_RESULTS = HERE / "push_results.json"
HEADING = "## Pushing a new issue to followers"
READER_RESULTS = HERE / "reader_results.json"
READER_HEADING = "## Answering with the local reader"
SIDE_HEADINGS = (
    "## Parsing one large file",
    "## Adding a PDF issue",
    "## Pushing a new issue to followers",
    READER_HEADING,
)


def write_results(head: str | None = None) -> None:
    """Rewrite RESULTS.md: `head` (default: the file's text before its first side section), then every
    side section that has saved figures."""
    if head is None:
        text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
        cut = min((i for i in (text.find(f"\n{h}") for h in SIDE_HEADINGS) if i >= 0), default=len(text))
        head = text[:cut]
    RESULTS.write_text(
        head.rstrip("\n") + "\n" + parse_section() + pdf_section() + push_section() + reader_section(), "utf-8"
    )


def parse_section() -> str:
    """The RESULTS.md section for the saved parse measurements ('' when there are none)."""
    if not PARSE_RESULTS.exists():
        return ""
    rows = json.loads(PARSE_RESULTS.read_text("utf-8"))
    lines = [
        "| headings | file MB | articles | fragments removed | parse s | peak RSS MB (whole process) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['headings']:,} | {r['file_mb']} | {r['articles']:,} | {r['fragments_removed']} | {r['seconds']} | "
        f"{r['peak_rss_mb']} |"
        for r in rows
    ]
    return (
        f"\n{PARSE_HEADING}\n\n`python -m benchmarks.run --parse-headings 10000`: one issue file of short "
        "articles (a heading and one or two bundled sentences each), parsed by `parse_issue` (decoding, "
        "paragraph repair, the pasted-fragment cleaner) in a fresh process.\n\n" + "\n".join(lines) + "\n"
    )


def pdf_section() -> str:
    """The RESULTS.md section for the saved PDF measurement ('' when there is none)."""
    if not PDF_RESULTS.exists():
        return ""
    r = json.loads(PDF_RESULTS.read_text("utf-8"))
    return (
        f"\n{PDF_HEADING}\n\n`python -m benchmarks.pdf_add`: `index add` of a {r['pages']}-page two-column PDF "
        "(running headers, page numbers, CJK text; typeset by `benchmarks/render.py` from the bundled "
        f"articles) to an index of one issue, on {r['cores']} cores, model loaded. Target: ≤ 10 s beyond embedding.\n\n"
        "| pages | PDF KB | articles | characters | passages embedded | read + repair s | add s | "
        "of which embedding s | beyond embedding s |\n|---|---|---|---|---|---|---|---|---|\n"
        f"| {r['pages']} | {r['pdf_kb']} | {r['articles']} | {r['chars']:,} | {r['passages_embedded']} | "
        f"{r['parse_s']} | {r['add_s']} | {r['embed_s']} | **{r['beyond_embedding_s']}** |\n"
    )


def topics_table(result: dict) -> str:
    return (
        f"\n`python -m benchmarks.push --topics {result['topics_per_chat']}`: planning only (`plan_push`), "
        f"{result['chats']:,} chats each following {result['topics_per_chat']} topics no other chat follows "
        f"({result['distinct_topics']:,} distinct topics of two bulletin words), the latest bundled issue "
        f"({result['issue_articles']} articles) new; matching is capped at TOPICS.plan_seconds "
        f"({result['cap_s']:.0f} s), the topics not reached skipped and counted in the log. *one at a time*: "
        "the previous matching (one model call per topic), measured on 40 of the topics.\n\n"
        "| case | plan s | topics weighed | skipped | messages | ms a topic | one at a time: ms a topic | … all |\n"
        "|---|---|---|---|---|---|---|---|\n"
        f"| {result['chats']:,} chats × {result['topics_per_chat']} distinct topics: planned in ≤ "
        f"{result['cap_s']:.0f} s | {result['plan_s']} | {result['weighed']:,} | {result['skipped']:,} | "
        f"{result['messages']:,} | {result['batched_ms_per_topic']} | {result['one_at_a_time_ms_per_topic']} | "
        f"{result['one_at_a_time_s_all'] / 60:.0f} min |\n"
    )


def push_section() -> str:
    """The RESULTS.md section for the saved push measurement ('' when there is none)."""
    if not PUSH_RESULTS.exists():
        return ""
    result = json.loads(PUSH_RESULTS.read_text("utf-8"))
    topics = topics_table(result["topics"]) if "topics" in result else ""
    return (
        f"\n{HEADING}\n\n`python -m benchmarks.push --followers {result['followers']}`: the real Application "
        "(AIORateLimiter, job queue) against the tests' fake Bot API on 127.0.0.1; every follower follows 医保 "
        "(every fourth also /digest on); `index add` of a small issue while serving. *plan*: from the version "
        "switch to the outbox written (topic matching, rendering, one transaction); *send*: from then to the "
        "last message recorded sent.\n\n"
        "| followers | messages sent | failed | plan s | send s | messages/s held | most in any 1 s |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {result['followers']:,} | {result['messages']:,} | {result['failed']} | {result['plan_s']} | "
        f"{result['send_s']} | {result['per_second']} | {result['max_in_one_second']} |\n"
        f"{topics}"
    )


def reader_section() -> str:
    """The RESULTS.md section for the saved reader measurement ('' when there is none)."""
    if not READER_RESULTS.exists():
        return ""
    r = json.loads(READER_RESULTS.read_text("utf-8"))
    return (
        f"\n{READER_HEADING}\n\n`python -m benchmarks.reader --model FILE`: the bundled issues, the first "
        f"{r['questions']} trust questions, on {r['cores']} cores (the reader's worker: {r['threads']} threads, "
        f"BULLETIN_READER_TIMEOUT {r['timeout_s']} s; model verified and loaded in {r['load_s']} s). *one at a "
        "time*: `Engine.ask`; *10 at once*: bursts of 10 through `ask_async` as the bot asks, each question "
        "timed from its burst's start; a question the reader cannot read in time gets the offline decision. "
        "Target: p95 ≤ 3 s with the reader.\n\n"
        "| path | questions | p50 ms | p95 ms | decided by the reader |\n|---|---|---|---|---|\n"
        f"| offline, one at a time | {r['questions']} | {r['offline_ms'][0]} | {r['offline_ms'][1]} | – |\n"
        f"| reader, one at a time | {r['questions']} | {r['reader_ms'][0]} | **{r['reader_ms'][1]}** | "
        f"{r['reader_decided']} |\n"
        f"| reader, 10 at once | {r['burst_questions']} | {r['burst_ms'][0]} | {r['burst_ms'][1]} | "
        f"{r['burst_read']} |\n\n"
        f"Memory: the bot's process {r['bot_rss_mb']} MB RSS, the reader's worker {r['worker_rss_mb']} MB "
        "(the 1.0 GB reader file is mapped from disk).\n" + (f"\n{r['note']}\n" if r.get("note") else "")
    )
