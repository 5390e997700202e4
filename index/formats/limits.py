"""What one bulletin file may cost to read: the bounds every reader checks, in one place.

A bulletin is a few dozen articles of a few hundred characters; the real 东昌府区 issue is
about 20,000 characters on 8 pages. Each bound below is far above any real issue and far below
what a crafted file would need to stall the reader or fill memory. A file over a bound is
refused with a message naming the file and the bound (`over_limit`).
"""

from __future__ import annotations

from index.types import BulletinError

# the text a file may yield, all articles together (the real issue: ~20,000 characters)
MAX_DOCUMENT_CHARS = 2_000_000
# whole-file bounds on the work of reading one file, whatever its kind
PARSE_SECONDS = 30.0
PARSE_MEMORY_BYTES = 1 << 30  # 1 GiB of resident memory for the reader of one file


def over_limit(name: str, what: str, found: int | str, limit: int | str) -> BulletinError:
    """The refusal of a file over one of these bounds, naming the file, what was counted and the bound."""
    shown_found = f"{found:,}" if isinstance(found, int) else found
    shown_limit = f"{limit:,}" if isinstance(limit, int) else limit
    return BulletinError(f"{name}: {what} {shown_found} is over the limit of {shown_limit}")
