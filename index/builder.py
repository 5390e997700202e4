"""Staff operations on the index: build, add, remove, rollback — each one new version or none."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout

from index.chunk import chunk_article
from index.embed import Embedder
from index.formats.limits import PARSE_MEMORY_BYTES, PARSE_SECONDS
from index.guard import FileReader
from index.lexical import LexicalIndex
from index.normalize import tokenize
from index.parse import date_undated_issue
from index.report import BuildReport, nothing_readable
from index.store import IndexStore, Snapshot, build_faiss, wants_exact
from index.types import BulletinError, DateSource, Issue
from index.vectors import embedding_text, reconstruct, vectors_for

logger = logging.getLogger(__name__)

EXPLICIT_DATES: tuple[DateSource, ...] = ("file name", "--date", "masthead", "text")
# the files `index build DIR` takes from a folder; each is then read by what its content is
BULLETIN_SUFFIXES = (".txt", ".pdf", ".docx", ".html", ".htm")


def bulletin_files(folder: Path) -> list[Path]:
    """The issue files (.txt, .pdf, .docx, .html, .htm) in a folder, in name order."""
    if not folder.is_dir():
        raise BulletinError(f"{folder}: not a directory")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in BULLETIN_SUFFIXES and p.is_file())


def _labels(paths: list[Path]) -> dict[Path, str]:
    """How each file is named in the report: its name, or the path as given when two share a name."""
    names = Counter(p.name for p in paths)
    return {p: p.name if names[p.name] == 1 else str(p) for p in paths}


class IndexBuilder:
    """Parses, embeds and stores issues; holds the data-directory lock while it works."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        max_file_bytes: int,
        lock_timeout: float = 600.0,
        parse_seconds: float = PARSE_SECONDS,
        parse_memory_bytes: int = PARSE_MEMORY_BYTES,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.max_file_bytes = max_file_bytes
        self.lock_timeout = lock_timeout
        self.parse_seconds = parse_seconds  # each file is read in a child process bounded by these (index/guard.py)
        self.parse_memory_bytes = parse_memory_bytes

    def warm_up(self) -> None:
        """Load the embedding model and the word segmenter's dictionary."""
        self.embedder.warm_up()
        tokenize("预热")

    def _locked(self) -> FileLock:
        self.store.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.store.data_dir / "index.lock"), timeout=self.lock_timeout)

    def _base(self) -> Snapshot | None:
        """The current version, when one exists and suits the configured model."""
        if self.store.current() is None:
            return None
        return self.store.load(model=self.embedder.model_name)

    def _parse(
        self, paths: list[Path], issue_date: date | None, report: BuildReport, known_dates: list[date]
    ) -> list[Issue]:
        labels, parsed = _labels(paths), []
        with FileReader(self.parse_seconds, self.parse_memory_bytes) as reader:  # one child for the command
            for path in paths:
                try:
                    parsed.append(reader.parse(path, self.max_file_bytes, issue_date))
                except BulletinError as exc:
                    report.failed_files[labels[path]] = str(exc).removeprefix(f"{path.name}: ")
                    logger.warning("skipped %s", exc)
        issues = self._distinct(parsed, report, {str(p.absolute()): labels[p] for p in paths})
        anchors = known_dates + [i.dated for i in issues if i.date_source in EXPLICIT_DATES]
        for issue in issues:
            date_undated_issue(issue, anchors, date.today())
            report.empty_articles += [f"{issue.issue_id}: {t}" for t in issue.empty_titles]
            report.fragments_removed += [f"{issue.issue_id}: {n}" for n in issue.fragments_removed]
            report.truncated_articles += [f"{issue.issue_id}: {t}" for t in issue.truncated_titles]
            repairs = [
                f"{len(issue.joined_breaks)} layout breaks joined" if issue.joined_breaks else "",
                f"{len(issue.dropped_lines)} lines dropped (headers, footers, masthead)" if issue.dropped_lines else "",
                (
                    f"NOT INDEXED: pages {', '.join(map(str, issue.pages_without_text))} have no text layer "
                    "(scanned?; OCR is not supported)"
                )
                if issue.pages_without_text
                else "",
            ]
            if any(repairs):
                report.layout_repairs.append(f"{issue.issue_id} ({issue.kind}): " + ", ".join(r for r in repairs if r))
        return issues

    @staticmethod
    def _distinct(parsed: list[Issue], report: BuildReport, labels: dict[str, str]) -> list[Issue]:
        """One issue per id and per content: files of one command that claim the same id with
        different content are all refused (which one is meant is for staff to say, by renaming);
        a file given twice, or a copy under another name, is indexed once."""
        by_id: dict[str, list[Issue]] = defaultdict(list)
        for issue in parsed:
            by_id[issue.issue_id].append(issue)
        issues: list[Issue] = []
        seen: dict[str, str] = {}  # content hash → issue id
        for issue_id, group in by_id.items():
            if len({i.content_hash for i in group}) > 1:
                for issue in group:
                    others = ", ".join(i.source_path for i in group if i is not issue)
                    report.failed_files[labels[issue.source_path]] = (
                        f"{issue.source_path} and {others} would both be issue {issue_id!r} but differ; "
                        "neither was indexed: rename one of them"
                    )
                continue
            issue = group[0]
            if issue.content_hash in seen:
                report.unchanged_issues.append(f"{issue_id} (same content as {seen[issue.content_hash]})")
                continue
            seen[issue.content_hash] = issue_id
            issues.append(issue)
        return issues

    def _commit(self, base: Snapshot | None, issues: dict[str, Issue], report: BuildReport) -> BuildReport:
        """Chunk, embed and segment only what is new, and write a version if anything changed.

        Kept passages keep their rows and new ones are appended, so adding an issue extends the
        FAISS and BM25 indexes in place; dropping passages rebuilds them from the kept vectors."""
        old = base.passages if base else []
        # issues carried over from the base keep their passages; only the others are chunked
        carried = {i for i, issue in issues.items() if base is not None and base.issues.get(i) is issue}
        wanted = [p for p in old if base is not None and base.articles[p.article_id].issue_id in carried] + [
            p
            for issue in sorted(issues.values(), key=lambda i: (i.issue_date, i.issue_id))
            if issue.issue_id not in carried
            for article in issue.articles
            for p in chunk_article(article)
        ]
        wanted_ids = {p.passage_id for p in wanted}
        old_ids = {p.passage_id for p in old}
        kept_rows = [row for row, p in enumerate(old) if p.passage_id in wanted_ids]
        new = list({p.passage_id: p for p in wanted if p.passage_id not in old_ids}.values())
        report.changed = (
            bool(new) or len(kept_rows) != len(old) or (set(base.issues) != set(issues) if base else bool(issues))
        )
        if not report.changed:
            report.version = self.store.current()
            report.issues, report.articles, report.passages = (
                (len(base.issues), len(base.articles), len(base.passages)) if base else (0, 0, 0)
            )
            return report
        articles = {a.article_id: a for i in issues.values() for a in i.articles}
        texts = [embedding_text(articles[p.article_id].title, p) for p in new]
        fresh, report.embedded, report.reused = vectors_for(self.embedder, base, new, texts)
        tokens = [tokenize(text) for text in texts]
        passages = [old[row] for row in kept_rows] + new
        if (
            base is not None
            and len(kept_rows) == len(old)
            and (isinstance(base.faiss_index, faiss.IndexFlat) == wants_exact(len(passages)))
        ):
            index = base.faiss_index  # append in place: the base was loaded for this command only
            if len(fresh):
                index.add(fresh)
            lexical = base.lexical.extended(tokens)
        else:
            kept = reconstruct(base.faiss_index, kept_rows) if base else np.zeros((0, fresh.shape[1]), np.float32)
            index = build_faiss(np.vstack([kept, fresh]) if len(fresh) else kept)
            lexical = (base.lexical.select(kept_rows) if base else LexicalIndex.empty()).extended(tokens)
        snapshot = Snapshot(self.embedder.model_name, issues, articles, passages, index, lexical)
        report.issues, report.articles, report.passages = len(issues), len(articles), len(passages)
        report.version = self.store.write(snapshot, report.operation())
        return report

    def _run(self, action: str, work) -> BuildReport:
        started = time.perf_counter()
        report = BuildReport(action)
        try:
            with self._locked():
                work(report)
        except Timeout:
            raise BulletinError("another index command is running (lock held); try again when it ends") from None
        report.seconds = round(time.perf_counter() - started, 2)
        return report

    def build(self, paths: list[Path], issue_date: date | None = None) -> BuildReport:
        """Index exactly these issue files (vectors of unchanged passages are reused)."""

        def work(report: BuildReport) -> None:
            issues = self._parse(paths, issue_date, report, [])
            if not issues:
                raise (
                    nothing_readable(report)
                    if report.failed_files
                    else BulletinError("no bulletin files given (.txt, .pdf, .docx, .html)")
                )
            try:
                base = self._base()
            except BulletinError as exc:  # a model change or a broken current version: build afresh
                logger.warning("not reusing the current version: %s", exc)
                base = None
            report.added_issues = [i.issue_id for i in issues]
            self._commit(base, {i.issue_id: i for i in issues}, report)

        return self._run("build", work)

    def add(self, paths: list[Path], issue_date: date | None = None, replace: bool = False) -> BuildReport:
        """Add issues; an issue already indexed with the same content is a no-op, and a different
        file whose id is already indexed is refused unless `replace` says it replaces that issue."""

        def work(report: BuildReport) -> None:
            base = self._base()
            known = dict(base.issues) if base else {}
            same_content = {i.content_hash: i.issue_id for i in known.values()}
            labels = {str(p.absolute()): label for p, label in _labels(paths).items()}
            for issue in self._parse(paths, issue_date, report, [i.dated for i in known.values()]):
                old = known.get(issue.issue_id)
                if issue.content_hash in same_content:
                    twin = same_content[issue.content_hash]
                    report.unchanged_issues.append(
                        issue.issue_id if twin == issue.issue_id else f"{issue.issue_id} (already indexed as {twin})"
                    )
                elif old is not None and not replace:
                    report.failed_files[labels[issue.source_path]] = (
                        f"issue {issue.issue_id!r} is already indexed from {old.source_path or old.file_name}, "
                        f"with different content; to replace it with {issue.source_path}, run "
                        "`bulletin-bot index add --replace`; if it is another issue, rename the file"
                    )
                else:
                    (report.replaced_issues if old is not None else report.added_issues).append(issue.issue_id)
                    known[issue.issue_id] = issue
            if not (report.added_issues or report.replaced_issues or report.unchanged_issues) and report.failed_files:
                raise nothing_readable(report)
            self._commit(base, known, report)

        return self._run("add", work)

    def remove(self, issue_id: str) -> BuildReport:
        """Drop one issue from the index (a new version without it)."""

        def work(report: BuildReport) -> None:
            base = self._base()
            if base is None or issue_id not in base.issues:
                known = ", ".join(sorted(base.issues)) if base else "none"
                raise BulletinError(f"no issue {issue_id!r} in the index (issues: {known})")
            issues = {k: v for k, v in base.issues.items() if k != issue_id}
            report.removed_issues.append(issue_id)
            self._commit(base, issues, report)

        return self._run("remove", work)

    def rollback(self, version: str | None = None) -> tuple[str, str | None]:
        """Make another version current: by default the parent of the current one, which undoes the
        last change. Returns (the version now current, the one it replaced)."""
        with self._locked():
            left = self.store.current() if version is None else self.store.current_or_none()
            if version is None:
                version = self._parent(left)
            self.store.load(version)  # refuse a broken target before switching to it
            self.store.switch(version)
            return version, left

    def _parent(self, current: str | None) -> str:
        """The version the current one was made from; the newest older one that loads when the
        current manifest (which names the parent) is unreadable."""
        if current is None:
            raise BulletinError("no index yet: nothing to roll back")
        try:
            parent = self.store.manifest(current).get("parent")
        except BulletinError as exc:
            for name in reversed([v for v in self.store.versions() if v < current]):
                try:
                    self.store.load(name)
                except BulletinError:
                    continue
                logger.warning(
                    "%s; its parent is unknown, so the newest older version that loads (%s) is restored", exc, name
                )
                return name
            raise BulletinError(f"{exc}; and no older version loads") from None
        if parent is None:
            raise BulletinError(
                f"version {current} is the first version (built from nothing): nothing to roll "
                "back to; `bulletin-bot index history` lists the versions kept"
            )
        if parent not in self.store.versions():
            raise BulletinError(
                f"version {current} was made from {parent}, which is no longer kept "
                "(BULLETIN_KEEP_VERSIONS); choose one from `bulletin-bot index history`"
            )
        return parent
