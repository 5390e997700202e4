"""Characters every stage agrees on, and the splitting patterns built from them.

One place for "what ends a sentence": each stage splits at a different level on purpose, and the
comment on each pattern says where and why. bot/ imports these; index/ never imports bot/.
"""

from __future__ import annotations

import re

# --- character sets -------------------------------------------------------------------------

STOPS = "。！？!?"  # full stop, exclamation, question mark (Chinese and ASCII)
SEMICOLONS = "；;"  # join clauses that often carry one fact together ("08:00-11:00；14:00-17:00")
ELLIPSIS = "…"
COLONS = "：:"
COMMAS = "，,、"  # commas and the enumeration comma
# closing quotes and brackets that belong to the sentence before them
BRACKET_CLOSERS = "”’」』）)】"
TITLE_CLOSER = "》"  # closes a title ("《经济日报》"), not a quotation
CLOSERS = BRACKET_CLOSERS + TITLE_CLOSER
ASCII_QUOTES = "\"'"
SPACES = " \t\u3000"  # space, tab, ideographic space (not newlines)

# Zero-width and soft-hyphen characters that break words in bulletin files. Parsing drops exactly
# these, so stored article text (and article ids) do not change when the wider set below grows.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# Matching also drops direction marks, bidi embeddings and invisible operators: a pasted question
# can carry them, and they never change what is asked.
DIRECTION_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
INVISIBLE_OPERATORS = "\u2061\u2062\u2063\u2064"
INVISIBLE = ZERO_WIDTH + DIRECTION_MARKS + INVISIBLE_OPERATORS


def char_class(chars: str) -> str:
    """A regex character class matching any one of `chars`."""
    return "[" + "".join(re.escape(c) for c in chars) + "]"


# --- parsing a file (index/parse.py) ----------------------------------------------------------

# Removed from file text before anything else (str.translate table).
DROP_IN_FILES = dict.fromkeys(map(ord, ZERO_WIDTH), None)
# A paragraph ending in one of these is a real paragraph; anything else was cut by the layout.
# Colons ("咨询电话：") and the ASCII period end a paragraph too, though not a sentence.
PARAGRAPH_TERMINALS = frozenset(STOPS + ELLIPSIS + SEMICOLONS + COLONS + ".")

# --- pasted fragments (index/fragments.py) ----------------------------------------------------

# Where a sentence ends when deciding whether shared text starts inside one: at 。！？；…
FRAGMENT_SENTENCE_ENDS = frozenset(STOPS + SEMICOLONS + ELLIPSIS)
# "咨询电话：" introduces a clause ("21:00" does not): only the Chinese colon counts.
CLAUSE_STARTS_AFTER = FRAGMENT_SENTENCE_ENDS | {"："}
CLOSER_SET = frozenset(CLOSERS)

# --- normalising text for matching (index/normalize.py) ---------------------------------------

INVISIBLE_RE = re.compile(char_class(INVISIBLE))

# --- passages (index/chunk.py) ----------------------------------------------------------------

# A passage sentence ends at 。！？；… (any run of …), plus the closing quotes right after:
# passages are small retrieval units, so ；-joined clauses may be split.
PASSAGE_END = re.compile(f"(?:{char_class(STOPS + SEMICOLONS)}|{ELLIPSIS}+){char_class(BRACKET_CLOSERS)}*")

# A sentence longer than a passage is split after its commas and colons instead.
PASSAGE_CLAUSE_END = re.compile(f"(?<={char_class(COMMAS + COLONS)})")

# --- quotes (bot/answering/quote.py) --------------------------------------------------------------------

# A quote sentence ends at 。！？ (not at ；: its clauses often carry one fact together), or at an
# ellipsis of two or more "…" ("……"; a single … is often an abbreviation inside a sentence).
QUOTE_END = re.compile(f"(?:{char_class(STOPS)}|{ELLIPSIS}{{2,}}){char_class(BRACKET_CLOSERS)}*")

# --- facts (bot/answering/facts.py) ---------------------------------------------------------------------

# A fact counts only in a clause naming the question's topic: split (zero-width) after 。！？；
FACT_CLAUSE_END = re.compile(f"(?<={char_class(STOPS + SEMICOLONS)})")

# --- question parts (bot/answering/answer.py) -----------------------------------------------------------

# A question with several parts ("…在哪发现的？以后再看到该打哪个电话") is also answered part by part:
# split at runs of 。！？；
QUESTION_PART_SPLIT = re.compile(f"{char_class(STOPS + SEMICOLONS)}+")

# --- long messages (bot/answering/message.py) ----------------------------------------------------------

# A message longer than a question is read from the last question it asks: split (zero-width) after 。！？;
# the question is the sentence ending at the last ？
MESSAGE_SENTENCE_END = re.compile(f"(?<={char_class(STOPS)})")
QUESTION_MARKS = re.compile(f"{char_class('？?')}+")

# --- 原文 pages (bot/telegram/pages.py) -----------------------------------------------------------------

# Pages are cut between sentences (at 。！？；… with their closers, ASCII quotes too, and the
# spaces after them) or at paragraph breaks; a page never needs the ；-clauses kept together.
PAGE_SENTENCE_END = re.compile(
    f"(?:{char_class(STOPS + SEMICOLONS)}|{ELLIPSIS}+){char_class(BRACKET_CLOSERS + ASCII_QUOTES)}*"
    f"{char_class(SPACES)}*|\n+"
)
# A sentence too long for a page piece is cut after commas, colons or runs of spaces.
PAGE_CLAUSE_END = re.compile(f"{char_class(COMMAS + COLONS)}{char_class(SPACES)}*|{char_class(SPACES)}+")
