"""Deterministic large bulletin corpora in the real format, recombined from the bundled issues.

Article i is the same whatever the corpus size (its random stream depends only on the seed and i),
so the 1k corpus is the first 1k articles of the 10k one. Usage:
    python -m benchmarks.generate 10000 benchmarks/out/corpus-10000
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from index.chunk import split_sentences
from index.parse import parse_issue

BUNDLED = Path(__file__).resolve().parent.parent / "samples" / "bulletins"
DISTRICTS = [
    "东昌府区",
    "茌平区",
    "临清市",
    "阳谷县",
    "莘县",
    "东阿县",
    "冠县",
    "高唐县",
    "历城区",
    "章丘区",
    "泰山区",
    "岱岳区",
    "德城区",
    "陵城区",
    "东营区",
    "河口区",
]
ARTICLES_PER_ISSUE = 12
FIRST_ISSUE = date(2019, 1, 7)


@dataclass(frozen=True)
class Source:
    title: str
    sentences: list[str]
    source: str


def _sources() -> list[Source]:
    sources = []
    for path in sorted(BUNDLED.glob("*.txt")):
        for article in parse_issue(path, max_bytes=10**8).articles:
            sentences = split_sentences(article.body)
            if sentences:
                sources.append(Source(article.title, sentences, article.source or "(区融媒体中心)"))
    return sources


def _localise(text: str, district: str) -> str:
    short = district[:-1] if len(district) > 2 else district
    return text.replace("东昌府区", district).replace("东昌府", short).replace("我区", district)


def article_text(index: int, sources: list[Source], seed: int) -> tuple[str, str]:
    """Title and body (with its source line) of generated article `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    district = rng.choice(DISTRICTS)
    main = rng.choice(sources)
    other = rng.choice(sources)
    title = _localise(main.title, district)
    if rng.random() < 0.5:
        title = f"{title}（{rng.randint(2, 9)}）"
    pool = main.sentences + rng.sample(other.sentences, min(2, len(other.sentences)))
    cuts = sorted(rng.sample(range(1, len(pool)), min(len(pool) - 1, rng.randint(1, 3))))
    paragraphs = ["".join(pool[a:b]) for a, b in zip([0] + cuts, cuts + [len(pool)])]
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    paragraphs[0] = f"东昌府讯 {month}月{day}日，" + paragraphs[0].removeprefix("东昌府讯 ")
    body = "\n\n".join(_localise(p, district) for p in paragraphs)
    return title, f"{body}\n\n{main.source}"


def write_issue(folder: Path, number: int, articles: list[tuple[str, str]]) -> Path:
    """One issue file: two leading blank lines, `#` then `##` headings, no final newline."""
    issue_date = FIRST_ISSUE + timedelta(days=7 * number)
    parts = [f"{'#' if i == 0 else '##'} {title}\n\n{body}" for i, (title, body) in enumerate(articles)]
    path = folder / f"{issue_date.isoformat()}-{number:05d}.txt"
    path.write_text("\n\n" + "\n\n".join(parts), encoding="utf-8")
    return path


def generate(count: int, folder: Path, seed: int = 7, first_issue: int = 0) -> list[Path]:
    """Write `count` articles as issues of 12 into `folder` (reused when already complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".complete-{count}-{seed}"
    if marker.exists():
        return sorted(folder.glob("*.txt"))
    sources = _sources()
    paths = []
    for number, start in enumerate(range(0, count, ARTICLES_PER_ISSUE), start=first_issue):
        articles = [article_text(i, sources, seed) for i in range(start, min(start + ARTICLES_PER_ISSUE, count))]
        paths.append(write_issue(folder, number, articles))
    marker.touch()
    return paths


def heading_file(path: Path, headings: int) -> Path:
    """One issue file of many short articles (a heading and one or two bundled sentences each):
    the shape that made the fragment cleaner compare every pair of articles."""
    sentences = [s for source in _sources() for s in source.sentences]
    rng = random.Random(headings)
    parts = []
    for i in range(headings):
        body = "".join(rng.sample(sentences, rng.randint(1, 2)))
        parts.append(f"{'#' if i == 0 else '##'} 简讯{i + 1}\n\n{body}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n" + "\n\n".join(parts), encoding="utf-8")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{len(generate(args.count, args.folder, args.seed))} issue files in {args.folder}")
