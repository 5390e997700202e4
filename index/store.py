"""Versioned on-disk index: FAISS vectors + SQLite metadata + manifest, switched atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from index.lexical import LexicalIndex
from index.manifest import FORMAT, INDEX_FILE, MANIFEST_FILE, META_FILE, check_manifest, is_version_name
from index.meta import read_checked, write_meta
from index.types import Article, BulletinError, Issue, Passage

logger = logging.getLogger(__name__)

# Exact search while small (a flat scan reads every vector: ~8 ms per 40k passages);
# beyond this many passages, HNSW (recall@10 against exact search: benchmarks/RESULTS.md).
EXACT_LIMIT = 20_000
# On the 213k passages of the 50k-article benchmark corpus (many passages repeated word for word, which
# HNSW finds hard), recall@10 against exact search (benchmarks/run.py): efConstruction 80 stopped at 0.917
# even with efSearch 1,024; with 200 (the graph built in 53 s) it is 0.975 / 0.988 / 0.995 at efSearch
# 512 / 1,024 / 2,048. 1,024 costs ~8 ms a question. Vectors are stored as float16 (IndexHNSWSQ): half the
# memory (493 → 276 MB on disk, the same in RAM) at the same speed and recall.
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 200, 1024


@dataclass
class Snapshot:
    """Everything one index version holds; passages[i] is FAISS row i and lexical row i."""

    model: str
    issues: dict[str, Issue]
    articles: dict[str, Article]
    passages: list[Passage]
    faiss_index: faiss.Index
    lexical: LexicalIndex
    version: str = ""
    manifest: dict = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wants_exact(count: int) -> bool:
    """Whether an index of this many vectors should use exact search."""
    return count <= EXACT_LIMIT


def build_faiss(vectors: np.ndarray) -> faiss.Index:
    """Inner-product (cosine) search over unit vectors: exact while small, HNSW (float16 vectors) beyond
    EXACT_LIMIT."""
    index: faiss.Index
    if wants_exact(len(vectors)):
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        # faiss's type stub names the quantizer class where SWIG takes its QuantizerType value (an int)
        fp16 = faiss.ScalarQuantizer.QT_fp16
        hnsw = faiss.IndexHNSWSQ(vectors.shape[1], fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    if len(vectors):
        index.add(vectors)
    return index


class IndexStore:
    """The `versions/` folder and the `CURRENT` pointer under the data directory."""

    def __init__(self, data_dir: Path, keep_versions: int) -> None:
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self.data_dir = Path(data_dir)
        self.versions_dir = self.data_dir / "versions"
        self.pointer = self.data_dir / "CURRENT"
        self.keep_versions = keep_versions

    def pointer_text(self) -> str | None:
        """What CURRENT says, unchecked (None when there is no CURRENT file)."""
        try:
            return self.pointer.read_text(encoding="utf-8", errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BulletinError(f"CURRENT pointer unreadable ({exc.strerror or exc})") from None

    def current(self) -> str | None:
        """Name of the version in use, or None before the first build.

        CURRENT must name a version folder directly inside versions/: anything else (a path, a
        deleted or unfinished version) is refused, never followed."""
        text = self.pointer_text()
        if text is None:
            return None
        if not is_version_name(text):
            raise BulletinError(
                f"CURRENT points to {text!r}, which is not a version folder inside "
                f"{self.versions_dir}; refused. Repair it with `bulletin-bot index rollback VERSION`"
            )
        if text not in self.versions():
            raise BulletinError(
                f"CURRENT names version {text}, which does not exist (deleted?); "
                "repair it with `bulletin-bot index rollback VERSION`"
            )
        return text

    def current_or_none(self) -> str | None:
        """The current version, or None when there is none or CURRENT is bad (for notes and records)."""
        try:
            return self.current()
        except BulletinError:
            return None

    def versions(self) -> list[str]:
        """Complete version folders, oldest first (unfinished `.tmp-*` folders and symlinks are not versions)."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.versions_dir.iterdir() if is_version_name(p.name) and p.is_dir() and not p.is_symlink()
        )

    def _folder(self, name: str) -> Path:
        """The folder of a version named by staff or a pointer; a path is refused, never followed."""
        if not is_version_name(name):
            raise BulletinError(
                f"{name!r} is not a version name (like v0003-20240101T120000); see `bulletin-bot index list`"
            )
        return self.versions_dir / name

    def _next_name(self) -> str:
        numbers = [int(name[1:5]) for name in self.versions() if name[1:5].isdigit()]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return f"v{max(numbers, default=0) + 1:04d}-{stamp}"

    def write(self, snapshot: Snapshot, operation: dict) -> str:
        """Write a new version next to the old ones, then point CURRENT at it atomically.

        The manifest records the parent (the version current until now) and the operation, so
        `rollback` can undo exactly this change."""
        if not (len(snapshot.passages) == snapshot.faiss_index.ntotal == snapshot.lexical.size):
            raise BulletinError("internal error: passages, vectors and lexical rows differ in number")
        name = self._next_name()
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging = self.versions_dir / f".tmp-{name}-{os.getpid()}"
        try:
            staging.mkdir()
            # serialised in memory and written by Python, so a full disk is an OSError like any other
            (staging / INDEX_FILE).write_bytes(faiss.serialize_index(snapshot.faiss_index).tobytes())
            write_meta(
                staging / META_FILE, list(snapshot.issues.values()), list(snapshot.articles.values()), snapshot.passages
            )
            files = [INDEX_FILE, META_FILE] + snapshot.lexical.save(staging)
            manifest = {
                "format": FORMAT,
                "version": name,
                "parent": self.current_or_none(),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "model": snapshot.model,
                "dimension": int(snapshot.faiss_index.d),
                "faiss": type(snapshot.faiss_index).__name__,
                "counts": {
                    "issues": len(snapshot.issues),
                    "articles": len(snapshot.articles),
                    "passages": len(snapshot.passages),
                },
                "files": {f: _sha256(staging / f) for f in files},
                "issues": {
                    i.issue_id: {"date": i.dated.isoformat(), "articles": len(i.articles), "file": i.file_name}
                    for i in sorted(snapshot.issues.values(), key=lambda i: i.dated)
                },
                "operation": operation,
            }
            (staging / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
            for f in files + [MANIFEST_FILE]:
                _fsync(staging / f)
            os.rename(staging, self.versions_dir / name)
            _fsync(self.versions_dir)
            self.switch(name)
        except (OSError, sqlite3.Error) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            reason = getattr(exc, "strerror", None) or exc
            raise BulletinError(
                f"cannot write index version in {self.versions_dir}: {reason}; "
                f"version {self.current_or_none()} stays current"
            ) from None
        self.prune()
        return name

    def switch(self, name: str) -> None:
        """Point CURRENT at a version: write a temporary file, then rename over the pointer."""
        self._folder(name)
        if name not in self.versions():
            raise BulletinError(f"no index version {name!r}; see `bulletin-bot index list`")
        staging = self.pointer.with_suffix(f".tmp-{os.getpid()}")
        staging.write_text(name + "\n", encoding="utf-8")
        _fsync(staging)
        os.replace(staging, self.pointer)
        _fsync(self.data_dir)
        logger.info("index version %s is now current", name)

    def parent(self, name: str) -> str | None:
        """The version a version was made from (None for a first build or an unreadable manifest)."""
        try:
            return self.manifest(name).get("parent")
        except BulletinError:
            return None

    def prune(self) -> None:
        """Keep the newest `keep_versions` versions, and always the current one and its parent (what
        `rollback` returns to); drop stale staging folders."""
        current = self.current_or_none()
        keep = {current, self.parent(current) if current else None}
        for stale in self.versions_dir.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for name in self.versions()[: -self.keep_versions]:
            if name not in keep:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)

    def manifest(self, name: str) -> dict:
        """The manifest of a version, or BulletinError if it is missing or unreadable."""
        try:
            data = json.loads((self._folder(name) / MANIFEST_FILE).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise BulletinError(f"version {name}: manifest unreadable ({exc})") from None
        return check_manifest(data, name)

    def load(self, name: str | None = None, model: str | None = None) -> Snapshot:
        """Load and verify a version (default: the current one); refuse a mismatch with a clear message."""
        name = name or self.current()
        if name is None:
            raise BulletinError("no index yet: run `bulletin-bot index build DIR` first")
        folder = self._folder(name)
        manifest = self.manifest(name)
        if model is not None and manifest["model"] != model:
            raise BulletinError(
                f"version {name} was built with model {manifest['model']!r} but the configured "
                f"model is {model!r}; rebuild with `bulletin-bot index build` or change BULLETIN_EMBEDDING_MODEL"
            )
        for file_name, expected in manifest["files"].items():
            path = folder / file_name
            if not path.is_file() or _sha256(path) != expected:
                raise BulletinError(f"version {name}: {file_name} is missing or corrupted (checksum mismatch)")
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError as exc:
            raise BulletinError(f"version {name}: FAISS index unreadable ({str(exc).splitlines()[0]})") from None
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        issues, articles, passages = read_checked(folder / META_FILE, name)
        try:
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BulletinError(f"version {name}: lexical index unreadable ({exc})") from None
        snapshot = Snapshot(manifest["model"], issues, articles, passages, index, lexical, name, manifest)
        counts = manifest["counts"]
        if not (
            index.ntotal == len(snapshot.passages) == counts["passages"] == lexical.size
            and len(snapshot.articles) == counts["articles"]
            and len(snapshot.issues) == counts["issues"]
            and index.d == manifest["dimension"]
        ):
            raise BulletinError(
                f"version {name}: manifest, FAISS index ({index.ntotal} vectors) and metadata "
                f"({len(snapshot.passages)} passages) disagree"
            )
        return snapshot
