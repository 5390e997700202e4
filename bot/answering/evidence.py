"""The evidence that a quoted article answers a question: named features for the answerability model.

Topical similarity alone cannot tell "the article on this topic states what you ask" from "the
article on this topic does not say", so beside retrieval scores the features ask whether the
question's specific words (weighted by how informative they are in general Chinese, from jieba's
dictionary frequencies) appear in the article and the quote, whether a place the question names is the
article's, and whether the quote states the kind of fact asked."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from bot.answering.facts import FactKind, unstated
from index.normalize import char_pairs, is_chinese

# A place name the question gives: jieba's dictionary tags it "ns", or it ends like one (茌平区, 沙镇, 湖西街道).
PLACE_SUFFIX = re.compile(r"[\u4e00-\u9fff]{1,6}(?:省|市|区|县|镇|乡|村|街道|社区)$")
MAX_INFO = 20.0


@dataclass(frozen=True)
class Evidence:
    """One candidate answer's features; every field is a float the model weighs."""

    dense_article: float  # best passage cosine inside this article
    # this article's best cosine minus the index's best (≤ 0): relative, so that a question unlike every
    # passage never looks better for it
    dense_deficit: float
    dense_gap: float  # best minus 11th best cosine over the index: how much the best match stands out
    dense_whole: float  # cosine with the article's mean passage vector
    lexical_article: float  # this article's BM25, scaled to the question's best
    score_ratio: float  # this article's fused score over the best article's
    coverage_article: float  # IDF-weighted share of the question's words in the article
    coverage_title: float
    coverage_quote: float
    quote_similarity: float  # best cosine of a quoted sentence with the question
    missing_info_max: float  # most informative question word absent from the article (0..1)
    missing_info_share: float  # informativeness-weighted share of question words absent from the article
    missing_quote_max: float  # … absent from the quote and title
    missing_quote_share: float
    unknown_info_max: float  # most informative question word that no bulletin uses at all
    missing_place: float  # 1 when the question names a place the article never names
    kind_asked: float  # 1 when the question asks for a phone, time, place, price…
    kind_unstated_quote: float  # 1 when that kind is asked but the quote does not state it about the topic
    kind_unstated_article: float  # … nor does the whole article
    chinese: float
    question_words: float  # log(1 + number of content words)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def vector(self) -> np.ndarray:
        # the fields' values in order; dataclasses.astuple deep-copies each one: 2.8 of 10.7 s when weighing
        # 100 topics against a 10-article issue
        return np.array(list(vars(self).values()), dtype=np.float64)


@dataclass(frozen=True)
class SentenceEvidence:
    """Why one sentence of an article may state the answer; the sentence model weighs these."""

    coverage: float  # IDF-weighted share of the question's words in the sentence
    similarity: float  # cosine with the question (the sentence's own, or its passage's before embedding)
    in_best_passage: float  # the sentence is in the passage the retrievers ranked best
    in_second_passage: float
    states_asked: float  # it states a kind of fact the question asks (a time for 几点)
    states_asked_topic: float  # … in a clause naming the question's topic
    kind_asked: float
    first: float  # the article's opening sentence
    position: float  # place in the article, 0 (start) to 1 (end)
    length: float  # log of its length in characters
    list_item: float  # an item of an enumeration (第一步…, 1.…)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def vector(self) -> np.ndarray:
        return np.array(list(vars(self).values()), dtype=np.float64)  # as Evidence.vector


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], int]:
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ, jieba.dt.total


def dictionary_frequency(word: str) -> int:
    """How often jieba's dictionary counts a word in general Chinese (0 for a word it does not know)."""
    return _dictionary()[0].get(word, 0)


def informativeness(word: str) -> float:
    """How specific a word is in general Chinese (0..1): −log of its jieba dictionary frequency.
    Words jieba does not know (place and office names, typos) count as most specific."""
    freq, total = _dictionary()
    count = freq.get(word, 0)
    return min(MAX_INFO, -math.log((count or 0.5) / total)) / MAX_INFO


def present(word: str, text: str) -> float:
    """1 when the word is in the text; for a longer word, the share of its character pairs that are."""
    if word in text:
        return 1.0
    if len(word) < 2:
        return 0.0
    pairs = char_pairs(word)
    return sum(p in text for p in pairs) / len(pairs)


def missing_words(words: list[str], text: str) -> tuple[float, float]:
    """(most informative absent word, informativeness-weighted absent share) of the question's words."""
    if not words:
        return 0.0, 0.0
    infos = [informativeness(w) for w in words]
    absent = [(1.0 - present(w, text)) * info for w, info in zip(words, infos)]
    return max(absent), sum(absent) / sum(infos)


def unknown_words(words: list[str], known: Callable[[str], float]) -> float:
    """The most informative Chinese question word that the bulletins never use (`known` gives the share of a
    word's character pairs found anywhere in the index)."""
    return max((informativeness(w) * (1.0 - known(w)) for w in words if len(w) > 1 and is_chinese(w)), default=0.0)


def dictionary_tags(words: set[str] | None = None, tags: frozenset[str] | None = None) -> dict[str, str]:
    """Part-of-speech tags from jieba's dictionary file, for the given words (or all) with the given tags
    (or any). Reading the file keeps only what is asked: jieba.posseg would hold the tags of all 349k words
    (53 MB, over the 50k benchmark's memory target) to answer the same question."""
    import jieba

    jieba.initialize()
    found: dict[str, str] = {}
    with jieba.dt.get_dict_file() as handle:
        for line in handle:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and (words is None or parts[0] in words) and (tags is None or parts[2] in tags):
                found[parts[0]] = parts[2]
    return found


@lru_cache(maxsize=1)
def _place_words() -> frozenset[str]:
    """The words jieba's dictionary tags "ns" (place names: 荆州, 聊城, 上海…; 17.7k words)."""
    return frozenset(dictionary_tags(tags=frozenset({"ns"})))


@lru_cache(maxsize=4096)
def question_places(question: str) -> tuple[str, ...]:
    """Place names in a (normalised) question."""
    import jieba

    places = _place_words()
    return tuple(w for w in jieba.lcut(question) if len(w) > 1 and (w in places or PLACE_SUFFIX.fullmatch(w)))


def place_missing(question: str, text: str) -> float:
    """1 when the question names a place that the article does not (沙市区 against 荆州区)."""
    return float(any(place not in text for place in question_places(question)))


def kind_flags(question: str, kinds: list[FactKind], quote: list[str], article: str) -> tuple[float, float, float]:
    """(asked, unstated in the quote, unstated in the article) for the kinds of fact the question asks."""
    if not kinds:
        return 0.0, 0.0, 0.0
    return 1.0, float(bool(unstated(question, quote))), float(bool(unstated(question, [article])))
