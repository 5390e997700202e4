"""Find text that page layout pasted from one article into another, and remove the stray copy.

Runs of text shared by articles are found through an index of 12-character shingles (rolling
hashes, sorted once), so the time grows with the length of the issue, not with the number of
article pairs. Only a run that looks pasted is cut:
- text found in three or more articles is boilerplate ("如有疑问，请拨打…"): layout pastes one
  block into one other article, so it stays everywhere;
- a run shared by two articles is pasted into the one where it breaks a sentence (it begins inside
  one of that article's sentences), or, as whole sentences, where it hangs on the end of a
  paragraph while the other copy is part of a running paragraph — and only if the run's words fit
  the rest of that article worse than the other one's;
- whole sentences that two articles share in the same way (both ending an article, say) stay in both.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.normalize import CJK
from index.text import CLAUSE_STARTS_AFTER, CLOSER_SET, FRAGMENT_SENTENCE_ENDS

SHINGLE = 12  # characters; long enough that ordinary shared phrases do not match
MIN_FRAGMENT = 20  # shortest shared run treated as a pasted fragment
LEADING_PUNCT = "。，、；：！？,.;:!? \n"
# a run that begins inside a sentence in both articles is cut only where it fits at most this
# share as well as in the other article (the real pastes: 0 against 30)
CLEAR_MARGIN = 0.25
_PRIME = np.uint64(1_000_003)


@dataclass(frozen=True)
class SharedRun:
    """A run of identical text found in two articles."""

    a: int  # article index
    a_start: int
    b: int
    b_start: int
    length: int


def _shingle_hashes(text: str) -> np.ndarray:
    """A 64-bit polynomial hash of every SHINGLE-character window of the text."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE + 1
    hashes = np.zeros(max(count, 0), dtype=np.uint64)
    for k in range(SHINGLE if count > 0 else 0):
        hashes = hashes * _PRIME + codes[k : k + count]  # wraps modulo 2**64, as meant
    return hashes


def _shingle_index(bodies: list[str]) -> tuple[list[tuple[int, int, int, int]], list[np.ndarray]]:
    """Seeds (a, i, b, j), a < b: a shingle found in exactly two articles, at its first position in
    each; and per article, which positions start a shingle found in three or more (boilerplate)."""
    hashes = [_shingle_hashes(body) for body in bodies]
    h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    article = np.repeat(np.arange(len(bodies)), [len(x) for x in hashes])
    position = np.concatenate([np.arange(len(x)) for x in hashes]) if hashes else np.zeros(0, np.int64)
    order = np.lexsort((position, article, h))
    h, article, position = h[order], article[order], position[order]
    first = np.ones(len(h), dtype=bool)  # first position of each shingle in each article
    first[1:] = (h[1:] != h[:-1]) | (article[1:] != article[:-1])
    h, article, position = h[first], article[first], position[first]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]) if len(h) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(h)])
    two = starts[sizes == 2]
    seeds = sorted(
        zip(article[two].tolist(), position[two].tolist(), article[two + 1].tolist(), position[two + 1].tolist())
    )
    common = np.isin(np.concatenate(hashes) if hashes else h, h[starts[sizes >= 3]], assume_unique=False)
    return seeds, np.split(common, np.cumsum([len(x) for x in hashes])[:-1])


def shared_runs(bodies: list[str]) -> list[SharedRun]:
    """Maximal runs of at least MIN_FRAGMENT identical characters that exactly two articles share;
    a run stops where boilerplate (text found in three or more articles) begins."""
    seeds, common = _shingle_index(bodies)
    runs: list[SharedRun] = []
    covered: dict[tuple[int, int], int] = {}  # (article a, article b) → end of the last run found in a
    for a, i, b, j in seeds:
        text_a, text_b = bodies[a], bodies[b]
        if i < covered.get((a, b), -1) or text_a[i : i + SHINGLE] != text_b[j : j + SHINGLE]:
            continue  # inside a run already found, or a hash collision
        length = SHINGLE
        while i + length < len(text_a) and j + length < len(text_b) and text_a[i + length] == text_b[j + length]:
            length += 1
        covered[(a, b)] = i + length
        boilerplate = np.flatnonzero(common[a][i : i + length - SHINGLE + 1])
        if len(boilerplate):  # end before it, keeping the sentence end that precedes it
            full, length = length, int(boilerplate[0])
            while length < full and text_a[i + length] in FRAGMENT_SENTENCE_ENDS | CLOSER_SET:
                length += 1
        if length >= MIN_FRAGMENT:
            runs.append(SharedRun(a, i, b, j, length))
    return runs


def _bigrams(text: str) -> Counter[str]:
    # letters only: punctuation pairs such as "的，" say nothing about topic
    return Counter(text[i : i + 2] for i in range(len(text) - 1) if text[i : i + 2].isalnum())


