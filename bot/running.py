"""A marker file in DATA_DIR saying that a bot is serving (its process id and start time), for the web console."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

MARKER = "bot.running"


def mark_running(data_dir: Path, started_at: float) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    temp = data_dir / f".{MARKER}.{os.getpid()}"
    temp.write_text(json.dumps({"pid": os.getpid(), "started_at": started_at}), encoding="utf-8")
    os.replace(temp, data_dir / MARKER)


def clear_running(data_dir: Path) -> None:
    path = data_dir / MARKER
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def running_since(data_dir: Path) -> float | None:
    """The start time of the bot serving from this data directory, if its process is alive."""
    try:
        marker = json.loads((data_dir / MARKER).read_text(encoding="utf-8"))
        pid, started = int(marker["pid"]), float(marker["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None  # killed without shutting down: the marker is stale
    except PermissionError:
        pass  # alive, run by another user
    return started
