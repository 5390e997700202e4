"""Every limit and tuned number of the web console, in one place."""

from __future__ import annotations

LOCK_AFTER_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCK_SECONDS = 15 * 60
SESSION_SECONDS = 8 * 3600  # a working day; a session cookie (and its server-side row) expire after it
MIN_PASSWORD_CHARS = 8
MAX_NAME_CHARS = 32
FORM_OVERHEAD_BYTES = 64 * 1024  # a multipart body may exceed the file by its headers and the other fields
MAX_FORM_BYTES = 256 * 1024  # a form without a file (a template file is at most ~15 × 4,000 characters)
MAX_UPLOAD_NAME_CHARS = 120
UPLOAD_SECONDS = 24 * 3600  # an upload not published within a day is deleted
INDEX_LOCK_SECONDS = 5.0  # a publish waits this long for another index command, then is refused
TEMPLATE_VERSIONS_KEPT = 20
QUESTION_DAYS = 30  # the questions pages look this many days back
QUESTION_ROWS = 20
CORRECTION_ARTICLE_ROWS = 30  # titles a correction page's search lists (the bundled index has 60 articles)
