"""A Jinja2 sandbox that a template cannot use to hang the bot or fill its memory.

Jinja2's own sandbox keeps templates away from Python objects; this one also refuses the operations
that make huge values (`9**(9**9)`, `'x'*10**9`, `'%999999999d' % 1`, `'x'|center(10**9)`), caps
the output, and stops a render that runs past its deadline (a nested loop) from inside the thread."""

from __future__ import annotations

import functools
import operator
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 16_384  # characters one render may produce (a reply is at most a few thousand)
MAX_NUMBER = 10_000  # the largest number a template may pass to a call, a filter or a power
MAX_POWER = 64
RENDER_SECONDS = 2.0
TEMPLATE_FILE = "<template>"  # the file name Jinja2 gives code compiled from a string
# A width or precision of 5+ digits in a %-format or str.format spec: '%99999d', '{:>99999}'
WIDE_FORMAT = re.compile(r"%[-#0 +]*\d{5,}|%[-#0 +]*\d*\.\d{5,}|\{[^}]*:[^}]*\d{5,}")
BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
    "+": operator.add,
}


class RenderLimit(SecurityError):
    """A template asked for more time, memory or output than a reply needs."""


def _too_big(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return abs(value) > MAX_NUMBER
    return isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT


def _refuse_big(args: tuple, kwargs: dict, what: str) -> None:
    for value in (*args, *kwargs.values()):
        if _too_big(value):
            raise RenderLimit(f"{what}: value too large for a template ({str(value)[:20]}…; limit {MAX_NUMBER:,})")


def _bounded_filter(name: str, func: Callable) -> Callable:
    @functools.wraps(func)  # keeps jinja_pass_arg, so context/environment filters still get theirs
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _refuse_big(args, kwargs, f"filter {name}")
        if name == "format" and any(isinstance(a, str) and WIDE_FORMAT.search(a) for a in args):
            raise RenderLimit("filter format: field width too large")
        return func(*args, **kwargs)

    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (lists and dicts read-only, so nothing grows by appending to itself) refusing
    huge powers, repeats, widths and numbers; an undefined name or attribute is an error, not blank."""

    intercepted_binops = frozenset(BINOPS)  # also keeps the compiler from folding `9**(9**9)` at load

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        del self.globals["namespace"]  # its attributes outlive a loop turn: `ns.x = ns.x ~ ns.x` doubles

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**" and isinstance(right, int | float) and (right > MAX_POWER or _too_big(left)):
            raise RenderLimit(f"power too large: {str(left)[:12]} ** {str(right)[:12]}")
        if op == "*":
            seq, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT:
                raise RenderLimit(f"repeat too large: {len(seq)} × {times}")
        if op == "%" and isinstance(left, str) and WIDE_FORMAT.search(left):
            raise RenderLimit("% format: field width too large")
        if (
            op == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, type(left))
            and len(left) + len(right) > MAX_OUTPUT
        ):
            raise RenderLimit("concatenation too large")
        return BINOPS[op](left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        _refuse_big(args, kwargs, getattr(__obj, "__name__", "call"))
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)  # the sandbox wraps str.format
        if isinstance(owner, str) and WIDE_FORMAT.search(owner):
            raise RenderLimit("format: field width too large")
        return super().call(__context, __obj, *args, **kwargs)


def _deadline_tracer(deadline: float) -> Callable:
    """A sys.settrace function that raises RenderLimit in template code once `deadline` has passed.

    A thread cannot be stopped from outside: the loop that overran must stop itself."""

    def local(frame, event, arg):
        if time.monotonic() > deadline:
            raise RenderLimit(f"rendering took longer than {RENDER_SECONDS:g} s")
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename == TEMPLATE_FILE else None

    return tracer


def render_bounded(template: Template, values: dict[str, Any], seconds: float = RENDER_SECONDS) -> str:
    """Render within `seconds` and MAX_OUTPUT characters, or raise (RenderLimit or the template's error)."""
    previous = sys.gettrace()
    sys.settrace(_deadline_tracer(time.monotonic() + seconds))
    try:
        chunks, size = [], 0
        for chunk in template.generate(**values):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderLimit(f"output longer than {MAX_OUTPUT:,} characters")
            chunks.append(chunk)
        return "".join(chunks).strip()
    finally:
        sys.settrace(previous)


def template_line(exc: BaseException) -> int | None:
    """The template line an error was raised on (Jinja2 rewrites tracebacks to template lines)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == TEMPLATE_FILE]
    return frames[-1].lineno if frames else getattr(exc, "lineno", None)
