"""The templates file the console edits: checked by the same render check as /reload, saved atomically,
and every replaced version kept in DATA_DIR/template_versions/ so that it can be restored."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from bot.console.limits import TEMPLATE_VERSIONS_KEPT
from bot.replies.template_check import samples
from bot.replies.templates import DEFAULT_PATH, TemplateError, Templates
from bot.settings import Settings

FOLDER = "template_versions"
VERSION_NAME = re.compile(r"\d{8}-\d{6}(-\d+)?\.yaml")
SHOWN = ("greeting", "answer", "related", "no_answer", "stale_notice")  # the replies a resident sees most


class TemplateStore:
    def __init__(self, settings: Settings) -> None:
        self.target = settings.templates_path
        self.quote_chars = settings.answer_max_chars
        self.versions_dir = settings.data_dir / FOLDER
        self.scratch = settings.data_dir / "console_uploads"

    @property
    def path(self) -> Path:
        """The file the bot reads: BULLETIN_TEMPLATES_PATH, or the built-in one."""
        return self.target or DEFAULT_PATH

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def check(self, text: str) -> Templates:
        """The templates of `text` after the /reload check (in a child process); TemplateError lists every
        problem with its line, naming the file it will be saved as."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as folder:
            candidate = Path(folder) / self.path.name
            candidate.write_text(text, encoding="utf-8")
            try:
                return Templates(candidate, self.quote_chars)
            except TemplateError as exc:
                raise TemplateError(str(exc).replace(str(candidate), self.path.name)) from None

    def save(self, text: str) -> str:
        """Check, keep the file in use as a version, then replace it in one step; the kept version's name."""
        if self.target is None:
            raise TemplateError(
                "BULLETIN_TEMPLATES_PATH is not set: the bot uses its built-in templates, which are not edited "
                "here; set it to a file in the data directory (e.g. data/templates.yaml) and restart the bot"
            )
        self.check(text)
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        kept = ""
        if self.target.exists():
            kept = self._version_name()
            (self.versions_dir / kept).write_bytes(self.target.read_bytes())
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.target.parent, prefix=".templates-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.target)
        self._prune()
        return kept

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted((p.name for p in self.versions_dir.iterdir() if VERSION_NAME.fullmatch(p.name)), reverse=True)

    def version_text(self, name: str) -> str:
        if not VERSION_NAME.fullmatch(name) or name not in self.versions():
            raise TemplateError(f"no kept template version {name!r}")
        return (self.versions_dir / name).read_text(encoding="utf-8")

    def _version_name(self) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name, n = f"{stamp}.yaml", 1
        while (self.versions_dir / name).exists():
            n += 1
            name = f"{stamp}-{n}.yaml"
        return name

    def _prune(self) -> None:
        for name in self.versions()[TEMPLATE_VERSIONS_KEPT:]:
            (self.versions_dir / name).unlink(missing_ok=True)

    def sample_replies(self, templates: Templates) -> list[tuple[str, str, str]]:
        """(template, sample label, Telegram HTML) for the replies residents see."""
        cases = samples(self.quote_chars)
        return [
            (name, label, templates.render(name, **values)) for name in SHOWN for label, values in cases.get(name, [])
        ]
