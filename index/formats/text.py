"""Reading files safely, and the plain-text bulletin format ('# title' headings, blank-line paragraphs)."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path

from index.text import DROP_IN_FILES
from index.types import BulletinError, Document, Section

HEADING = re.compile(r"^#{1,3}[ \t\u3000]+(?P<title>\S.*?)\s*$")
FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of an ordinary file of at most max_bytes, read no further than that: a huge file,
    a device (/dev/zero) or a named pipe is refused before it can fill memory or block."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: a link is refused, not read (a
        # "2023-09-02.txt" linked to .env indexed the bot token as article text); staff give the real file.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BulletinError(f"{path.name}: a symbolic link, not a file; give the file itself") from None
        raise BulletinError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)  # of the file opened, not of whatever the name points to by now
        if stat.S_ISDIR(info.st_mode):
            raise BulletinError(f"{path.name}: is a directory, not a bulletin file")
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in FILE_KINDS if test(info.st_mode)), "a special file")
            raise BulletinError(f"{path.name}: {kind}, not an ordinary file; only regular files are read")
        if info.st_size > max_bytes:
            raise BulletinError(f"{path.name}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(max_bytes + 1)  # one byte more tells a file that grew since
    except OSError as exc:
        raise BulletinError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise BulletinError(f"{path.name}: over the {max_bytes:,}-byte limit")
    return raw


def decode_text(raw: bytes, name: str) -> str:
    """A text file's bytes as text (UTF-8, UTF-8 with BOM or GB18030), or a clear refusal."""
    if not raw.strip():
        raise BulletinError(f"{name}: the file is empty")
    if b"\x00" in raw:
        raise BulletinError(f"{name}: binary data (NUL bytes), not a text file")
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise BulletinError(f"{name}: not UTF-8 or GB18030 text")
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
    if controls > max(8, len(text) // 1000):
        raise BulletinError(f"{name}: {controls} control characters, not a text file")
    return text


def read_bulletin_text(path: Path, max_bytes: int) -> tuple[str, str]:
    """Read a bulletin text file; return (text, sha256 of its bytes)."""
    raw = read_limited(path, max_bytes)
    return decode_text(raw, path.name), hashlib.sha256(raw).hexdigest()


def blocks_of(lines: list[str]) -> list[str]:
    """Group lines into blank-line separated blocks; lines inside a block are one paragraph."""
    blocks, current = [], []
    for line in lines:
        stripped = line.strip(" \t\u3000")
        if stripped:
            current.append(stripped)
        elif current:
            blocks.append("".join(current))
            current = []
    if current:
        blocks.append("".join(current))
    return blocks


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """Split the text at '#'/'##' headings into (title, body lines)."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        match = HEADING.match(line)
        if match:
            sections.append((match.group("title"), []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def text_document(raw: bytes, name: str) -> Document:
    """A plain-text bulletin file as a Document."""
    text = decode_text(raw, name).replace("\r\n", "\n").replace("\r", "\n").translate(DROP_IN_FILES)
    sections = [Section(title, blocks_of(lines)) for title, lines in split_sections(text)]
    if not sections:
        raise BulletinError(f"{name}: no '# title' headings found; not a bulletin issue")
    return Document(kind="text", content_hash=hashlib.sha256(raw).hexdigest(), sections=sections)
