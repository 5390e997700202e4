"""A resident's message as a question: normalised, bounded, read from its last question when long, without
pasted markup or personal numbers; and whether it only greets or thanks."""

from __future__ import annotations

import re
from typing import Literal

from index.normalize import has_content, normalize_text
from index.text import MESSAGE_SENTENCE_END, QUESTION_MARKS

# The reasons of replies to messages that ask nothing (bot/answering/answer.py): no quote, no feedback buttons, not
# counted as unanswered questions (bot/log/questions.py).
CONVERSATIONAL = frozenset({"empty_question", "greeting", "thanks"})
# A message that only greets or thanks is short ("非常感谢您的帮助，再见" has 10 characters): a longer one is read
# as a question without trying the greeting and thanks patterns at all.
MAX_SOCIAL_CHARS = 40
MAX_QUESTION_CHARS = 500  # longer input is cut: no resident question needs more
# characters with the mark: a question this short ("可以在网上交吗？") refers to the sentence before it
SHORT_QUESTION = 10
# Pasted markup says nothing a bulletin could answer, yet "<b>供暖</b>什么时候开始" was searched for "b" and
# answered from an older notice than "供暖什么时候开始"; a Markdown link keeps its text.
TAG = re.compile(r"</?[a-zA-Z][^<>]{0,60}>")
URL = re.compile(r"https?://\S+|www\.\S+")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Numbers that identify a person: residents paste them into questions ("我身份证号3702…，养老金认证做了没有？").
# They are masked before a question is stored, and left out of the search with the words that name them, which
# matched passages on ID cards and phones and lost the quote its deadline. Service numbers
# (0635-8276300, 12345) are kept.
PERSONAL_NUMBERS = (
    (r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)", "[身份证号]"),
    (r"(?<!\d)\d{15,19}(?!\d)", "[卡号]"),
    (r"(?<![\d-])1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)", "[手机号]"),
)
PERSONAL_LABEL = r"(?:我的?)?(?:身份证号?码?|手机号?码?|电话号?码?|银行卡号?|卡号)?[是为:：]?\s*"
MASKED = tuple((re.compile(number), mask) for number, mask in PERSONAL_NUMBERS)
UNSEARCHED = tuple(re.compile(PERSONAL_LABEL + number) for number, _ in PERSONAL_NUMBERS)
# Whole messages that greet or thank, compared without punctuation, emoji or spaces.
NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]|_")
GREETING_WORDS = (
    r"你好|您好|你们好|大家好|嗨|哈喽|哈啰|在吗|在不在|有人吗|打扰了|打扰一下|hi|hello|hey|[早上下晚]上好|早安"
)
# Each repetition below is atomic and possessive ((?>…)++): a word, once matched, is never split again, so the
# time is linear in the message. With plain nesting ((?:嗯+…)+), "嗯"*26+"吗" took 56 s under fullmatch and held
# the GIL, freezing every chat.
GREETING = re.compile(rf"(?>(?:{GREETING_WORDS})[啊呀呢吗]?)++|你是谁|你能做什么|你会什么|怎么用")
THANKS = re.compile(
    r"(?>(?:非常|十分|太|真是?|万分)?(?:谢谢|多谢|感谢|谢啦|谢了|辛苦了?|thanks?|thankyou|thx|好的|好滴|好|ok|okay|嗯++"
    r"|收到|知道了|明白了?|了解了?|懂了|不用了|再见|拜拜|bye)(?:你|您|你们)?(?:的回答|的帮助|啦|了|哈|啊|呀)?)++"
)
THANKS_EMOJI = re.compile("[\U0001f44d\U0001f64f\U0001f44c\U0001f60a\U0001f642\u2764\U0001f339\U0001f490]")
# "你好，HPV疫苗在哪打" was searched with 你好 and fell to "none"; a greeting before a question is left out
LEADING_GREETING = re.compile(rf"^(?>(?:{GREETING_WORDS})[啊呀呢吗]?[\s,.!?~、。，！？～]++)++(?=.*[\w\u4e00-\u9fff])")


def clean_question(text: str) -> str:
    """A resident's message as a question: normalised and bounded in length. A message longer than a question
    is read from the last question it asks: residents tell their story first and ask at the end, and the story's
    words, searched with the question, found articles on the story (a 5,000-character message ending
    "请问供暖费交到哪天？" was answered with an editorial on canteens for the elderly)."""
    text = text[-MAX_QUESTION_CHARS * 40 :]
    text = URL.sub(" ", TAG.sub("", LINK.sub(r"\1", text)))
    for pattern in UNSEARCHED:
        text = pattern.sub(" ", text)
    text = normalize_text(text)
    text = (LEADING_GREETING.sub("", text) if not social_act(text) else text).lstrip(" ,;:、")
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


def redact(text: str) -> str:
    """The text with identity-card, bank-card and mobile numbers masked."""
    for pattern, mask in MASKED:
        text = pattern.sub(mask, text)
    return text


def social_act(text: str) -> Literal["greeting", "thanks"] | None:
    """Whether a cleaned message only greets ("你好", "你是谁") or thanks and takes leave ("谢谢！", "好的",
    "再见", "👍"): searched as a question, "谢谢" was answered with a volunteer's "谢谢咱们的志愿者啊…" as possibly
    related."""
    bare = NOT_WORD.sub("", text[: MAX_SOCIAL_CHARS * 4])
    if len(bare) > MAX_SOCIAL_CHARS:
        return None
    if not bare:
        return "thanks" if THANKS_EMOJI.search(text) else None
    if GREETING.fullmatch(bare):
        return "greeting"
    return "thanks" if THANKS.fullmatch(bare) else None
