"""A serving process for the benchmark: start, load the index, answer questions, report peak memory.

Prints one JSON line: the wall-clock time of the first answer (the caller subtracts its own
start time, so interpreter start-up counts) and peak resident memory after answering every
question once. Usage: python -m benchmarks.probe DATA_DIR QUESTIONS_JSONL
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from bot.engine import Engine
    from bot.settings import load_settings

    data_dir, questions_path = sys.argv[1], sys.argv[2]
    with open(questions_path, encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    engine = Engine(load_settings(data_dir=data_dir))
    engine.ask(questions[0])
    first_answer_at = time.time()
    for question in questions:
        engine.ask(question)
    print(json.dumps({"first_answer_at": first_answer_at, "peak_rss_mb": round(peak_rss_kib() / 1024, 1)}))


def peak_rss_kib() -> int:
    """This process's resident-memory high-water mark. Not getrusage's ru_maxrss: Linux carries that
    over exec from the parent, so a child of a large benchmark process would report the parent's."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    main()
