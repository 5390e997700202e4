"""Speed, memory and scale, side by side with the BM25-only and dense-only baselines.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python -m benchmarks.run                      # 1k, 10k and 50k articles
    .venv/bin/python -m benchmarks.run --sizes 1000 10000   # a quicker run
    .venv/bin/python -m benchmarks.run --parse-headings 10000  # only: parse one 10,000-heading file

Writes benchmarks/RESULTS.md (the table), benchmarks/results.json and benchmarks/results.png.
Corpora and indexes go to benchmarks/out/ (not committed)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.generate import ARTICLES_PER_ISSUE, generate, heading_file
from benchmarks.sections import PARSE_RESULTS, write_results
from bot.answering.retrieve import MODES, HybridRetriever
from bot.engine import Engine
from bot.settings import available_cores, load_settings
from index.builder import IndexBuilder, bulletin_files
from index.embed import Embedder
from index.store import IndexStore

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE.parent / "samples" / "eval" / "questions.jsonl"
ROUNDS = 3  # each question asked this many times per mode for the latency percentiles


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(samples, q)), 1) for q in (50, 95, 99)}


def latencies(engine: Engine, snapshot, questions: list[str]) -> dict[str, dict[str, float]]:
    """Warm latency (ms): retrieval alone in each mode, and the whole answer (hybrid)."""
    out = {}
    for mode in MODES:
        retriever = HybridRetriever(snapshot, engine.embedder, mode)
        retriever.warm_up()
        retriever.search(questions[0])
        samples = []
        for _ in range(ROUNDS):
            for question in questions:
                started = time.perf_counter()
                retriever.search(question, limit=10)
                samples.append((time.perf_counter() - started) * 1000)
        out[mode] = _percentiles(samples)
    samples = []
    for _ in range(ROUNDS):
        for question in questions:
            started = time.perf_counter()
            engine.ask(question)
            samples.append((time.perf_counter() - started) * 1000)
    out["answer"] = _percentiles(samples)
    return out


def recall_at_10(snapshot, embedder: Embedder, questions: list[str]) -> float:
    """Recall@10 of the index in use against exact search, over the questions and sampled passages."""
    index = snapshot.faiss_index
    if isinstance(index, faiss.IndexFlat):
        return 1.0
    vectors = index.reconstruct_n(0, index.ntotal)
    exact = faiss.IndexFlatIP(index.d)
    exact.add(vectors)
    rng = np.random.default_rng(0)
    queries = np.vstack([embedder.encode(questions), vectors[rng.choice(index.ntotal, 200, replace=False)]])
    approx_scores, _ = index.search(queries, 10)
    exact_scores, _ = exact.search(queries, 10)
    # tie-aware: the generated corpus repeats sentences, so many passages have identical vectors and
    # either of two equal neighbours is a correct answer; a hit is a result scoring at least the
    # exact 10th best (within float rounding)
    threshold = exact_scores[:, 9:10] - 1e-5
    return round(float(np.mean(approx_scores >= threshold)), 4)


def embed_rate_200(snapshot, embedder: Embedder) -> float:
    """Passages/s of embedding alone on body passages of 180–220 characters (the generated
    corpus's passages are shorter on average, which flatters the build figure)."""
    texts = [p.text for p in snapshot.passages if 180 <= len(p.text) <= 220][:3000]
    started = time.perf_counter()
    embedder.encode(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def probe(data_dir: Path) -> dict:
    """Cold start and peak memory of a fresh serving process."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(HERE.parent))
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", str(data_dir), str(QUESTIONS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"cold_start_s": round(result["first_answer_at"] - started, 2), "peak_rss_mb": result["peak_rss_mb"]}


def parse_benchmark(headings: int, out: Path) -> dict:
    """Seconds and peak memory of parsing one file of `headings` short articles, in a fresh process."""
    path = heading_file(out / f"headings-{headings}.txt", headings)
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.parse_probe", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    return {"headings": headings, **json.loads(done.stdout.strip().splitlines()[-1])}


BUILD_FIELDS = ("articles", "passages", "build_s", "passages_per_s", "index_mb", "add_issue_s", "add_issue_embedded")


def run_size(
    size: int, embedder: Embedder, questions: list[str], out: Path, add_issue: bool, reuse: dict | None = None
) -> dict:
    """Build (or, with `reuse`, keep the saved build figures and index) and measure one size."""
    data = out / f"data-{size}"
    store = IndexStore(data, keep_versions=2)
    builder = IndexBuilder(store, embedder, max_file_bytes=10**8)
    if reuse:
        row = {k: reuse[k] for k in BUILD_FIELDS if k in reuse}
        add_issue = False
    else:
        generate(size, out / "corpus")  # prefix-stable: one folder grows with the sizes
        files = bulletin_files(out / "corpus")[: -(-size // ARTICLES_PER_ISSUE)]
        shutil.rmtree(data, ignore_errors=True)
        started = time.perf_counter()
        report = builder.build(files)
        build_s = time.perf_counter() - started
        row = {
            "articles": report.articles,
            "passages": report.passages,
            "build_s": round(build_s, 1),
            "passages_per_s": round(report.passages / build_s, 1),
            "index_mb": round(folder_mb(data / "versions" / report.version), 1),
        }
    engine = Engine(load_settings(data_dir=data))
    engine.embedder = embedder
    engine.warm_up()
    snapshot = engine.loaded.snapshot
    row["faiss"] = type(snapshot.faiss_index).__name__
    row["recall_at_10"] = recall_at_10(snapshot, embedder, questions)
    row["mean_passage_chars"] = round(float(np.mean([len(p.text) for p in snapshot.passages])), 1)
    row["embed_200_chars_per_s"] = embed_rate_200(snapshot, embedder)
    row["latency_ms"] = latencies(engine, snapshot, questions)
    del engine, snapshot
    if add_issue:
        extra = generate(ARTICLES_PER_ISSUE, out / "extra", seed=99, first_issue=9000)
        builder.warm_up()  # model and dictionary loading are not part of the add
        started = time.perf_counter()
        added = builder.add(extra)
        row["add_issue_s"] = round(time.perf_counter() - started, 2)
        row["add_issue_embedded"] = added.embedded
    row.update(probe(data))
    print(json.dumps({size: row}, ensure_ascii=False), flush=True)
    return row


def write_outputs(results: dict[int, dict]) -> None:
    (HERE / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    header = (
        "| articles | passages (mean chars) | FAISS | recall@10 | build s | passages/s | "
        "embed only, 200-char passages/s | index MB | "
        "answer (hybrid) p50/p95/p99 ms | search: hybrid | BM25 only | dense only | "
        "peak RSS MB | cold start s | add 1 issue s |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]

    def lat(r: dict, mode: str) -> str:
        return "/".join(str(r["latency_ms"][mode][k]) for k in ("p50", "p95", "p99"))

    for _, r in sorted(results.items()):
        add = f"{r['add_issue_s']} ({r['add_issue_embedded']} embedded)" if "add_issue_s" in r else "–"
        lines.append(
            f"| {r['articles']:,} | {r['passages']:,} ({r.get('mean_passage_chars', '?')}) | {r['faiss']} | "
            f"{r['recall_at_10']} | {r['build_s']} | {r['passages_per_s']} | "
            f"{r.get('embed_200_chars_per_s', '?')} | {r['index_mb']} | {lat(r, 'answer')} | {lat(r, 'hybrid')} | "
            f"{lat(r, 'bm25')} | {lat(r, 'dense')} | {r['peak_rss_mb']} | {r['cold_start_s']} | {add} |"
        )
    machine = f"{available_cores()} cores, Python {sys.version.split()[0]}, faiss {faiss.__version__}"
    text = (
        f"# Benchmark results\n\nRegenerate: `.venv/bin/python -m benchmarks.run` ({machine}; model `use-m3`).\n"
        f"Latency (ms, p50/p95/p99, warm, model loaded): the {len(QUESTIONS.read_text().splitlines())} evaluation "
        f"questions × {ROUNDS}; *answer* is `engine.ask` (hybrid retrieval, sentence choice, citations), *search* is "
        "retrieval alone per mode. Build: parse, chunk, embed, segment, write (model load excluded).\n"
        "Peak RSS and cold start (process start → first answer) come from a fresh serving process. recall@10 is "
        "against exact search over the index's own vectors, ties counted as hits.\n"
        "Targets at 50k articles: answer p95 ≤ 100 ms, recall@10 ≥ 0.98, peak RSS ≤ 1,500 MB.\n\n"
        + "\n".join(lines)
        + "".join(f"\n\n{size:,} articles: {r['note']}" for size, r in sorted(results.items()) if r.get("note"))
        + "\n\n![latency and memory against corpus size](results.png)\n"
    )
    write_results(text)
    plot(results)


def plot(results: dict[int, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode in ("answer", *MODES):
        label = "answer (hybrid)" if mode == "answer" else f"search {mode}"
        left.plot(sizes, [results[s]["latency_ms"][mode]["p95"] for s in sizes], marker="o", label=label)
    left.set(xscale="log", xlabel="articles", ylabel="ms", title="question latency (p95, warm)")
    left.legend()
    right.plot(sizes, [results[s]["peak_rss_mb"] for s in sizes], marker="o", color="tab:red")
    right.set(xscale="log", xlabel="articles", ylabel="MB", title="serving process peak RSS")
    fig.tight_layout()
    fig.savefig(HERE / "results.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--merge", action="store_true", help="keep other sizes' rows from results.json")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --merge: keep saved build figures and indexes, measure the rest again",
    )
    parser.add_argument(
        "--parse-headings",
        type=int,
        metavar="N",
        help="only measure parsing one file of N short articles, and record it in RESULTS.md",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.parse_headings:
        row = parse_benchmark(args.parse_headings, args.out)
        print(json.dumps(row), flush=True)
        PARSE_RESULTS.write_text(json.dumps([row], indent=1), "utf-8")
        write_results()
        return
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text("utf-8").splitlines()]
    embedder = Embedder("use-m3", threads=available_cores(), batch_size=32)
    embedder.warm_up()
    saved = HERE / "results.json"
    results = (
        {int(k): v for k, v in json.loads(saved.read_text("utf-8")).items()} if args.merge and saved.exists() else {}
    )
    for size in sorted(args.sizes):
        reuse = results.get(size) if args.reuse and (args.out / f"data-{size}" / "CURRENT").exists() else None
        results[size] = run_size(size, embedder, questions, args.out, size == max(args.sizes), reuse)
        write_outputs(results)


if __name__ == "__main__":
    main()
