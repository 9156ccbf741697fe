"""``Server-Timing``: where a request's time went, on every API answer.

Each response carries ``Server-Timing: auth;dur=0.31, studio;dur=256.40, app;dur=258.02``
(milliseconds, the W3C header that browsers' developer tools and most HTTP clients show):

- ``auth``: the token lookup and the rate limit's UPDATE (one transaction);
- ``studio``: the ``Studio`` call the route stands for, the same call a Python caller
  would make directly (``start_front``, ``approve``, ``run_views``, the product's reads);
- ``app``: the whole request inside the server, from its first byte to the answer's
  headers (the body limit, routing, validation, the route and its JSON included).

So a client (and ``bench/api.py``) can tell what the API adds around the Studio's own
work, the round trip minus ``studio``, without the noise of timing two separate calls
that each wait on a queue poll. Durations only: no ids, no inputs.

The spans are kept in a context variable that ``ServerTiming`` (ASGI middleware, the
outermost) sets per request; FastAPI runs a sync route in a worker thread with a copy of
that context, so ``timed`` in the route adds to the same request's spans.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SPANS: ContextVar[dict[str, float] | None] = ContextVar("viewgen_server_timing", default=None)


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the time the block takes to this request's ``name`` span (outside a request:
    nothing is kept)."""
    spans = _SPANS.get()
    if spans is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        spans[name] = spans.get(name, 0.0) + (time.perf_counter() - started) * 1000


def header_value(spans: dict[str, float], app_ms: float) -> str:
    return ", ".join([f"{name};dur={ms:.2f}" for name, ms in spans.items()]
                     + [f"app;dur={app_ms:.2f}"])


def parse(value: str) -> dict[str, float]:
    """``{"auth": 0.31, ...}`` from a ``Server-Timing`` header (for clients and the bench)."""
    out: dict[str, float] = {}
    for metric in value.split(","):
        name, *params = (p.strip() for p in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key == "dur" and name:
                out[name] = float(number)
    return out


class ServerTiming:
    """ASGI middleware: a ``Server-Timing`` header on every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        spans: dict[str, float] = {}
        token = _SPANS.set(spans)
        started = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                value = header_value(spans, (time.perf_counter() - started) * 1000)
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (b"server-timing", value.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            _SPANS.reset(token)
