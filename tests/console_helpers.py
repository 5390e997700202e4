"""What the console tests share: accounts made through the real store, sign-in through the real form."""

from __future__ import annotations

import html
import re

from bot.console.accounts import Accounts
from bot.console.store import ConsoleDB

ADMIN, ADMIN_PASSWORD = "boss", "admin-pass-1"
STAFF, STAFF_PASSWORD = "clerk", "staff-pass-1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_accounts(data_dir) -> None:
    db = ConsoleDB(data_dir)
    accounts = Accounts(db)
    accounts.add(ADMIN, "admin", ADMIN_PASSWORD)
    accounts.add(STAFF, "staff", STAFF_PASSWORD)
    db.close()


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def sign_in(client, name: str, password: str):
    """POST the login form as a browser would (its token from the form page); the response after redirects."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": name, "password": password})


def text_of(page: str) -> str:
    """A page's text as a reader sees it (tags dropped, entities decoded, spaces collapsed)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def settled(client, response, timeout: float = 300.0):
    """The page a background job (publish) ends on: its page refreshes itself until the job is done."""
    import time

    deadline = time.monotonic() + timeout
    while '<meta http-equiv="refresh"' in response.text:
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)
        response = client.get(response.url)
    return response