class _Topics:
    """How well a run's words fit an article: bigrams the rest of the article repeats count more
    (log of their count; an article's own topic words recur, a stray fragment's do not), weighted by
    rarity across the issue; a title states the topic, so its words count triple. Built on first use."""

    def __init__(self, articles: list[tuple[str, str]]) -> None:
        self.articles = articles
        self.counts = [_bigrams(body) for _, body in articles]
        self.titles = [_bigrams(title) for title, _ in articles]
        df = Counter(g for counts, title in zip(self.counts, self.titles) for g in counts.keys() | title.keys())
        self.idf = {g: math.log(1 + len(articles) / n) for g, n in df.items()}

    def fit(self, fragment: str, index: int) -> float:
        own = _bigrams(fragment)
        body, title = self.counts[index], self.titles[index]
        return sum(
            self.idf.get(g, 0.0) * (math.log1p(max(body[g] - n, 0)) + 3 * math.log1p(title[g])) for g, n in own.items()
        )


def _trimmed(body: str, start: int, length: int) -> tuple[int, int]:
    """The run without leading punctuation (a run may begin with the article's own "。") or trailing space."""
    fragment = body[start : start + length]
    lead = len(fragment) - len(fragment.lstrip(LEADING_PUNCT))
    return start + lead, start + len(fragment.rstrip())


def _starts_sentence(body: str, start: int) -> bool:
    before = body[:start].rstrip(" \t")
    if not before or before[-1] == "\n" or before[-1] in CLAUSE_STARTS_AFTER:
        return True
    return before[-1] in CLOSER_SET and len(before) > 1 and before[-2] in FRAGMENT_SENTENCE_ENDS | CLOSER_SET


def _ends_paragraph(body: str, end: int) -> bool:
    return not body[end:].strip(" \t") or body[end] == "\n"


def _host(
    run: SharedRun, spans: dict[int, tuple[int, int]], bodies: list[str], topics
) -> tuple[int | None, dict[int, tuple[int, int]]]:
    """The article the run was pasted into (None when it belongs in both), and the run's spans."""
    fragment = bodies[run.a][slice(*spans[run.a])]
    if not fragment or fragment[-1] not in FRAGMENT_SENTENCE_ENDS | CLOSER_SET:
        return None, spans  # two sentences that share a phrase, not a pasted block (pastes end a sentence)
    if 2 * len(CJK.findall(fragment)) < len(fragment):
        # office hours or numbers two notices both state ("工作日8:30—12:00、13:30—17:00。"), not a paste
        return None, spans
    broken = {k for k in spans if not _starts_sentence(bodies[k], spans[k][0])}
    cut = next((n + 1 for n, ch in enumerate(fragment[:SHINGLE]) if ch in FRAGMENT_SENTENCE_ENDS), None)
    if len(broken) == 2 and cut is not None:
        # both copies begin with the same few characters of different sentences ("…发展。如有疑问…"):
        # a coincidence, not a paste; judge the whole sentences that follow
        spans = {k: _trimmed(bodies[k], start + cut, end - start - cut) for k, (start, end) in spans.items()}
        fragment = bodies[run.a][slice(*spans[run.a])]
        if len(fragment) < MIN_FRAGMENT:
            return None, spans
        broken = {k for k in spans if not _starts_sentence(bodies[k], spans[k][0])}
    tails = {k for k in spans if _ends_paragraph(bodies[k], spans[k][1])}
    if len(broken) == 1:
        suspects = broken
    elif not broken and len(tails) == 1:
        suspects = tails  # whole sentences hung on a paragraph's end, while the other copy runs on
    elif len(broken) == 2:
        suspects = broken
    else:
        return None, spans
    fits = {k: topics().fit(fragment, k) for k in spans}
    host = min(suspects, key=lambda k: fits[k])
    other = run.b if host == run.a else run.a
    margin = CLEAR_MARGIN if len(suspects) == 2 else 1.0
    return (host if fits[host] < fits[other] * margin else None), spans


def remove_pasted_fragments(articles: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Given (title, body) pairs of one issue, return cleaned bodies and notes on what was removed."""
    bodies = [body for _, body in articles]
    model: list[_Topics] = []

    def topics() -> _Topics:
        if not model:
            model.append(_Topics(articles))
        return model[0]

    cuts: dict[int, list[tuple[int, int]]] = {}
    notes: list[str] = []
    for run in shared_runs(bodies):
        spans = {
            run.a: _trimmed(bodies[run.a], run.a_start, run.length),
            run.b: _trimmed(bodies[run.b], run.b_start, run.length),
        }
        host, spans = _host(run, spans, bodies, topics)
        if host is None:
            continue
        start, end = spans[host]
        cuts.setdefault(host, []).append((start, end))
        notes.append(f"{articles[host][0]}: removed “{bodies[host][start : start + 24]}…” ({end - start} chars)")

    cleaned = []
    for index, body in enumerate(bodies):
        for start, end in sorted(cuts.get(index, []), reverse=True):
            before = body[:start].rstrip()
            # a paste that interrupted a sentence ("不要推车入户、<paste>\n\n在楼道…充电") leaves its two halves
            # to be joined again, as a layout break inside a sentence is; one between sentences keeps its break
            finished = not before or before[-1] in CLAUSE_STARTS_AFTER | CLOSER_SET
            glue = "\n\n" if finished and "\n\n" in body[max(start - 2, 0) : end + 2] else ""
            body = before + glue + body[end:].lstrip()
        cleaned.append(body.strip())
    return cleaned, notes
