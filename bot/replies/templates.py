"""Admin-editable answer templates: Jinja2 in a bounded sandbox, proven on sample answers before use.

Loading (and /reload) renders every template with sample values in a separate process under a time
and memory limit (bot/replies/template_check.py); only a set whose every sample renders as valid Telegram
HTML replaces the one in use. At run time a template that fails anyway is replaced by a built-in text."""

from __future__ import annotations

import html
import importlib.resources
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Template

from bot.replies.html_check import html_problem
from bot.replies.sandbox import BoundedSandbox, render_bounded

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(str(importlib.resources.files("bot") / "data" / "templates.yaml"))
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
WORKER_SECONDS = 20.0  # the whole check, Python's start included (each render has its own 2 s)

# Every template and the variables it may use: anything else is a typo that would render empty.
VARIABLES: dict[str, frozenset[str]] = {
    "greeting": frozenset({"issues", "latest_date"}),
    "help": frozenset({"issues", "latest_date"}),
    "answer": frozenset({"parts", "age_days", "stale_notice", "confidence"}),
    "related": frozenset({"parts", "age_days", "stale_notice", "confidence"}),
    "stale_notice": frozenset({"age", "age_days", "issue_date"}),
    "no_answer": frozenset({"question", "related"}),
    "empty_question": frozenset(),
    "non_text": frozenset(),
    "flood": frozenset({"seconds"}),
    "not_admin": frozenset(),
    "unknown_command": frozenset(),
    "feedback_thanks": frozenset(),
    "error": frozenset(),
    "new_issue": frozenset({"issue_date", "matches", "headlines"}),
}
MAX_TEMPLATE_CHARS = 4000
# Sent when a template fails at run time; the answer texts are built in bot/replies/reply.py.
FALLBACK = {
    "greeting": "您好！我是东昌府区新闻简报问答助手，请直接输入您的问题。",
    "help": "直接发送您的问题，我会从区新闻简报中摘录相关原文作答。",
    "empty_question": "请用文字提出您的问题。",
    "non_text": "目前我只能回答文字问题，请直接输入您想了解的内容。",
    "flood": "您操作太快了，请稍后再试。",
    "not_admin": "抱歉，此命令仅限管理员使用。",
    "unknown_command": "我不认识这个命令。发送 /help 查看使用方法。",
    "feedback_thanks": "谢谢您的反馈！",
    "error": "抱歉，处理您的问题时出了点问题，请稍后再试。",
    "new_issue": "📰 新一期简报已发布，点下方「原文」按钮阅读。",
}


class TemplateError(Exception):
    """A template file is unusable; the message names the file, the line in it and the template."""


@dataclass(frozen=True)
class Source:
    """One template's text and where it starts in the file."""

    text: str
    line: int  # line of the file holding the template's first line
    exact: bool  # a `|` block (or one line): template line n is file line `line + n - 1`

    def file_line(self, template_line: int | None) -> int:
        return self.line + template_line - 1 if self.exact and template_line else self.line


def read_sources(path: Path) -> dict[str, Source]:
    """The templates of a YAML file with their file lines; TemplateError says what is wrong, with the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: not UTF-8 text") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise TemplateError(f"{path}{line}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(root, yaml.MappingNode):
        raise TemplateError(f"{path}: expected a mapping of template names to text")
    sources = {}
    for key, value in root.value:
        if not isinstance(value, yaml.ScalarNode) or value.tag != "tag:yaml.org,2002:str":
            raise TemplateError(f"{path}, line {key.start_mark.line + 1}: template {key.value!r} must be text")
        block = value.style == "|"  # its text starts on the line after the `|`
        sources[key.value] = Source(
            value.value, value.start_mark.line + (2 if block else 1), block or "\n" not in value.value
        )
    return sources


def check_in_worker(path: Path, quote_chars: int) -> None:
    """Render every template on samples in a child process that can be stopped; raise TemplateError."""
    code = (
        f"import sys; root = {PACKAGE_ROOT!r}; root in sys.path or sys.path.insert(0, root); "
        "from bot.replies.template_check import main; sys.exit(main(sys.argv[1:]))"
    )
    # -I and an empty environment: the child needs nothing of ours (and gets no token)
    process = subprocess.Popen(
        [sys.executable, "-I", "-c", code, str(path), str(quote_chars)],
        env={},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        out, err = process.communicate(timeout=WORKER_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise TemplateError(_stopped(path, out, f"rendering did not finish within {WORKER_SECONDS:g} s")) from None
    lines = out.strip().splitlines()
    try:
        problems = json.loads(lines[-1])["problems"]
    except (IndexError, ValueError, KeyError, TypeError):
        last = (err.strip().splitlines() or [f"exit code {process.returncode}"])[-1]
        raise TemplateError(_stopped(path, out, f"the template check stopped ({last})")) from None
    if problems:
        raise TemplateError("\n".join(problems))


def _stopped(path: Path, progress: str, why: str) -> str:
    """Name the template the child was rendering when it was stopped."""
    names = [line.removeprefix("rendering ") for line in progress.splitlines() if line.startswith("rendering ")]
    if not names:
        return f"{path}: {why}"
    try:
        line = read_sources(path)[names[-1]].line
    except (TemplateError, KeyError):
        return f"{path}, template {names[-1]!r}: {why}"
    return f"{path}, line {line}, template {names[-1]!r}: {why}"


class Templates:
    """A checked set of templates; `render` returns Telegram-ready HTML."""

    def __init__(self, path: Path | None = None, quote_chars: int = 360) -> None:
        self.path = Path(path) if path else DEFAULT_PATH
        self.quote_chars = quote_chars  # the longest quote, for the sample answers
        self._env = BoundedSandbox()
        self._compiled = self._load()

    def _load(self) -> dict[str, Template]:
        check_in_worker(self.path, self.quote_chars)
        sources = read_sources(self.path)  # parsing alone is safe: the sandbox folds no huge constants
        return {name: self._env.from_string(sources[name].text) for name in VARIABLES}

    def reload(self) -> None:
        """Re-read and check the file; on any problem keep the templates in use and raise TemplateError.

        Takes up to a few seconds: call it off the event loop."""
        self._compiled = self._load()

    def render(self, name: str, fallback: str | None = None, **values: Any) -> str:
        """Render a template to HTML (values: plain strings, numbers, lists and dicts); should it fail
        on these values, log it and return `fallback` or the built-in text. Call it off the event loop."""
        try:
            text = render_bounded(self._compiled[name], values)
            problem = html_problem(text, limit=None)  # a long reply is split when sent
        except Exception as exc:  # any error of a template must not leave a resident without a reply
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            return text
        logger.error("template %r failed at run time, sent the built-in text instead: %s", name, problem)
        return fallback if fallback is not None else FALLBACK[name]


def html_to_text(markup: str) -> str:
    """Telegram HTML → plain terminal text."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
