"""Article + question → the smallest quote that answers: whole sentences, in reading order, no dateline.

A quote is made of whole sentences of the article (split at 。！？, so clauses joined by "；" such as
"每天08:00-11:00；14:00-17:00" stay together). Sentences that are not adjacent in the article are joined
by "……"; a list is quoted whole or marked as partial with its size; no sentence is quoted twice."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.evidence import SentenceEvidence
from bot.answering.facts import FactKind, states_kind, unstated
from bot.tuning import QUOTE
from index.normalize import normalize_text
from index.text import QUOTE_END

# "东昌府讯 ", "本报讯　", "聊城讯（记者 张三）": the dateline says who reported, not what was asked.
DATELINE = re.compile(r"^\s*[\u4e00-\u9fff]{1,8}讯(?:\s*[（(][^）)]{0,30}[）)][\s　]*|[\s　]+)")
# An enumeration's items: "第二步，…", "二是…", "1.古楼街道…", "（三）…".
LIST_ITEM = re.compile(
    r"第[一二三四五六七八九十\d]+步"
    r"|(?:^|[：:，,；;])\s*[一二三四五六七八九十]是"
    r"|^\s*(?:\d+|[一二三四五六七八九十]+)[.、．]"
    r"|^\s*[（(][一二三四五六七八九十\d]+[）)]"
)
GAP = "……"


@dataclass(frozen=True)
class Sentence:
    """One quotable sentence of an article, with where it stands."""

    text: str
    paragraph: int
    index: int  # position in the article, counting every sentence
    normalized: str  # normalize_text(text), computed once: every later step matches against it


@dataclass(frozen=True)
class Quote:
    """The sentences quoted from one article, and what a reader needs to know about them."""

    sentences: tuple[Sentence, ...]
    list_size: int = 0  # items in the list the quote takes part of; 0 when nothing is left out

    @property
    def text(self) -> str:
        pieces: list[str] = []
        previous: Sentence | None = None
        for sentence in self.sentences:
            if previous is not None and sentence.index != previous.index + 1:
                pieces.append(GAP)
            pieces.append(sentence.text)
            previous = sentence
        if self.list_size:
            pieces.append(f"{GAP}（共{self.list_size}项，以上为其中{self.quoted_items}项）")
        return "".join(pieces)

    @property
    def quoted_items(self) -> int:
        return sum(1 for s in self.sentences if LIST_ITEM.search(s.text))


def strip_dateline(text: str) -> str:
    """The sentence without a leading "东昌府讯 "-style dateline."""
    return DATELINE.sub("", text, count=1)


def article_sentences(body: str) -> list[Sentence]:
    """The article's sentences in reading order (the opening dateline cut, repeated sentences dropped)."""
    return list(_sentences(body))


@lru_cache(maxsize=256)  # a new issue's articles are split once for all followed topics, not once a topic
def _sentences(body: str) -> tuple[Sentence, ...]:
    sentences: list[Sentence] = []
    seen: set[str] = set()
    for number, paragraph in enumerate(body.split("\n\n")):
        start = 0
        pieces = []
        for match in QUOTE_END.finditer(paragraph):
            pieces.append(paragraph[start : match.end()])
            start = match.end()
        pieces.append(paragraph[start:])
        for piece in pieces:
            text = piece.strip()
            if not sentences:
                text = strip_dateline(text)
            normalized = normalize_text(text)
            bare = strip_dateline(text)  # a repeat that carries a dateline is still a repeat
            key = normalized if bare == text else normalize_text(bare)
            if text and key not in seen:
                seen.add(key)
                sentences.append(Sentence(text, number, len(sentences), normalized))
    return tuple(sentences)


def choose_quote(
    sentences: list[Sentence],
    scores: list[float],
    kinds: list[FactKind],
    budget: int,
    states_topic: Callable[[str], bool],
    second_share: float = QUOTE.second_share,
) -> Quote:
    """The fewest sentences that answer: the best one, plus one that states an asked fact the best one
    lacks, plus an adjacent sentence scoring nearly as well, plus the runner-up when it scores `second_share` of
    the best; a list run is kept whole or marked partial.

    `scores` has one relevance score per sentence; `states_topic(text)` says whether a normalised
    sentence names the question's topic (a fact about something else does not count)."""
    if not sentences:
        return Quote(())
    order = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    best = order[0]
    chosen = {best}
    normalized = [s.normalized for s in sentences]

    def stated(indices: set[int]) -> set[str]:
        return {k.name for k in kinds for i in indices if states_kind(k, normalized[i])}

    # an asked fact the best sentence does not state: take the best sentence that states it about the topic
    for kind in kinds:
        if kind.name in stated(chosen):
            continue
        for i in order[1:]:
            if (
                scores[i] >= QUOTE.fact_share * scores[best]
                and states_kind(kind, normalized[i])
                and states_topic(normalized[i])
            ):
                chosen.add(i)
                break
    # a neighbour that scores nearly as well usually finishes the thought ("…。办理时需携带…")
    for i in (best - 1, best + 1):
        if 0 <= i < len(sentences) and scores[i] >= QUOTE.neighbour_share * scores[best]:
            chosen.add(i)
    # the runner-up joins when it is nearly as likely to hold the answer: one sentence alone often misses it
    if len(order) > 1 and scores[order[1]] >= second_share * scores[best]:
        chosen.add(order[1])
    # a sentence that announces what follows ("需提供以下材料：") says nothing without it
    chosen |= {i + 1 for i in chosen if i + 1 < len(sentences) and _introduces(sentences[i])}
    items = [bool(LIST_ITEM.search(s.text)) for s in sentences]
    chosen = _whole_lists(sentences, items, chosen)
    return _within_budget(sentences, items, chosen, best, budget)


