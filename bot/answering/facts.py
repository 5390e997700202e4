"""What kind of fact a question asks for (a phone number, a time, a place, a price…) and whether a text states one.

An answer to "多少钱" that quotes no price, or to "打哪个电话" that quotes no number, talks about the
topic without answering the ask: the bot then says the bulletins do not cover it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from index.normalize import content_words, is_chinese
from index.text import FACT_CLAUSE_END


@dataclass(frozen=True)
class FactKind:
    """A kind of fact: how a question asks for it and how a sentence states it."""

    name: str
    asks: re.Pattern[str]
    states: re.Pattern[str]
    # "clause": the fact must sit in a clause naming the question's topic; "quote": anywhere in a quote
    # that names it (a hotline usually closes the article it belongs to).
    scope: Literal["clause", "quote"] = "clause"


# Text is matched after normalize_text: half-width, simplified, lower case (so ℃ reads "°c").
# Chinese numerals count as numbers: bulletins write "三个工作日内", "五元".
NUMERAL = r"(\d+|[一二两三四五六七八九十百千半]+)"
PHONE = r"(?<!\d)(\d{3,4}-\d{7,8}|1[3-9]\d{9}|\d{7,8}|12\d{3}|1[12]\d)(?!\d)"
PRICE = NUMERAL + r"\s*(万?元|块)|免费|不收取?(任何)?费用|不收费|free"
PLACE = (
    r"路|街道?|社区|医院|中心|广场|楼|门诊|窗口|采样点|服务站|卫生院|村|镇|馆|站|室|厅|店"
    r"|交叉口|[东西南北]侧|附近|门口|公众号|小程序|app|网站|网上|线上"
)

FACT_KINDS = (
    FactKind(
        "phone", re.compile(r"电话|热线|号码|打哪|打什么|打那个|打哪个|phone|call|number"), re.compile(PHONE), "quote"
    ),
    FactKind(
        "contact",
        re.compile(r"投诉|举报|反映|[去上]哪告|找谁|complain|report"),
        re.compile(PHONE + r"|热线|公众号|小程序|app|网站|窗口|现场|大队"),
        "quote",
    ),
    FactKind(
        "duration",
        re.compile(r"多久|多长时间|几天|多少天|几个月|回音|期限|间隔|how long"),
        # a length of time, not a date: "3个月", "15个工作日内", "30日内", "1年", but not "8月以来", "2月28日",
        # "2023年" (a duration sentence would otherwise be any sentence with a date in it)
        re.compile(
            NUMERAL + r"\s*个?\s*(工作日|天|小时|分钟|周|星期)|" + NUMERAL + r"\s*个\s*月"
            r"|(?<!\d)(\d{1,2}|[一二两三四五六七八九十半]+)\s*年(?![\d级])|" + NUMERAL + r"\s*日\s*(内|以内|之内)"
            r"|当天|次日|第二天|立即|随时"
        ),
    ),
    FactKind(
        "time",
        re.compile(
            r"几点|什么时候|啥时候|(?<!多长)时间|开门|关门|上班|截止|最晚|到啥时|到什么时|哪天"
            r"|(周|星期|礼拜)几|几号(?!线|楼|窗口|门|院|床)"
            r"|when|hours|open"
        ),
        re.compile(
            r"\d{1,2}:\d{2}|\d+月|\d+日|\d{4}年|周[一二三四五六日]|星期|除夕|初[一二三四五六七八九十]|即日|"
            r"\d+\s*[点时]|上午|下午|全天|24小时|每[天日周月年]|(?<![个\d一二两三四五六七八九十])工作日|节假日|[上中下]旬|月底|年底|"
            r"春节|元旦|国庆|清明|端午|中秋"
        ),
    ),
    FactKind(
        "place", re.compile(r"在哪|哪里|哪儿|地址|地点|[去上]哪(?!举报|投诉|反映|告)|哪个医院|where"), re.compile(PLACE)
    ),
    FactKind(
        "documents",
        re.compile(r"带什么|带啥|带哪些|材料|证件|手续|bring|documents"),
        re.compile(r"身份证|户口簿|证件|证明|照片|材料|社保卡|凭证|证"),
    ),
    FactKind("price", re.compile(r"多少钱|几块钱|收费|费用|价格|价钱|票价|how much|cost|price|fee"), re.compile(PRICE)),
    FactKind(
        "free",
        # asked when a clause ends on it ("还免费不", "是不是免费") or asks for money ("要钱吗"), not when it names
        # the service ("免费筛查去哪做", "老人免费流感疫苗哪天开始打": those ask a place and a date)
        re.compile(
            r"免费的?(?=[吗嘛么不呢啊?!,.。]|$)|免不免费|是否免费|是不是免费|要钱|收钱|花钱|收不收钱|收费吗"
            r"|free"  # English questions keep the word anywhere: the rule above is Chinese grammar
        ),
        re.compile(PRICE),
    ),
    FactKind(
        "amount",
        # not a phone number's "多少" ("电话是多少"), nor a duration's "几个月"
        re.compile(
            r"^(?!.*(电话|热线|号码|手机|phone|number)).*?"
            r"(多少(?!钱|度|天|时间|个?(工作日|小时|分钟|月|年))|几(个(?!月|小时|工作日|星期|周)|[本册名次人户处辆台岁项家张件成档剂份所])"
            r"|比例|how many)"
        ),
        re.compile(
            NUMERAL
            + r"\s*(万|亿)?\s*(%|元|块|册|本|个|名|人|次|户|处|辆|台|岁|项|家|张|件|成|档|剂|份|所|平方米|米|公里|吨)"
        ),
    ),
    FactKind("temperature", re.compile(r"多少度|几度|温度"), re.compile(r"\d+\s*(°c|度)")),
)


# A clause that refers back ("施工期间该路段…") takes its topic from the clause before it.
ANAPHORA = re.compile(r"该(?!如何)|此|上述|以上|期间|届时|其中")
# Words too common to show that a clause is about the question's topic.
GENERIC = frozenset("今年 明年 去年 现在 最近 时候 平时 一般 去 看 打 做 办 用 带 找 问 弄 整 上 下".split())


def asked_kinds(question: str) -> list[FactKind]:
    """The kinds of fact a (normalised) question asks for; empty for yes/no and open questions."""
    return [kind for kind in FACT_KINDS if kind.asks.search(question)]


def states_kind(kind: FactKind, text: str) -> bool:
    """True when the (normalised) text states a fact of this kind."""
    return bool(kind.states.search(text))


def topic_words(question: str, kinds: list[FactKind]) -> list[str]:
    """The question's Chinese content words, without the words that only say what kind of fact is asked."""
    return [
        w
        for w in content_words(question)
        if is_chinese(w) and w not in GENERIC and not any(k.asks.search(w) for k in kinds)
    ]


