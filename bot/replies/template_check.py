"""The template check: every template rendered on sample values must be valid Telegram HTML.

Runs in a child process (bot/replies/templates.py `check_in_worker`) under a memory limit, so that a hostile
or mistaken template costs that process, never the bot. Imports nothing heavy: it starts in ~0.1 s."""

from __future__ import annotations

import json
import re
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from markupsafe import Markup, escape

from bot.replies.html_check import TELEGRAM_LIMIT, html_problem
from bot.replies.sandbox import BoundedSandbox, render_bounded, template_line
from bot.replies.templates import MAX_TEMPLATE_CHARS, VARIABLES, TemplateError, read_sources

WORKER_MEMORY = 1 << 30  # bytes of address space for the child (Python and Jinja2 need ~100 MB)
SENTENCE = "居民可通过“聊城医保”APP & 微信公众号办理医保业务，咨询电话0635-8888888，<周一至周五>8:30—17:00。"


def _part(title: str, text: str, newer: int = 0) -> dict[str, Any]:
    """A quoted part as bot/replies/reply.py passes it: `html` is the text with the asked facts in bold."""
    fact = "0635-8888888"
    marked = Markup(escape(text).replace(fact, Markup(f"<b>{fact}</b>")))
    return {
        "title": title,
        "date": "2022-11-20",
        "source": "东昌府区融媒体中心",
        "issue": "2022-11-20",
        "text": text,
        "html": marked,
        "newer": [{"title": f"关于医保业务的第{i + 1}次更新", "date": "2023-01-0{i + 1}"} for i in range(newer)],
    }


def samples(quote_chars: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per template, labelled sample values covering what the bot passes it."""
    longest = (SENTENCE * (quote_chars // len(SENTENCE) + 1))[:quote_chars]
    one = [_part("区医保系统疫情防控不松懈 群众线上办理“医”路通", SENTENCE)]
    three = [_part(f"第{i}篇 <文章> & 标题", SENTENCE) for i in (1, 2, 3)]
    stale = Markup("⚠️ 以上信息来自 2022-11-20 的简报（约3个月前），政策可能已有变化，请以最新通知为准。")
    quoted = {"age_days": 5, "stale_notice": "", "confidence": 0.87}
    counts = [
        ("with counts", {"issues": 5, "latest_date": "2023-02-06"}),
        ("empty index", {"issues": 0, "latest_date": ""}),
    ]
    quotes = [
        ("an answer with one part", {**quoted, "parts": one}),
        ("an answer with three parts", {**quoted, "parts": three}),
        ("a superseded part with newer articles", {**quoted, "parts": [_part("旧文章", SENTENCE, newer=2)]}),
        (f"the longest quote ({quote_chars} characters)", {**quoted, "parts": [_part("长文章", longest)]}),
        ("an old answer with the stale notice", {**quoted, "age_days": 400, "stale_notice": stale, "parts": one}),
    ]
    return {
        "greeting": counts,
        "help": counts,
        "answer": quotes,
        "related": [(label.replace("an answer", "a related answer"), values) for label, values in quotes],
        "stale_notice": [("an old issue", {"age": "约1年1个月", "age_days": 400, "issue_date": "2022-11-20"})],
        "no_answer": [
            ("a 'none' answer with related titles", {"question": "<b>狂犬疫苗</b> & 在哪打", "related": three}),
            ("a 'none' answer without related titles", {"question": "天气", "related": []}),
        ],
        "flood": [("a flood", {"seconds": 42})],
        "new_issue": _new_issue_samples(),
    }


def _new_issue_samples() -> list[tuple[str, dict[str, Any]]]:
    """A push with matches only, headlines only, and both at their longest (bot/following/push.py's limits: 6 matches of
    160 characters, 20 headlines, titles of 60 characters)."""
    title = ("城乡居民医保缴费期延长 <至4月30日> & 更多" * 3)[:60]
    match = {"title": title, "date": "2023-03-27", "topic": "医保 & <社保>" * 2}
    matches = [{**match, "number": i, "sentence": (SENTENCE * 3)[:160]} for i in range(1, 7)]
    headlines = [{"number": i, "title": (f"第{i}篇 <文章> & 标题" + "长" * 60)[:60]} for i in range(7, 27)]
    return [
        ("matches only", {"issue_date": "2023-03-27", "matches": matches[:2], "headlines": []}),
        ("headlines only", {"issue_date": "2023-03-27", "matches": [], "headlines": headlines[:8]}),
        ("the longest push", {"issue_date": "2023-03-27", "matches": matches, "headlines": headlines}),
    ]


def _line_of(source: str, problem: str) -> int | None:
    """The template line holding the tag a problem names (`<br>`, `</b>`), if any."""
    tag = re.search(r"</?[a-zA-Z][\w-]*", problem)
    if tag:
        for number, text in enumerate(source.splitlines(), 1):
            if tag.group() in text:
                return number
    return None


def validate(path: Path, quote_chars: int, progress: Callable[[str], None] = lambda name: None) -> list[str]:
    """Every problem of a templates file, one line each naming the file line and the template."""
    try:
        sources = read_sources(path)
    except TemplateError as exc:
        return [str(exc)]
    missing = sorted(set(VARIABLES) - set(sources))
    if missing:
        return [f"{path}: missing templates: {', '.join(missing)}"]
    env, cases, problems = BoundedSandbox(), samples(quote_chars), []
    for name, allowed in VARIABLES.items():
        progress(name)
        source = sources[name]

        def where(template_line_number: int | None, label: str = "", source=source, name=name) -> str:
            return f"{path}, line {source.file_line(template_line_number)}, template {name!r}" + (
                f" ({label})" if label else ""
            )

        if len(source.text) > MAX_TEMPLATE_CHARS:
            problems.append(f"{where(None)}: longer than {MAX_TEMPLATE_CHARS} characters")
            continue
        try:
            parsed = env.parse(source.text)
        except TemplateSyntaxError as exc:
            problems.append(f"{where(exc.lineno)}: {exc.message}")
            continue
        unknown = meta.find_undeclared_variables(parsed) - allowed - {"loop"}
        if unknown:
            line = next(
                (
                    i
                    for i, text in enumerate(source.text.splitlines(), 1)
                    if any(re.search(rf"\b{re.escape(u)}\b", text) for u in unknown)
                ),
                None,
            )
            problems.append(
                f"{where(line)}: unknown variable(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(allowed)) or 'none'}"
            )
            continue
        template = env.from_string(source.text)
        for label, values in cases.get(name, [("", {})]):
            try:
                problem = html_problem(render_bounded(template, values), TELEGRAM_LIMIT)
                line = _line_of(source.text, problem or "")
            except MemoryError:
                problem, line = "rendering needs too much memory", None
            except Exception as exc:  # whatever the template raised is the admin's to fix
                problem, line = f"{exc}", template_line(exc)
            if problem:
                problems.append(f"{where(line, label)}: {problem}")
                break
    return problems


def main(argv: list[str]) -> int:
    """Child process: check the file; print progress lines, then one JSON line with the problems."""
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    problems = validate(Path(argv[0]), int(argv[1]), lambda name: print(f"rendering {name}", flush=True))
    print(json.dumps({"problems": problems}), flush=True)
    return 0
