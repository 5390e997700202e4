"""Parse one bulletin file in a fresh process: seconds and peak memory (the fragment cleaner's worst case).

Prints one JSON line. Usage: python -m benchmarks.parse_probe FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from benchmarks.probe import peak_rss_kib
    from index.parse import parse_issue

    path = Path(sys.argv[1])
    started = time.perf_counter()
    issue = parse_issue(path, max_bytes=10**8)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "file_mb": round(path.stat().st_size / 2**20, 2),
                "articles": len(issue.articles),
                "fragments_removed": len(issue.fragments_removed),
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak_rss_kib() / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