def _introduces(sentence: Sentence) -> bool:
    return sentence.text.rstrip("。").endswith(("：", ":"))


def quote_of(sentences: list[Sentence], chosen: list[int], budget: int) -> Quote:
    """A quote of exactly the chosen sentences (the first is the anchor), within the budget as any quote."""
    items = [bool(LIST_ITEM.search(s.text)) for s in sentences]
    return _within_budget(sentences, items, set(chosen), chosen[0], budget)


def _list_run(items: list[bool], i: int) -> range:
    """The run of consecutive list items around item i."""
    lo = hi = i
    while lo > 0 and items[lo - 1]:
        lo -= 1
    while hi + 1 < len(items) and items[hi + 1]:
        hi += 1
    return range(lo, hi + 1)


def _whole_lists(sentences: list[Sentence], items: list[bool], chosen: set[int]) -> set[int]:
    """Extend a chosen list item to its whole run of items (第一步…第四步)."""
    extended = set(chosen)
    for i in chosen:
        if not items[i]:
            continue
        run = _list_run(items, i)
        # the sentence introducing the list ("办理步骤如下：") belongs with it
        lo = run.start - 1 if run.start > 0 and _introduces(sentences[run.start - 1]) else run.start
        extended.update(range(lo, run.stop))
    return extended


def _within_budget(sentences: list[Sentence], items: list[bool], chosen: set[int], best: int, budget: int) -> Quote:
    """Drop the chosen sentences farthest from the best one until the quote fits; say when a list is cut."""
    keep = sorted(chosen, key=lambda i: (abs(i - best), i))
    while len(keep) > 1 and sum(len(sentences[i].text) for i in keep) > budget:
        keep.pop()
    picked = tuple(sentences[i] for i in sorted(keep))
    in_run = [i for i in keep if items[i]]
    run_size = len(_list_run(items, in_run[0])) if in_run else 0
    partial = run_size if in_run and len(in_run) < run_size else 0
    if len(picked) == 1 and len(picked[0].text) > budget:
        picked = (_cut_long(picked[0], budget),)
    return Quote(picked, partial)


def _cut_long(sentence: Sentence, budget: int) -> Sentence:
    """An over-long sentence is cut after a "；" or "，" before the budget, marking the cut with "……"."""
    text = sentence.text
    cut = max(text.rfind(mark, 0, budget - 2) for mark in "；;，,")
    cut = cut + 1 if cut > budget // 3 else budget - 2
    return Sentence(text[:cut] + GAP, sentence.paragraph, sentence.index, normalize_text(text[:cut] + GAP))


def sentence_evidence(
    sentences: list[Sentence],
    question: str,
    kinds: list[FactKind],
    coverage: Callable[[str], float],
    passages: tuple[str, str],
    similarities: dict[int, float],
) -> list[SentenceEvidence]:
    """The features of every sentence for the sentence model (bot/answering/answerability.py)."""
    best, second = passages
    out = []
    for sentence in sentences:
        normalized = sentence.normalized
        asked = any(states_kind(k, normalized) for k in kinds)
        out.append(
            SentenceEvidence(
                coverage=coverage(normalized),
                similarity=similarities.get(sentence.index, 0.0),
                in_best_passage=float(sentence.text in best),
                in_second_passage=float(sentence.text in second),
                states_asked=float(asked),
                states_asked_topic=float(asked and not unstated(question, [normalized])),
                kind_asked=float(bool(kinds)),
                first=float(sentence.index == 0),
                position=sentence.index / max(len(sentences) - 1, 1),
                length=math.log(1 + len(sentence.text)),
                list_item=float(bool(LIST_ITEM.search(sentence.text))),
            )
        )
    return out
