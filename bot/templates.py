"""Admin-editable answer templates: Jinja2 in a sandbox, validated on load, old set kept on error."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

logger = logging.getLogger(__name__)

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
}
MAX_TEMPLATE_CHARS = 4000


class TemplateError(Exception):
    """A template file is unusable; the message names the template and line."""


class Templates:
    """A validated set of templates; `render` returns Telegram-ready HTML."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._env = SandboxedEnvironment(autoescape=True, trim_blocks=False, keep_trailing_newline=False)
        self._compiled = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TemplateError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{self.path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise TemplateError(f"{self.path}: expected a mapping of template names to text")
        missing = sorted(set(VARIABLES) - set(data))
        if missing:
            raise TemplateError(f"{self.path}: missing templates: {', '.join(missing)}")
        compiled = {}
        for name, allowed in VARIABLES.items():
            source = data[name]
            if not isinstance(source, str) or len(source) > MAX_TEMPLATE_CHARS:
                raise TemplateError(f"template {name!r}: must be text of at most {MAX_TEMPLATE_CHARS} characters")
            try:
                parsed = self._env.parse(source)
            except TemplateSyntaxError as exc:
                raise TemplateError(f"template {name!r}, line {exc.lineno}: {exc.message}") from None
            unknown = meta.find_undeclared_variables(parsed) - allowed - {"loop"}
            if unknown:
                line = next((i for i, text in enumerate(source.splitlines(), 1)
                             if any(re.search(rf"\b{re.escape(u)}\b", text) for u in unknown)), 1)
                raise TemplateError(
                    f"template {name!r}, line {line}: unknown variable(s) {', '.join(sorted(unknown))}; "
                    f"allowed: {', '.join(sorted(allowed)) or 'none'}")
            compiled[name] = self._env.from_string(source)
        return compiled

    def reload(self) -> None:
        """Re-read the file; on any error keep the templates in use and raise TemplateError."""
        self._compiled = self._load()

    def render(self, name: str, **values: Any) -> str:
        """Render a template to HTML; values should be plain strings, numbers, lists and dicts."""
        return self._compiled[name].render(**values).strip()


def html_to_text(markup: str) -> str:
    """Telegram HTML → plain terminal text."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
