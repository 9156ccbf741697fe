"""viewgen's HTTP API: ``python -m viewgen serve [--host 127.0.0.1] [--port 8000]``.

A FastAPI app (``app.create_app``) over the same ``Studio`` the pages and the CLI use,
served by uvicorn. ``app.py`` holds the routes, ``schemas.py`` their bodies,
``guard.py`` authentication, the rate limit and the body limit, ``errors.py`` the one
table from viewgen's error types to status codes. OpenAPI docs are at ``/docs``.
"""

from __future__ import annotations

import logging
import re

from viewgen.api.app import create_app
from viewgen.settings import Settings

__all__ = ["create_app", "serve"]

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


def serve(host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None) -> None:
    """Build the Studio as the CLI does and serve the API until interrupted."""
    import uvicorn

    from viewgen.compose import build_studio

    settings = settings or Settings()
    studio = build_studio(settings)
    app = create_app(studio, settings)
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=True,
                            server_header=False)
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.access").addFilter(RedactSignatures())
    try:
        server.run()
    finally:
        studio.close()
