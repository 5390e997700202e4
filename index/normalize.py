"""Text normalisation and word segmentation shared by questions and passages."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Literal

from index.text import INVISIBLE_RE, MESSAGE_SENTENCE_END, QUESTION_MARKS

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500  # longer input is cut: no resident question needs more
# Pasted markup says nothing a bulletin could answer, yet "<b>供暖</b>什么时候开始" was searched for "b" and
# answered from an older notice than "供暖什么时候开始" (found by a helper); a Markdown link keeps its text.
TAG = re.compile(r"</?[a-zA-Z][^<>]{0,60}>")
URL = re.compile(r"https?://\S+|www\.\S+")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Whole messages that greet or thank, compared without punctuation, emoji or spaces.
NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]|_")
GREETING = re.compile(
    r"(?:你好|您好|你们好|大家好|嗨|哈喽|哈啰|在吗|在不在|hi|hello|hey|[早上下晚]上好|早安)+[啊呀呢吗]?"
)
THANKS = re.compile(
    r"(?:(?:谢谢|多谢|感谢|谢啦|谢了|辛苦了?|thanks?|thankyou|thx|好的|好滴|ok|okay|嗯+|收到|知道了|明白了?|了解了?|懂了"
    r"|再见|拜拜|bye)(?:你|您|你们)?(?:的回答|的帮助|啦|了|哈|啊|呀)?)+"
)
# characters with the mark: a question this short ("可以在网上交吗？") refers to the sentence before it
SHORT_QUESTION = 10
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


def clean_question(text: str) -> str:
    """A resident's message as a question: normalised and bounded in length. A message longer than a question
    is read from the last question it asks: residents tell their story first and ask at the end, and the story's
    words, searched with the question, found articles on the story (a 5,000-character message ending
    "请问供暖费交到哪天？" was answered with an editorial on canteens for the elderly)."""
    text = text[-MAX_QUESTION_CHARS * 40 :]
    text = normalize_text(URL.sub(" ", TAG.sub("", LINK.sub(r"\1", text))))
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    asked = [m.end() for m in QUESTION_MARKS.finditer(text)]
    if not asked:
        return text[:MAX_QUESTION_CHARS]
    sentences = [s for s in MESSAGE_SENTENCE_END.split(text[: asked[-1]]) if has_content(s)]
    question = sentences[-1] if sentences else text[: asked[-1]]
    if len(question) < SHORT_QUESTION and len(sentences) > 1:
        question = sentences[-2] + question
    return question[-MAX_QUESTION_CHARS:]


# Closing punctuation says nothing about the topic, yet it moves a question's sentence vector: "明天天气怎么样？"
# came out 0.24 more probable to be answered than "明天天气怎么样".
TRAILING_MARKS = "?？!！。.~～…" + " "


def search_text(question: str) -> str:
    """A cleaned question without its closing marks, as it is searched."""
    return question.rstrip(TRAILING_MARKS) or question


def social_act(text: str) -> Literal["greeting", "thanks"] | None:
    """Whether a cleaned message only greets ("你好") or thanks and takes leave ("谢谢！", "好的", "再见"):
    searched as a question, "谢谢" was answered with a volunteer's "谢谢咱们的志愿者啊…" as possibly related."""
    bare = NOT_WORD.sub("", text)
    if GREETING.fullmatch(bare):
        return "greeting"
    return "thanks" if THANKS.fullmatch(bare) else None


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
