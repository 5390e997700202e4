"""What one staff command on the index did: printed for staff, recorded in the version manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from index.manifest import describe_operation
from index.parse import MAX_ARTICLE_CHARS
from index.types import BulletinError

if TYPE_CHECKING:
    from index.store import IndexStore


@dataclass
class BuildReport:
    """What one staff command did, printed for staff and stored in the version manifest."""

    action: str
    version: str | None = None
    changed: bool = False
    issues: int = 0
    articles: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0  # vectors taken from passages with the same text already in the index
    added_issues: list[str] = field(default_factory=list)
    replaced_issues: list[str] = field(default_factory=list)
    unchanged_issues: list[str] = field(default_factory=list)
    removed_issues: list[str] = field(default_factory=list)
    empty_articles: list[str] = field(default_factory=list)
    fragments_removed: list[str] = field(default_factory=list)
    truncated_articles: list[str] = field(default_factory=list)
    # per issue: breaks joined, running headers/footers dropped ("2022-12-05: 5 breaks joined")
    layout_repairs: list[str] = field(default_factory=list)
    failed_files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    def operation(self) -> dict:
        """What the version's manifest records about the command that made it."""
        return {
            "action": self.action,
            "added": self.added_issues,
            "replaced": self.replaced_issues,
            "removed": self.removed_issues,
        }


def nothing_readable(report: BuildReport) -> BulletinError:
    """The error for a command none of whose files could be read, with each file's reason."""
    return BulletinError(
        "no bulletin could be read: " + "; ".join(f"{name}: {reason}" for name, reason in report.failed_files.items())
    )


def report_lines(report: BuildReport) -> list[str]:
    """A short build report for staff (the CLI prints it; the web console shows it)."""
    state = f"new version {report.version}" if report.changed else f"no change; {report.version} stays current"
    lines = [f"{report.action}: {state}"]
    reused = f", {report.reused} reused from identical passages" if report.reused else ""
    rate = f", {report.embedded / report.seconds:.0f} passages/s" if report.embedded and report.seconds else ""
    lines.append(
        f"  issues {report.issues}, articles {report.articles}, passages {report.passages} "
        f"({report.embedded} embedded{reused}), {report.seconds:.1f}s{rate}"
    )
    for label, items in (
        ("added", report.added_issues),
        ("replaced", report.replaced_issues),
        ("unchanged", report.unchanged_issues),
        ("removed", report.removed_issues),
    ):
        if items:
            lines.append(f"  {label}: {', '.join(items)}")
    lines += [f"  skipped empty article: {title}" for title in report.empty_articles]
    lines += [f"  removed pasted fragment: {note}" for note in report.fragments_removed]
    lines += [f"  layout repaired: {note}" for note in report.layout_repairs]
    lines += [f"  article cut to its first {MAX_ARTICLE_CHARS:,} characters: {t}" for t in report.truncated_articles]
    lines += [f"  FAILED {name}: {reason}" for name, reason in report.failed_files.items()]
    return lines


def version_history(store: IndexStore) -> dict:
    """The current version and its ancestors (what rollback walks back through), then the other kept versions."""
    rows = {}
    for name in store.versions():
        try:
            manifest = store.manifest(name)
            rows[name] = {
                "version": name,
                "parent": manifest.get("parent"),
                "operation": describe_operation(manifest),
                "created": manifest["created"],
            }
        except BulletinError as exc:
            rows[name] = {"version": name, "parent": None, "operation": "?", "created": "", "error": str(exc)}
    chain, version = [], store.current_or_none()
    while version in rows and rows[version] not in chain:
        chain.append(rows[version])
        version = rows[version]["parent"]
    other = [row for version, row in sorted(rows.items(), reverse=True) if row not in chain]
    return {"current": store.current_or_none(), "chain": chain, "other": other}
