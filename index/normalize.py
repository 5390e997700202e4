"""Text normalisation and word segmentation shared by questions and passages."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from index.text import INVISIBLE_RE

logger = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SPACES = re.compile(r"\s+")
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
WORD = re.compile(r"[\w\u4e00-\u9fff]")
# Function words and question words that say nothing about the topic.
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 么 嘛 哦 是 在 有 和 与 及 或 也 都 就 还 又 要 能 会 可 可以 可不可以 能不能
    什么 怎么 怎么样 怎样 如何 咋 咋整 咋办 怎么办 怎么弄 啥 哪 哪里 哪儿 哪些 哪个 几 多少 多久 多长
    为什么 为啥 是不是 有没有 我 我们 你 你们 他 她 它 他们 俺 俺们 咱 咱们 这 那 这个 那个 这些 那些
    一下 请问 问下 问问 一 个 把 被 给 对 从 到 让 得 着 过 吧 现在 还是 还有 还能 还用 以后 之前
    the a an is are was were be to of in on at for and or do does did can could i my me we you it this
    that what how when where which who will would should there any still get much""".split()
)


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_text(text: str) -> str:
    """Clean text for matching: drop invisible/control characters, NFKC (full-width → half-width),
    traditional → simplified, lower case, single spaces."""
    text = INVISIBLE_RE.sub("", text)
    text = CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = _converter().convert(text)
    return SPACES.sub(" ", text).strip().lower()


# Closing punctuation says nothing about the topic, yet it moves a question's sentence vector: "明天天气怎么样？"
# came out 0.24 more probable to be answered than "明天天气怎么样".
TRAILING_MARKS = "?？!！。.~～…" + " "


def search_text(question: str) -> str:
    """A cleaned question without its closing marks, as it is searched."""
    return question.rstrip(TRAILING_MARKS) or question


def has_content(text: str) -> bool:
    """True when the text has at least one letter, digit or Chinese character."""
    return bool(WORD.search(text))


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> list[str]:
    """jieba's words of a text, every character kept ("".join gives the text back)."""
    return _jieba().lcut(text)


def content_words(text: str) -> list[str]:
    """Words of normalised text that carry meaning (no stopwords, no punctuation)."""
    return [w for w in segment(normalize_text(text)) if WORD.search(w) and w not in STOPWORDS]


def _search_words(text: str) -> list[str]:
    return [w for w in _jieba().lcut_for_search(text) if WORD.search(w) and w not in STOPWORDS]


def _pairs(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1) if CJK_PAIR.fullmatch(text[i : i + 2])]


def tokenize(text: str) -> list[str]:
    """Search-mode words of normalised text without stopwords, plus Chinese character bigrams.

    The bigrams let a typo or an unusual segmentation still match part of a word (被案 / 备案)."""
    text = normalize_text(text)
    return _search_words(text) + _pairs(text)


def query_terms(text: str) -> list[str]:
    """A question's search terms: its tokens, less the character pairs that straddle a function word
    (要注, 能在): those match any passage with the same filler and can outscore the question's topic."""
    text = normalize_text(text)
    return _search_words(text) + [p for p in _pairs(text) if p[0] not in STOPWORDS and p[1] not in STOPWORDS]


def char_pairs(word: str) -> list[str]:
    """A word's adjacent character pairs (养老院 → 养老, 老院): how a word absent as a whole is partly matched."""
    return [word[i : i + 2] for i in range(len(word) - 1)]


def is_chinese(text: str) -> bool:
    """True when the text contains Chinese characters."""
    return bool(CJK.search(text))
