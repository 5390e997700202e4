"""Would Telegram accept this text in HTML parse mode? (Its tags only, nested and closed; valid entities.)"""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
    "span",
}
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
HREF = re.compile(r"""\shref\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
SPOILER = re.compile(r"""\sclass\s*=\s*["']?tg-spoiler["']?""")


def _text_problem(text: str) -> str | None:
    bare = re.search(r"[<>]", text)
    if bare:
        return f"a bare {bare.group()!r} (write &lt; or &gt;): …{text[max(0, bare.start() - 15) : bare.start() + 15]}…"
    for amp in re.finditer("&", text):
        if not ENTITY.match(text, amp.start()):
            return f"a bare '&' (write &amp;): …{text[max(0, amp.start() - 15) : amp.start() + 15]}…"
    return None


def html_problem(text: str, limit: int | None = TELEGRAM_LIMIT) -> str | None:
    """Why Telegram would refuse `text` as an HTML message, or None when it would accept it."""
    if not text.strip():
        return "the message is empty (Telegram refuses an empty message)"
    if limit is not None and len(text) > limit:
        return f"{len(text):,} characters, over Telegram's {limit:,}"
    stack: list[str] = []
    last = 0
    for match in TAG.finditer(text):
        problem = _text_problem(text[last : match.start()])
        if problem:
            return problem
        last = match.end()
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if name not in TAGS:
            return f"<{match.group(2)}> is not a Telegram tag (allowed: {', '.join(sorted(TAGS))})"
        if closing:
            if not stack or stack[-1] != name:
                return f"</{name}> closes {'<' + stack[-1] + '>' if stack else 'nothing'}"
            stack.pop()
            continue
        if name == "a" and not HREF.search(attrs):
            return "<a> without href"
        if name == "span" and not SPOILER.search(attrs):
            return '<span> without class="tg-spoiler"'
        stack.append(name)
    problem = _text_problem(text[last:])
    if problem:
        return problem
    return f"<{stack[-1]}> is never closed" if stack else None
