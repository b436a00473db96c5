"""Per-test database state on SQLite and PostgreSQL, apps, clients, a live server and a browser.

Every test that asks for `settings` (or anything built on it) runs once per database backend:
SQLite always, PostgreSQL when REDBUTTON_TEST_POSTGRES_URL is set (CI sets it). Each backend gets a
fresh database migrated once per run; every table is emptied after each test.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, normalise_url, writer
from app.main import create_app
from app.migrations import upgrade
from app.schema import metadata

POSTGRES_URL = os.environ.get("REDBUTTON_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))
TEST_SECRET_KEY = "test-secret-key-with-enough-entropy-0123456789"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
BACKENDS = ["sqlite", "postgres"]


def _postgres_admin_url(database: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database for this test run, per backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "redbutton.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail(
                "CI must run the database tests on PostgreSQL: set REDBUTTON_TEST_POSTGRES_URL"
            )
        pytest.skip("PostgreSQL tests need REDBUTTON_TEST_POSTGRES_URL")
    name = f"redbutton_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _postgres_admin_url(name)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_all_tables(engine: Engine) -> None:
    """Delete every row, children first, so the next test starts from nothing."""
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def settings(database_url: str) -> Iterator[Settings]:
    """Test settings on the current backend's database, emptied after the test."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        min_responses=5,
        surveys_dir=PROJECT_ROOT / "surveys",
        base_url="http://testserver",
    )
    yield settings
    engine = make_engine(database_url)
    try:
        empty_all_tables(engine)
    finally:
        engine.dispose()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine for direct checks of what is stored."""
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for factories and for reading back what requests stored."""
    with Session(writer(engine), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The app under test, on the current backend."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    """A fresh client (its own cookie jar) per test.

    Before each request the test session's transaction is ended: on SQLite an open one holds
    the write lock (the session begins ready to write), so a request that writes would wait
    for it and fail; it also lets the test's next read see what the request stored.
    """
    with TestClient(app) as client:
        client.event_hooks["request"].append(lambda _request: session.commit())
        yield client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(settings: Settings) -> dict[str, str]:
    """The environment a `redbutton` subprocess needs to use the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDBUTTON_")}
    env.update(
        REDBUTTON_ENVIRONMENT="test",
        REDBUTTON_DATABASE_URL=normalise_url(settings.database_url),
        REDBUTTON_SECRET_KEY=settings.secret_key,
        REDBUTTON_MIN_RESPONSES=str(settings.min_responses),
        REDBUTTON_SURVEYS_DIR=str(settings.surveys_dir),
    )
    return env


class LiveServer:
    """`redbutton serve` running in a subprocess, as users start it."""

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = server_environment(settings)
        env["REDBUTTON_BASE_URL"] = self.url
        env.update(extra_env or {})
        self.log_path = log_path
        self._log = log_path.open("wb")
        redbutton = shutil.which("redbutton", path=str(Path(sys.executable).parent))
        assert redbutton, "the redbutton console script is not installed"
        self.process = subprocess.Popen(
            [redbutton, "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        # Generous: on a shared 2-core CI box a start (migrations, imports) can take a while.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def log(self) -> str:
        """Everything the server printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """A real server started by the CLI on the test database."""
    server = LiveServer(settings, tmp_path / "server.log")
    yield server
    server.stop()


CHROMIUM = os.environ.get("REDBUTTON_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The system's Chromium, driven by Playwright (required in CI)."""
    if not Path(CHROMIUM).exists():
        if IN_CI or os.environ.get("REDBUTTON_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (set REDBUTTON_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context and page per test (no cookies carried over)."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots taken by the tests are written (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


SLOW_TESTS = os.environ.get("REDBUTTON_SLOW_TESTS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `@pytest.mark.slow` tests (load, crash, faults, fuzzing) unless asked for; CI asks."""
    if SLOW_TESTS:
        return
    skip = pytest.mark.skip(
        reason="slow load/crash/fault/fuzz test: set REDBUTTON_SLOW_TESTS=1 (.ci/run does)"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


RATE_LIMIT_NOW = datetime(2026, 11, 27, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def rate_limit_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Stop the rate-limit clock 30 s into a minute, so slow tests never cross a window edge."""
    monkeypatch.setattr("app.rate_limits.utcnow", lambda: RATE_LIMIT_NOW)
    return RATE_LIMIT_NOW
