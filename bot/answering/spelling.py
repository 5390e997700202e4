"""Pinyin-input typos in a question, corrected against the words of the index before it is searched.

Residents type pinyin and pick a character: 医宝 for 医保, 电题 for 电梯, 被案 for 备案. Such a word is in no
bulletin, so BM25 cannot match it and the answer features count it as a missing specific word. A word is
corrected only when no passage uses it, swapping one character for one read the same (tones ignored) gives
a word some passage uses, and that word is far more common in general Chinese (SPELLING in bot/tuning.py).
Only the question's search is changed; every quoted sentence is still the bulletin's own."""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import lru_cache
from pathlib import Path

from bot.answering.evidence import dictionary_frequency
from bot.tuning import SPELLING
from index.lexical import LexicalIndex
from index.normalize import CJK, STOPWORDS, segment


def _toneless(reading: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", reading) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _readings() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Each character's usual reading without tone, and the characters of each reading.

    Read from pypinyin's data file without importing the package: importing it loads its 2.5 MB phrase
    dictionary (+55 MB resident) that single characters do not need. Only the first (usual) reading counts,
    so 能 (néng, also tài) is not taken for a slip of 大 (dà, also tài)."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pypinyin is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "pinyin_dict.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    reading = {chr(int(code)): _toneless(value.split(",")[0]) for code, value in table.items()}
    by_reading: dict[str, list[str]] = {}
    for char, sound in reading.items():
        by_reading.setdefault(sound, []).append(char)
    return reading, {sound: tuple(chars) for sound, chars in by_reading.items()}


class Speller:
    """Corrects a normalised question's typos against one index's vocabulary."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical

    def meant(self, word: str) -> str | None:
        """The word a typed word stands for, or None when it is not taken for a typo."""
        if not 2 <= len(word) <= SPELLING.max_word_chars or word in STOPWORDS or not all(CJK.match(c) for c in word):
            return None
        if self.lexical.known(word) == 1.0:
            return None
        reading, by_reading = _readings()
        floor = SPELLING.min_frequency_ratio * dictionary_frequency(word)
        best: tuple[float, str] | None = None
        for i, char in enumerate(word):
            for other in by_reading.get(reading.get(char, ""), ()):
                if other == char:
                    continue
                candidate = word[:i] + other + word[i + 1 :]
                frequency = dictionary_frequency(candidate)
                if (
                    frequency > 0
                    and frequency >= floor
                    and self.lexical.has_term(candidate)
                    and self.lexical.known(candidate) == 1.0
                ):
                    rank = (self.lexical.document_frequency(candidate), candidate)
                    best = max(best, rank) if best else rank
        return best[1] if best else None

    def read(self, word: str) -> str:
        """A word of the question as meant. jieba's guesser joins an unknown word to a function word next to
        it (医宝能 in "医宝能在网上办吗"), so such a word is also read without that character."""
        meant = self.meant(word)
        if meant is None and len(word) > 2 and word[-1] in STOPWORDS:
            meant = self.meant(word[:-1])
            meant = meant and meant + word[-1]
        if meant is None and len(word) > 2 and word[0] in STOPWORDS:
            meant = self.meant(word[1:])
            meant = meant and word[0] + meant
        return meant or word

    def correct(self, normalized: str) -> str:
        """The question with each word taken for a typo replaced by the word meant."""
        return "".join(self.read(word) for word in segment(normalized))
