"""What one staff command on the index did: printed for staff, recorded in the version manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.types import BulletinError


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
