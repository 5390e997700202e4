"""The manifest of an index version: what it holds, its checksums, its parent and the operation that made it.

Everything read from a manifest is checked here, so a damaged or planted one is a BulletinError
with a clear message, never an exception deep inside loading."""

from __future__ import annotations

import re

from index.types import BulletinError

FORMAT = 1
INDEX_FILE, META_FILE, MANIFEST_FILE = "index.faiss", "meta.sqlite", "manifest.json"
REQUIRED_FILES = (INDEX_FILE, META_FILE, "lexical.npz", "lexical_vocab.json")
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
COUNTS = ("issues", "articles", "passages")


def is_version_name(name: object) -> bool:
    """A plain folder name that a version could have (no path, no hidden or staging folder)."""
    return isinstance(name, str) and name.startswith("v") and PLAIN_NAME.fullmatch(name) is not None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_manifest(data: object, name: str) -> dict:
    """Return the manifest if every field loading and listing rely on has the right shape."""

    def bad(reason: str) -> BulletinError:
        return BulletinError(f"version {name}: manifest {reason}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f"is not a format-{FORMAT} manifest")
    for key in ("model", "created"):
        if not isinstance(data.get(key), str):
            raise bad(f"field {key!r} is not text")
    if not _is_int(data.get("dimension")):
        raise bad("field 'dimension' is not a number")
    counts = data.get("counts")
    if not isinstance(counts, dict) or not all(_is_int(counts.get(k)) for k in COUNTS):
        raise bad("field 'counts' is not a table of counts (issues, articles, passages)")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise bad("field 'files' is not a table of file checksums")
    for file_name in files:
        if not PLAIN_NAME.fullmatch(file_name):
            raise bad(f"lists the file name {file_name!r}, which is not a plain file name")
    missing = [f for f in REQUIRED_FILES if f not in files]
    if missing:
        raise bad(f"does not list {', '.join(missing)}")
    issues = data.get("issues", {})
    if not isinstance(issues, dict) or not all(
        isinstance(i, dict) and isinstance(i.get("date"), str) and _is_int(i.get("articles")) for i in issues.values()
    ):
        raise bad("field 'issues' is not a table of issues")
    parent = data.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise bad("field 'parent' is not a version name")
    for key in ("operation", "report"):
        if not isinstance(data.get(key, {}), dict):
            raise bad(f"field {key!r} is not a table")
    return data


def describe_operation(manifest: dict) -> str:
    """The operation that made a version, for staff: 'add 2023-02-06', 'remove 2022-11-28', 'build 5 issues'."""
    operation = manifest.get("operation") or manifest.get("report") or {}  # "report": manifests before 'operation'
    action = str(operation.get("action", "?"))
    if action == "build":
        return f"build {manifest['counts']['issues']} issues"

    def names(key: str) -> str:
        value = operation.get(key)
        return ", ".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else ""

    parts = [action]
    if names("added"):
        parts.append(names("added"))
    if names("replaced"):
        parts.append(f"--replace {names('replaced')}")
    if names("removed"):
        parts.append(names("removed"))
    return " ".join(parts)