def names_topic(clause: str, topic: list[str]) -> bool:
    """True when the clause contains a topic word, or a two-character piece of a longer one (燃气公司 → 燃气)."""
    return any(w in clause or (len(w) > 2 and any(w[i : i + 2] in clause for i in range(len(w) - 1))) for w in topic)


def unstated(question: str, sentences: list[str]) -> list[str]:
    """Names of the kinds the (normalised) question asks for that no clause of the (normalised) sentences
    states about the question's topic. A question in a language other than Chinese is checked for the
    kind of fact only: its words cannot be looked for in Chinese text."""
    kinds = asked_kinds(question)
    if not kinds:
        return []
    topic = topic_words(question, kinds)
    # a fact counts only in a clause that names the question's topic: "免费检测" does not say what
    # 单人单管 costs, nor does a date in a medical-insurance story say when the winter holiday starts
    clauses = [c for s in sentences for c in FACT_CLAUSE_END.split(s) if c]
    if not topic:
        return [kind.name for kind in kinds if not any(states_kind(kind, c) for c in clauses)]
    about = [
        names_topic(c, topic) or (i > 0 and ANAPHORA.search(c) is not None and names_topic(clauses[i - 1], topic))
        for i, c in enumerate(clauses)
    ]
    return [
        kind.name
        for kind in kinds
        if not any(
            states_kind(kind, c) and (about[i] or (kind.scope == "quote" and any(about))) for i, c in enumerate(clauses)
        )
    ]
