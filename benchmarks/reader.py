"""Answer time and memory with the local reader on, against the offline path, on the bundled issues.

    .venv/bin/python -m benchmarks.reader --model data/reader/qwen2.5-coder-1.5b-instruct-q4_k_m.reader-14.gguf

Builds an index of the bundled issues in benchmarks/out/reader/, starts an Engine with the reader (its
worker process, BULLETIN_READER_THREADS and _TIMEOUT as set, default all cores and 2.5 s), warms it up,
then asks the first N trust questions one at a time (answer p50/p95 offline and with the reader, how many
the reader decided) and in bursts of 10 at once through `ask_async`, as the bot does (each question's
time from the burst's start; the late ones get the offline decision). Memory: peak RSS of the bot's
process and of the reader's worker. Writes benchmarks/reader_results.json and its section of RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

import psutil

from benchmarks.sections import READER_RESULTS, write_results
from bot.engine import Engine, Judges
from bot.settings import available_cores, load_settings
from index.builder import IndexBuilder, bulletin_files
from index.embed import Embedder
from index.store import IndexStore

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE.parent / "samples" / "eval" / "trust_questions.jsonl"


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def ms(values: list[float]) -> tuple[float, float]:
    return round(statistics.median(values) * 1000), round(p95(values) * 1000)


async def bursts(engine: Engine, questions: list[str], size: int) -> tuple[list[float], int]:
    async def timed(question: str, started: float) -> tuple[float, str]:
        answer = await engine.ask_async(question)
        return time.monotonic() - started, answer.path

    times, read = [], 0
    for i in range(0, len(questions) - size + 1, size):
        started = time.monotonic()
        done = await asyncio.gather(*(timed(q, started) for q in questions[i : i + size]))
        times += [t for t, _ in done]
        read += sum(path == "reader" for _, path in done)
    return times, read


def measure(model: Path, count: int) -> dict:
    out = HERE / "out" / "reader"
    shutil.rmtree(out, ignore_errors=True)
    data = out / "data"
    settings = load_settings(data_dir=data, reader_model=model, reader="on")
    embedder = Embedder(settings.embedding_model, settings.embedding_threads)
    embedder.warm_up()
    IndexBuilder(IndexStore(data, settings.keep_versions), embedder, settings.max_file_bytes).build(
        bulletin_files(HERE.parent / "samples" / "bulletins")
    )
    engine = Engine(settings)
    engine.embedder = embedder
    reader = engine.judges.reader
    assert reader is not None
    started = time.monotonic()
    engine.warm_up()
    reader.wait_ready(300)
    load_s = time.monotonic() - started
    lines = QUESTIONS.read_text("utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines][:count]
    offline_times, reader_times, decided = [], [], 0
    for question in questions:
        t = time.monotonic()
        engine.ask(question, today=date.today(), judges=Judges())
        offline_times.append(time.monotonic() - t)
        t = time.monotonic()
        answer = engine.ask(question, today=date.today())
        reader_times.append(time.monotonic() - t)
        decided += answer.path == "reader"
    burst_times, burst_read = asyncio.run(bursts(engine, questions, 10))
    assert reader.worker is not None and reader.worker._process is not None
    child = psutil.Process(reader.worker._process.pid)
    child_rss = child.memory_info().rss
    parent_peak = psutil.Process(os.getpid()).memory_info().rss
    reader.stop()
    return {
        "cores": available_cores(),
        "threads": settings.reader_threads,
        "timeout_s": settings.reader_timeout,
        "questions": len(questions),
        "load_s": round(load_s, 1),
        "offline_ms": ms(offline_times),
        "reader_ms": ms(reader_times),
        "reader_decided": decided,
        "burst_ms": ms(burst_times),
        "burst_questions": len(burst_times),
        "burst_read": burst_read,
        "bot_rss_mb": round(parent_peak / 2**20),
        "worker_rss_mb": round(child_rss / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the reader's GGUF file")
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    result = measure(args.model, args.questions)
    READER_RESULTS.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    write_results()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
