"""A small fake OpenAI-compatible chat-completions server on 127.0.0.1 for the LLM selector's tests.

By default it answers like a careful selector: the numbered sentences (lines "[n] …" of the user message)
that contain `wanted` are chosen. `mode` switches to the failures the bot must survive."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

NUMBERED = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)
Mode = Literal["select", "none", "malformed", "unknown", "slow", "error", "nested", "silent"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FakeLlm:
    """Start with `start()`, give the bot `url`; `requests` holds every request body and its headers."""

    def __init__(self, wanted: str = "聊城医保", mode: Mode = "select", delay: float = 3.0) -> None:
        self.wanted = wanted
        self.mode: Mode = mode
        self.delay = delay  # how long "slow" keeps the bot waiting
        self.requests: list[tuple[dict, dict[str, str]]] = []
        self.chosen: list[str] = []  # the sentence texts the last "select" reply named
        self._stopped = threading.Event()  # "silent" holds every request open until stop()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeLlm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def content(self, user: str) -> str:
        """The assistant's text for a user message, by mode."""
        numbered = [(int(n), text) for n, text in NUMBERED.findall(user)]
        if self.mode == "none":
            return json.dumps({"sentences": [], "unstated": True})
        if self.mode == "malformed":
            return "好的，能回答的是第 1 句。"
        if self.mode == "nested":  # deep enough to make json.loads raise RecursionError
            return "[" * 60000
        if self.mode == "unknown":
            return json.dumps({"sentences": [len(numbered) + 7], "unstated": False})
        picked = [(n, text) for n, text in numbered if self.wanted in text][:2]
        self.chosen = [text for _, text in picked]
        return "```json\n" + json.dumps({"sentences": [n for n, _ in picked], "unstated": False}) + "\n```"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                fake.requests.append((body, dict(self.headers)))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                if fake.mode == "error":
                    return self._send(500, {"error": "internal"})
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                if fake.mode == "silent":  # accepts the request and never answers
                    fake._stopped.wait()
                    return
                user = next(m["content"] for m in body["messages"] if m["role"] == "user")
                reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": fake.content(user)}}]}
                self._send(200, reply)

            def _send(self, status: int, data: dict) -> None:
                raw = json.dumps(data, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # the bot stopped waiting (timeout test)
                    pass

        return Handler
