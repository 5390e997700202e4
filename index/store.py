"""Versioned on-disk index: FAISS vectors + SQLite metadata + manifest, switched atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from index.lexical import LexicalIndex
from index.types import Article, BulletinError, Issue, Passage

logger = logging.getLogger(__name__)

FORMAT = 1
INDEX_FILE, META_FILE, MANIFEST_FILE = "index.faiss", "meta.sqlite", "manifest.json"
SCHEMA = """
CREATE TABLE issues (issue_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, issue_date TEXT NOT NULL,
    date_source TEXT NOT NULL, content_hash TEXT NOT NULL, notes TEXT NOT NULL);
CREATE TABLE articles (article_id TEXT PRIMARY KEY, issue_id TEXT NOT NULL REFERENCES issues,
    position INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, source TEXT NOT NULL,
    article_date TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles, position INTEGER NOT NULL, text TEXT NOT NULL);
"""


# Exact search while small (a flat scan reads every vector: ~8 ms per 40k passages);
# beyond this many passages, HNSW (recall@10 against exact search: benchmarks/RESULTS.md).
EXACT_LIMIT = 20_000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 1024  # efSearch: recall@10 ≥ 0.98 at 200k


@dataclass
class Snapshot:
    """Everything one index version holds; passages[i] is FAISS row i and lexical row i."""

    model: str
    issues: dict[str, Issue]
    articles: dict[str, Article]
    passages: list[Passage]
    faiss_index: faiss.Index | None = None
    lexical: LexicalIndex | None = None
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
    """Inner-product (cosine) search over unit vectors: exact while small, HNSW beyond EXACT_LIMIT."""
    if wants_exact(len(vectors)):
        index = faiss.IndexFlatIP(vectors.shape[1])
    else:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if len(vectors):
        index.add(vectors)
    return index


class IndexStore:
    """The `versions/` folder and the `CURRENT` pointer under the data directory."""

    def __init__(self, data_dir: Path, keep_versions: int = 5) -> None:
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self.data_dir = Path(data_dir)
        self.versions_dir = self.data_dir / "versions"
        self.pointer = self.data_dir / "CURRENT"
        self.keep_versions = keep_versions

    def current(self) -> str | None:
        """Name of the version in use, or None before the first build."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def versions(self) -> list[str]:
        """Complete version folders, oldest first (unfinished `.tmp-*` folders are not versions)."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir() and p.name.startswith("v"))

    def _next_name(self) -> str:
        numbers = [int(name[1:5]) for name in self.versions() if name[1:5].isdigit()]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        return f"v{max(numbers, default=0) + 1:04d}-{stamp}"

    def write(self, snapshot: Snapshot, report: dict) -> str:
        """Write a new version next to the old ones, then point CURRENT at it atomically."""
        if not (len(snapshot.passages) == snapshot.faiss_index.ntotal == snapshot.lexical.size):
            raise BulletinError("internal error: passages, vectors and lexical rows differ in number")
        name = self._next_name()
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging = self.versions_dir / f".tmp-{name}-{os.getpid()}"
        try:
            staging.mkdir()
            # serialised in memory and written by Python, so a full disk is an OSError like any other
            (staging / INDEX_FILE).write_bytes(faiss.serialize_index(snapshot.faiss_index).tobytes())
            self._write_meta(staging / META_FILE, snapshot)
            files = [INDEX_FILE, META_FILE] + snapshot.lexical.save(staging)
            manifest = {
                "format": FORMAT,
                "version": name,
                "parent": self.current(),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
                    i.issue_id: {"date": i.issue_date.isoformat(), "articles": len(i.articles),
                                 "file": i.file_name}
                    for i in sorted(snapshot.issues.values(), key=lambda i: i.issue_date)
                },
                "report": report,
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
                f"version {self.current()} stays current"
            ) from None
        self.prune()
        return name

    @staticmethod
    def _write_meta(path: Path, snapshot: Snapshot) -> None:
        db = sqlite3.connect(path)
        try:
            # a fresh file in a staging folder: the rename and fsyncs in `write` make it durable
            db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
            db.executemany(
                "INSERT INTO issues VALUES (?,?,?,?,?,?)",
                [
                    (i.issue_id, i.file_name, i.issue_date.isoformat(), i.date_source, i.content_hash,
                     json.dumps({"empty": i.empty_titles, "fragments": i.fragments_removed,
                                 "truncated": i.truncated_titles}, ensure_ascii=False))
                    for i in snapshot.issues.values()
                ],
            )
            db.executemany(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?)",
                [
                    (a.article_id, a.issue_id, a.position, a.title, a.body, a.source,
                     a.article_date.isoformat() if a.article_date else None)
                    for a in snapshot.articles.values()
                ],
            )
            db.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?)",
                [(row, p.passage_id, p.article_id, p.position, p.text) for row, p in enumerate(snapshot.passages)],
            )
            db.commit()
        finally:
            db.close()

    def switch(self, name: str) -> None:
        """Point CURRENT at a version: write a temporary file, then rename over the pointer."""
        if name not in self.versions():
            raise BulletinError(f"no index version {name!r}; see `bulletin-bot index list`")
        staging = self.pointer.with_suffix(f".tmp-{os.getpid()}")
        staging.write_text(name + "\n", encoding="utf-8")
        _fsync(staging)
        os.replace(staging, self.pointer)
        _fsync(self.data_dir)
        logger.info("index version %s is now current", name)

    def prune(self) -> None:
        """Keep the newest `keep_versions` versions (and always the current one); drop stale staging folders."""
        current = self.current()
        for stale in self.versions_dir.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for name in self.versions()[: -self.keep_versions]:
            if name != current:
                shutil.rmtree(self.versions_dir / name, ignore_errors=True)

    def manifest(self, name: str) -> dict:
        """The manifest of a version, or BulletinError if it is missing or unreadable."""
        try:
            data = json.loads((self.versions_dir / name / MANIFEST_FILE).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise BulletinError(f"version {name}: manifest unreadable ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BulletinError(f"version {name}: manifest is not a format-{FORMAT} manifest")
        return data

    def load(self, name: str | None = None, model: str | None = None) -> Snapshot:
        """Load and verify a version (default: the current one); refuse a mismatch with a clear message."""
        name = name or self.current()
        if name is None:
            raise BulletinError("no index yet: run `bulletin-bot index build DIR` first")
        folder = self.versions_dir / name
        manifest = self.manifest(name)
        if model is not None and manifest.get("model") != model:
            raise BulletinError(
                f"version {name} was built with model {manifest.get('model')!r} but the configured "
                f"model is {model!r}; rebuild with `bulletin-bot index build` or change BULLETIN_EMBEDDING_MODEL"
            )
        for file_name, expected in manifest.get("files", {}).items():
            path = folder / file_name
            if not path.is_file() or _sha256(path) != expected:
                raise BulletinError(f"version {name}: {file_name} is missing or corrupted (checksum mismatch)")
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError as exc:
            raise BulletinError(f"version {name}: FAISS index unreadable ({str(exc).splitlines()[0]})") from None
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        snapshot = self._read_meta(folder / META_FILE, name, manifest["model"])
        try:
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError) as exc:
            raise BulletinError(f"version {name}: lexical index unreadable ({exc})") from None
        counts = manifest.get("counts", {})
        if not (index.ntotal == len(snapshot.passages) == counts.get("passages") == lexical.size
                and len(snapshot.articles) == counts.get("articles")
                and len(snapshot.issues) == counts.get("issues")
                and index.d == manifest.get("dimension")):
            raise BulletinError(
                f"version {name}: manifest, FAISS index ({index.ntotal} vectors) and metadata "
                f"({len(snapshot.passages)} passages) disagree"
            )
        snapshot.manifest, snapshot.faiss_index, snapshot.lexical = manifest, index, lexical
        return snapshot

    @staticmethod
    def _read_meta(path: Path, name: str, model: str) -> Snapshot:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("quick_check failed")
                issues = {}
                for row in db.execute("SELECT * FROM issues"):
                    notes = json.loads(row[5])
                    issues[row[0]] = Issue(row[0], row[1], row[4], date.fromisoformat(row[2]), row[3], [],
                                           notes["empty"], notes["fragments"], notes["truncated"])
                articles = {}
                for row in db.execute("SELECT * FROM articles ORDER BY issue_id, position"):
                    article = Article(row[1], row[2], row[3], row[4], row[5],
                                      date.fromisoformat(row[6]) if row[6] else None)
                    articles[row[0]] = article
                    issues[row[1]].articles.append(article)
                passages = [Passage(r[0], r[1], r[2])
                            for r in db.execute("SELECT article_id, position, text FROM passages ORDER BY row")]
            finally:
                db.close()
        except (sqlite3.Error, KeyError, ValueError, TypeError) as exc:
            raise BulletinError(f"version {name}: metadata database unreadable ({exc})") from None
        return Snapshot(model, issues, articles, passages, version=name)
