"""Corrections as labelled questions, one JSON object a line in the format of samples/eval/*.jsonl, so that
`bulletin-bot fit` (split "tune") and `eval` read them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.corrections.store import Correction
from index.types import BulletinError


def labelled_question(c: Correction) -> dict:
    """A pin: its article as gold and its sentences as must_contain; "not covered": out of scope; a
    confirmation: its article as gold."""
    gold = [{"issue": c.issue_id, "title": c.title}] if c.kind != "not_covered" and c.issue_id else []
    return {
        "id": f"c{c.id:04d}",
        "split": "tune",
        "question": c.question,
        "kind": {"pinned": "correction", "not_covered": "out_of_scope", "confirmed": "confirmed"}[c.kind],
        "gold": gold,
        "must_contain": list(c.sentences),
        "note": f"correction {c.id} ({c.kind}, {c.created_at[:10]}, index {c.index_version})",
    }


def export(corrections: list[Correction], path: Path) -> int:
    """Write the corrections to FILE (whole or not at all); the number written."""
    text = "".join(json.dumps(labelled_question(c), ensure_ascii=False) + "\n" for c in corrections)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise BulletinError(f"{path}: cannot write the corrections ({exc.strerror or exc})") from None
    return len(corrections)
