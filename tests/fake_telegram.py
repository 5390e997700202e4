"""A small fake Telegram Bot API server on 127.0.0.1 for end-to-end tests.

It speaks the HTTP API python-telegram-bot uses (form-encoded parameters, JSON replies),
hands out queued updates to getUpdates, and records every call the bot makes."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

BOT = {
    "id": 999000,
    "is_bot": True,
    "first_name": "简报助手",
    "username": "bulletin_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories",
)  # fmt: skip


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the bot opens many connections at once under load
    daemon_threads = True


class FakeBotApi:
    """Start with `start()`, give the bot `base_url`, push updates, inspect `calls`."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.times: list[float] = []  # time.monotonic() of each call in `calls`
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.blocked: set[int] = set()  # chats that blocked the bot: sendMessage answers 403
        self.admins: set[tuple[int, int]] = set()  # (group chat id, user id) pairs that are group admins
        self.send_delay = 0.0  # seconds sendMessage takes after it is recorded (a slow network)
        self.in_flight = 0  # sendMessage calls recorded (delivered) whose answer has not been sent yet

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> FakeBotApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ----- what tests use -----
    def push(self, update: dict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict]:
        with self._cond:
            return [p for m, p in self.calls if m == method and (chat_id is None or p.get("chat_id") == chat_id)]

    def wait_for(self, method: str, count: int = 1, chat_id: int | None = None, timeout: float = 30.0) -> list[dict]:
        """Block until the bot made `count` calls of `method` (to `chat_id`), then return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [p for m, p in self.calls if m == method and (chat_id is None or p.get("chat_id") == chat_id)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out waiting for {count} {method} (got {len(found)}): {[m for m, _ in self.calls][-20:]}"
                    )
                self._cond.wait(min(left, 0.2))

    # ----- the API -----
    def _answer(self, method: str, params: dict):
        if method == "getChatMember":
            admin = (params.get("chat_id"), params.get("user_id")) in self.admins
            return {"status": "administrator" if admin else "member", "user": user(int(params["user_id"]))} | (
                {"can_be_edited": False, "is_anonymous": False} | {k: True for k in ADMIN_RIGHTS} if admin else {}
            )
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "editMessageText"):
            chat_id = params.get("chat_id")
            message = {
                "message_id": params.get("message_id") or next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id and chat_id > 0 else "group"},
                "from": BOT,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        return True  # sendChatAction, answerCallbackQuery, deleteWebhook, ...

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return list(self._updates[:100])

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                prefix = f"/bot{api.token}/"
                if not self.path.startswith("/bot"):  # not a Bot API address at all
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                if not self.path.startswith(prefix):
                    return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = self.path[len(prefix) :]
                params = {}
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    for key, value in parse_qsl(raw, keep_blank_values=True):
                        try:
                            params[key] = json.loads(value)
                        except ValueError:
                            params[key] = value
                if method == "sendMessage" and params.get("chat_id") in api.blocked:
                    return self._reply(
                        403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
                    )
                delayed = method == "sendMessage" and api.send_delay > 0
                if method != "getUpdates":
                    with api._cond:
                        api.calls.append((method, params))
                        api.times.append(time.monotonic())
                        api.in_flight += delayed
                        api._cond.notify_all()
                if delayed:
                    time.sleep(api.send_delay)
                    with api._cond:
                        api.in_flight -= 1
                self._reply(200, {"ok": True, "result": api._answer(method, params)})

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # the bot closes a long poll on shutdown
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler


# ----- update builders -----
def user(user_id: int, name: str = "居民") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name}


def chat(chat_id: int, kind: str = "private") -> dict:
    return {"id": chat_id, "type": kind} | ({"title": "小区群"} if kind != "private" else {"first_name": "居民"})


_ids = itertools.count(1)


def message(text: str | None, user_id: int, chat_id: int | None = None, kind: str = "private", **extra) -> dict:
    """A message update; commands get the bot_command entity Telegram adds."""
    body = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": chat(chat_id or user_id, kind),
        "from": user(user_id),
        **extra,
    }
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


def sticker(user_id: int) -> dict:
    return message(
        None,
        user_id,
        sticker={
            "file_id": "s1",
            "file_unique_id": "u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )


def callback(data: str, user_id: int, chat_id: int | None = None, markup: dict | None = None) -> dict:
    """A button press on a bot message (carrying `markup`, the message's buttons, when given)."""
    pressed = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": chat(chat_id or user_id),
        "from": BOT,
        "text": "回答",
    } | ({"reply_markup": markup} if markup else {})
    return {
        "callback_query": {
            "id": f"cb{next(_ids)}",
            "from": user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": pressed,
        }
    }
