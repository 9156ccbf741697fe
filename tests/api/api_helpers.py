"""Helpers for the API tests: a live uvicorn in a thread, tokens, clients, images."""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import httpx
import uvicorn
from PIL import Image

from viewgen import tokens
from viewgen.domain import User
from viewgen.store import Repository


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0
        self.app = app

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def token_for(repo: Repository, user: User, name: str = "test") -> str:
    return tokens.create(repo, user, name)[1]


def client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=120)


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def photo(colour: tuple[int, int, int] = (200, 30, 40), size: int = 160) -> bytes:
    """A small product photo: a coloured box on white."""
    image = Image.new("RGB", (size, size), (255, 255, 255))
    m = size // 4
    image.paste(colour, (m, m, size - m, size - m))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) >= {"error", "message"}, body
    assert body["message"], body
    return response.status_code, body["error"]
