"""viewgen's HTTP API: ``python -m viewgen serve [--host 127.0.0.1] [--port 8000]``.

A FastAPI app (``app.create_app``) over the same ``Studio`` the pages and the CLI use,
served by uvicorn. ``app.py`` holds the routes, ``schemas.py`` their bodies,
``guard.py`` authentication, the rate limit and the body limit, ``errors.py`` the one
table from viewgen's error types to status codes. OpenAPI docs are at ``/docs``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from viewgen.api.app import create_app
from viewgen.settings import Settings

if TYPE_CHECKING:
    import uvicorn

__all__ = ["create_app", "serve", "uvicorn_config"]

_SIG = re.compile(r"([?&]sig=)[^&\s\"]+")


class RedactSignatures(logging.Filter):
    """Access-log lines keep the path of a signed image link, never its signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_SIG.sub(r"\1…", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _SIG.sub(r"\1…", record.msg)
        return True


def uvicorn_config(app: Any, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """How the API is served (``bench/api.py`` measures the same): uvloop's event loop
    and httptools' C parser, both pinned, named so a missing one fails loudly instead of
    falling back to the slower pure-Python ones."""
    import uvicorn

    # a client's connection is kept 30 s between calls (uvicorn's default, 5 s, closes it
    # while a script waits for a generation elsewhere, and its next call races the close)
    options: dict[str, Any] = dict(host=host, port=port, proxy_headers=True,
                                   server_header=False, loop="uvloop", http="httptools",
                                   timeout_keep_alive=30)
    return uvicorn.Config(app, **{**options, **overrides})


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Build the Studio as the CLI does and serve the API until interrupted."""
    import uvicorn

    from viewgen.compose import build_studio

    settings = settings or Settings()
    studio = build_studio(settings)
    app = create_app(studio, settings)
    server = uvicorn.Server(uvicorn_config(app, host, port))
    logging.getLogger("uvicorn.access").addFilter(RedactSignatures())
    try:
        server.run()
    finally:
        studio.close()
