"""Find text that page layout pasted from one article into another, and remove the stray copy."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

SHINGLE = 12  # characters; long enough that ordinary shared phrases do not match
MIN_FRAGMENT = 20  # shortest shared run treated as a pasted fragment
LEADING_PUNCT = "。，、；：！？,.;:!? \n"


@dataclass(frozen=True)
class SharedRun:
    """A run of identical text found in two articles."""

    a: int  # article index
    a_start: int
    b: int
    b_start: int
    length: int


def _shared_runs(a: int, text_a: str, b: int, text_b: str) -> list[SharedRun]:
    """Maximal runs of at least MIN_FRAGMENT identical characters in both texts."""
    first_seen: dict[str, int] = {}
    for j in range(len(text_b) - SHINGLE + 1):
        first_seen.setdefault(text_b[j : j + SHINGLE], j)
    runs, i = [], 0
    while i <= len(text_a) - SHINGLE:
        j = first_seen.get(text_a[i : i + SHINGLE])
        if j is None:
            i += 1
            continue
        length = SHINGLE
        while (
            i + length < len(text_a)
            and j + length < len(text_b)
            and text_a[i + length] == text_b[j + length]
        ):
            length += 1
        if length >= MIN_FRAGMENT:
            runs.append(SharedRun(a, i, b, j, length))
        i += length
    return runs


def _bigrams(text: str) -> Counter[str]:
    # letters only: punctuation pairs such as "的，" say nothing about topic
    return Counter(text[i : i + 2] for i in range(len(text) - 1) if text[i : i + 2].isalnum())


def _fit(fragment: str, rest: str, idf: dict[str, float]) -> float:
    """How well a fragment belongs to the rest of an article: weighted bigram overlap.

    A bigram the rest of the article repeats counts more (log of its count): an
    article's own topic words recur, a stray fragment's words do not.
    """
    context = _bigrams(rest)
    return sum(idf.get(g, 0.0) * math.log1p(context[g]) for g in _bigrams(fragment))


def _topic_fit(fragment: str, title: str, body: str, idf: dict[str, float]) -> float:
    """Fit of a fragment to an article; a title states the topic, so its words count triple."""
    return _fit(fragment, body.replace(fragment, ""), idf) + 3 * _fit(fragment, title, idf)


def remove_pasted_fragments(articles: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Given (title, body) pairs of one issue, return cleaned bodies and notes on what was removed.

    A run shared by two articles stays in the article whose other text it fits best
    (its own topic) and is cut from the other one, where the layout pasted it.
    """
    bodies = [body for _, body in articles]
    doc_grams = [_bigrams(title + body) for title, body in articles]
    idf = {}
    for grams in doc_grams:
        for g in grams:
            idf[g] = idf.get(g, 0) + 1
    idf = {g: math.log(1 + len(articles) / df) for g, df in idf.items()}

    cuts: dict[int, list[tuple[int, int]]] = {}
    notes: list[str] = []
    for a in range(len(bodies)):
        for b in range(a + 1, len(bodies)):
            for run in _shared_runs(a, bodies[a], b, bodies[b]):
                fragment = bodies[a][run.a_start : run.a_start + run.length]
                fit_a = _topic_fit(fragment, articles[a][0], bodies[a], idf)
                fit_b = _topic_fit(fragment, articles[b][0], bodies[b], idf)
                host, start = (a, run.a_start) if fit_a < fit_b else (b, run.b_start)
                # a run may begin with the host's own sentence end ("。缴费渠道…"): keep that
                lead = len(fragment) - len(fragment.lstrip(LEADING_PUNCT))
                cuts.setdefault(host, []).append((start + lead, start + run.length))
                notes.append(f"{articles[host][0]}: removed “{fragment[:24]}…” ({run.length} chars)")

    cleaned = []
    for index, body in enumerate(bodies):
        for start, end in sorted(cuts.get(index, []), reverse=True):
            body = body[:start].rstrip() + ("\n\n" if "\n\n" in body[start - 2 : end + 2] else "") + body[end:].lstrip()
        cleaned.append(body.strip())
    return cleaned, notes
