"""The SQLite metadata of an index version: issues, articles and passages, written once and read back checked."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

from index.types import Article, BulletinError, Issue, Passage

SCHEMA = """
CREATE TABLE issues (issue_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, issue_date TEXT NOT NULL,
    date_source TEXT NOT NULL, content_hash TEXT NOT NULL, notes TEXT NOT NULL);
CREATE TABLE articles (article_id TEXT PRIMARY KEY, issue_id TEXT NOT NULL REFERENCES issues,
    position INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, source TEXT NOT NULL,
    article_date TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles, position INTEGER NOT NULL, text TEXT NOT NULL);
"""


def write_meta(path: Path, issues: list[Issue], articles: list[Article], passages: list[Passage]) -> None:
    """Write a fresh metadata file; passages[i] gets row i (its FAISS and BM25 row)."""
    db = sqlite3.connect(path)
    try:
        # a fresh file in a staging folder: the store's rename and fsyncs make it durable
        db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
        db.executemany(
            "INSERT INTO issues VALUES (?,?,?,?,?,?)",
            [(i.issue_id, i.file_name, i.issue_date.isoformat(), i.date_source, i.content_hash,
              json.dumps({"empty": i.empty_titles, "fragments": i.fragments_removed,
                          "truncated": i.truncated_titles, "path": i.source_path}, ensure_ascii=False))
             for i in issues],
        )
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?)",
            [(a.article_id, a.issue_id, a.position, a.title, a.body, a.source,
              a.article_date.isoformat() if a.article_date else None) for a in articles],
        )
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?)",
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
    notes = json.loads(row[5])
    if not isinstance(notes, dict):
        raise ValueError("issue notes are not a JSON object")
    path = notes.get("path", "")
    return Issue(row[0], row[1], row[4], date.fromisoformat(row[2]), row[3], [], _texts(notes, "empty"),
                 _texts(notes, "fragments"), _texts(notes, "truncated"), source_path=path if isinstance(path, str) else "")


def read_meta(path: Path) -> tuple[dict[str, Issue], dict[str, Article], list[Passage]]:
    """Issues, articles and passages (in row order); ValueError or sqlite3.Error when the file is
    damaged or its tables do not agree (an answer must never meet a passage without its article)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
        issues = {row[0]: _issue(row) for row in db.execute("SELECT * FROM issues")}
        articles = {}
        for row in db.execute("SELECT * FROM articles ORDER BY issue_id, position"):
            if row[1] not in issues:
                raise ValueError(f"article {row[0]} belongs to issue {row[1]!r}, which is not there")
            article = Article(row[1], row[2], row[3], row[4], row[5], date.fromisoformat(row[6]) if row[6] else None)
            articles[row[0]] = article
            issues[row[1]].articles.append(article)
        passages = []
        for expected, (row, article_id, position, text) in enumerate(
                db.execute("SELECT row, article_id, position, text FROM passages ORDER BY row")):
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
