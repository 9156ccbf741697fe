"""``python -m viewgen serve`` as a person runs it: a token from the CLI, then HTTP calls."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_command_serves_the_api_and_logs_no_signatures(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update(VIEWGEN_DATA_DIR=str(tmp_path / "data"), VIEWGEN_IMAGE_SIZE="256",
               VIEWGEN_SECRETS_FILE=str(tmp_path / "none.toml"), PYTHONPATH=str(ROOT))

    def cli(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "viewgen", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    cli("users", "add", "max@example.com", "--no-password")
    token = json.loads(cli("tokens", "create", "max@example.com", "--json"))["token"]
    port = _free_port()
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "viewgen", "serve", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                           headers={"Authorization": f"Bearer {token}"})
        deadline = time.monotonic() + 60
        while True:
            try:
                if api.get("/docs").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        assert api.get("/api/me").json()["email"] == "max@example.com"
        front = api.post("/api/generate-front-view", json={"text": "a yellow rubber duck"})
        assert front.status_code == 200, front.text
        url = front.json()["frontView"]["url"]
        assert url.startswith(f"http://127.0.0.1:{port}/api/images/")
        assert httpx.get(url).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    log.seek(0)
    logged = log.read()
    signature = url.split("sig=")[1]
    secret = (tmp_path / "data" / "api-signing.key").read_text().strip()
    assert "/api/images/" in logged  # the access log is on ...
    assert signature not in logged and secret not in logged and token not in logged
