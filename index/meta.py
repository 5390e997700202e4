"""The SQLite metadata of an index version: issues, articles and passages, written once and read back checked."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import cast

from index.types import Article, BulletinError, DateSource, Issue, Passage

SCHEMA = """
CREATE TABLE issues (issue_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, issue_date TEXT NOT NULL,
    date_source TEXT NOT NULL, content_hash TEXT NOT NULL, notes TEXT NOT NULL);
CREATE TABLE articles (article_id TEXT PRIMARY KEY, issue_id TEXT NOT NULL REFERENCES issues,
    position INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, source TEXT NOT NULL,
    article_date TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles, position INTEGER NOT NULL, text TEXT NOT NULL);
"""
ISSUE_COLUMNS = "issue_id, file_name, issue_date, date_source, content_hash, notes"
ARTICLE_COLUMNS = "article_id, issue_id, position, title, body, source, article_date"


def write_meta(path: Path, issues: list[Issue], articles: list[Article], passages: list[Passage]) -> None:
    """Write a fresh metadata file; passages[i] gets row i (its FAISS and BM25 row)."""
    db = sqlite3.connect(path)
    try:
        # a fresh file in a staging folder: the store's rename and fsyncs make it durable
        db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
        db.executemany(
            f"INSERT INTO issues ({ISSUE_COLUMNS}) VALUES (?,?,?,?,?,?)",
            [
                (
                    i.issue_id,
                    i.file_name,
                    i.dated.isoformat(),
                    i.date_source,
                    i.content_hash,
                    json.dumps(
                        {
                            "empty": i.empty_titles,
                            "fragments": i.fragments_removed,
                            "truncated": i.truncated_titles,
                            "path": i.source_path,
                        },
                        ensure_ascii=False,
                    ),
                )
                for i in issues
            ],
        )
        db.executemany(
            f"INSERT INTO articles ({ARTICLE_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
            [
                (
                    a.article_id,
                    a.issue_id,
                    a.position,
                    a.title,
                    a.body,
                    a.source,
                    a.article_date.isoformat() if a.article_date else None,
                )
                for a in articles
            ],
        )
        db.executemany(
            "INSERT INTO passages (row, passage_id, article_id, position, text) VALUES (?,?,?,?,?)",
            [(row, p.passage_id, p.article_id, p.position, p.text) for row, p in enumerate(passages)],
        )
        db.commit()
    finally:
        db.close()


def _texts(notes: dict, key: str) -> list[str]:
    value = notes.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"issue notes {key!r} is not a list of text")
    return value


def _issue(row: tuple) -> Issue:
    issue_id, file_name, issue_date, date_source, content_hash, notes_json = row
    notes = json.loads(notes_json)
    if not isinstance(notes, dict):
        raise ValueError("issue notes are not a JSON object")
    path = notes.get("path", "")
    return Issue(
        issue_id=issue_id,
        file_name=file_name,
        content_hash=content_hash,
        issue_date=date.fromisoformat(issue_date),
        date_source=cast(DateSource, date_source),
        articles=[],
        empty_titles=_texts(notes, "empty"),
        fragments_removed=_texts(notes, "fragments"),
        truncated_titles=_texts(notes, "truncated"),
        source_path=path if isinstance(path, str) else "",
    )


def read_meta(path: Path) -> tuple[dict[str, Issue], dict[str, Article], list[Passage]]:
    """Issues, articles and passages (in row order); ValueError or sqlite3.Error when the file is
    damaged or its tables do not agree (an answer must never meet a passage without its article)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
        issues = {row[0]: _issue(row) for row in db.execute(f"SELECT {ISSUE_COLUMNS} FROM issues")}
        articles = {}
        rows = db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY issue_id, position")
        for article_id, issue_id, position, title, body, source, article_date in rows:
            if issue_id not in issues:
                raise ValueError(f"article {article_id} belongs to issue {issue_id!r}, which is not there")
            article = Article(
                issue_id=issue_id,
                position=position,
                title=title,
                body=body,
                source=source,
                article_date=date.fromisoformat(article_date) if article_date else None,
            )
            articles[article_id] = article
            issues[issue_id].articles.append(article)
        passages = []
        for expected, (row, article_id, position, text) in enumerate(
            db.execute("SELECT row, article_id, position, text FROM passages ORDER BY row")
        ):
            if row != expected:
                raise ValueError(f"passage rows are not numbered 0…n-1 (row {row} where {expected} belongs)")
            if article_id not in articles:
                raise ValueError(f"passage {row} belongs to article {article_id!r}, which is not there")
            passages.append(Passage(article_id, position, text))
    finally:
        db.close()
    return issues, articles, passages


def read_checked(path: Path, name: str) -> tuple[dict[str, Issue], dict[str, Article], list[Passage]]:
    """`read_meta`, with any failure as a BulletinError naming the version."""
    try:
        return read_meta(path)
    except (sqlite3.Error, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise BulletinError(f"version {name}: metadata database unreadable or inconsistent ({exc})") from None
