"""End-to-end fixtures: ``streamlit run app.py`` on loopback and Debian's Chromium.

Each server gets its own temporary ``VIEWGEN_DATA_DIR`` and a free port, and is ready
when ``/_stcore/health`` answers (polled with a deadline). Tests are marked ``e2e``
and skip with the reason when Chromium or Playwright is missing. Screenshots go to
``VIEWGEN_SCREENSHOT_DIR`` when set, else a temporary folder that the run prints.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
STARTUP_DEADLINE_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen
    log: Path

    def settings(self):
        from viewgen.settings import Settings

        return Settings(data_dir=self.data_dir)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling interval, bounded by the deadline above
    raise RuntimeError(f"streamlit did not become healthy in {STARTUP_DEADLINE_S:.0f} s:\n"
                       f"{log.read_text()}")


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """A factory: ``start_server(prepare=None)`` starts a fresh server on a fresh data dir.

    ``prepare(settings)`` runs before the server starts (to create accounts or seed data),
    so the server's first request is still its first.
    """
    started: list[Server] = []

    def start(prepare: Callable | None = None) -> Server:
        data_dir = tmp_path_factory.mktemp("server") / "data"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
        env.update(VIEWGEN_DATA_DIR=str(data_dir),
                   VIEWGEN_IMAGE_SIZE="512",  # enough for the page; a quarter of the CPU
                   VIEWGEN_SECRETS_FILE=str(data_dir / "no-secrets.toml"),
                   PYTHONUNBUFFERED="1")
        if prepare is not None:
            from viewgen.settings import Settings

            prepare(Settings(data_dir=data_dir, image_size=512))
        log = data_dir.parent / "streamlit.log"
        handle = log.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}", data_dir, process, log)
        started.append(server)
        _wait_healthy(server.url, process, log)
        return server

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    # per module, not per session: Playwright's sync API keeps an event loop on the main
    # thread while it runs, and the suites after tests/e2e start durable executors there
    if not CHROMIUM.exists():
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("end-to-end tests need the playwright Python package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[[], object]]:
    """A factory of pages, each in its own browser context (its own Streamlit session)."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[object, str], Path]:
    """``shots(page, name)`` saves a full-viewport screenshot and returns its path."""
    folder = Path(os.environ.get("VIEWGEN_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save


# ---------------------------------------------------------------------- page helpers

SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""


FIRST_LOAD_MS = 120_000


def settle(page, timeout: float = 30_000) -> None:
    """Wait until the script run is over, no element is stale and none is still loading."""
    page.wait_for_function(SETTLED, timeout=timeout)


def click_settled(locator, timeout: float = 30.0) -> None:
    """Click ``locator`` once the page has settled on exactly one of it: a rerun that
    starts after ``settle`` (an upload landing on the server) briefly shows the stale
    element beside its replacement."""
    page = locator.page
    deadline = time.monotonic() + timeout
    while True:
        settle(page)
        if locator.count() == 1 or time.monotonic() > deadline:
            locator.click()  # a clear strict-mode error if it never settles on one
            return
        page.wait_for_timeout(100)


def sign_up(page, url: str, email: str, password: str, name: str) -> None:
    page.goto(url)
    # a server's first page loads the app's modules and starts its executor: on a busy
    # machine that alone can take longer than one click's usual wait
    page.get_by_role("tab", name="Create an account").click(timeout=FIRST_LOAD_MS)
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_label("Your name"))
    form.get_by_label("Your name").fill(name)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_label("Confirm password").fill(password)
    form.get_by_role("button", name="Create account").click()
    page.get_by_text("Welcome").first.wait_for()
    settle(page)


def sign_in(page, email: str, password: str) -> None:
    """Sign in on whatever page shows the sign-in prompt."""
    form = page.locator('[data-testid="stForm"]').filter(
        has=page.get_by_role("button", name="Sign in"))
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_text("Welcome back").first.wait_for()
    settle(page)


def make_account(settings, email: str, password: str, name: str, *, admin: bool = False):
    """Create an account straight in the database (before the server starts)."""
    from viewgen.auth import create_account, hash_password
    from viewgen.domain import Role
    from viewgen.store import open_repository

    repo = open_repository(settings.resolved_database_url)
    try:
        return create_account(repo, settings, email, password_hash=hash_password(password),
                              display_name=name, role=Role.ADMIN if admin else Role.MEMBER)
    finally:
        repo.engine.dispose()
