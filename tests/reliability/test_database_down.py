"""DESIGN §9: with PostgreSQL unreachable, pages and APIs answer 503 with a message, and they
recover by themselves, without a restart, when it is back."""

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlmodel import Session

from app.config import Settings
from app.errors import DATABASE_DOWN
from tests.conftest import LiveServer
from tests.factories import bearer, csrf_from, make_api_token, make_team, make_user, settle
from tests.reliability.load import LOAD_ENV, answer_sheet
from tests.reliability.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


def _wait_until(check: object, seconds: float = 30) -> None:
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the app did not recover"
        time.sleep(0.25)


def test_database_down_answers_503_and_recovers_without_restart(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite is a file inside the app's reach: there is no server to lose")
    issued = make_team(session)
    team = issued.team
    manager = make_user(session, teams=[team], password=PASSWORD)
    token = make_api_token(session, manager)
    slug, link, email = team.slug, team.pulse_link, manager.email
    settle(session)

    target = urlsplit(settings.database_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxied = settings.model_copy(
        update={"database_url": _through(settings.database_url, proxy.port)}
    )
    server = LiveServer(proxied, tmp_path / "server.log", extra_env=LOAD_ENV)
    browser = httpx.Client(base_url=server.url, headers={"Accept": "text/html"}, timeout=30)
    api = httpx.Client(base_url=server.url, headers=bearer(token), timeout=30)
    try:
        form = browser.get("/login")
        browser.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(form.text)},
        )
        assert browser.get(f"/teams/{slug}").status_code == 200

        proxy.cut()
        pages = [f"/teams/{slug}", "/teams", "/org", f"/p/{link}"]
        for path in pages:
            page = browser.get(path, follow_redirects=False)
            assert page.status_code == 503, (path, page.status_code, page.text[:300])
            assert page.headers["content-type"].startswith("text/html")
            assert "database is unavailable" in page.text
            assert page.headers["retry-after"]
        apis = [
            api.get("/api/v1/teams"),
            api.get(f"/api/v1/teams/{slug}/trends"),
            api.get(f"/api/v1/pulse/{link}"),
            httpx.post(
                f"{server.url}/api/v1/pulse/{link}/responses",
                json={"answers": answer_sheet()},
                timeout=30,
            ),
            api.get("/readyz"),
        ]
        for answer in apis:
            assert answer.status_code == 503, (answer.request.url, answer.text[:300])
            assert answer.json()["detail"]
        assert apis[0].json() == {"detail": DATABASE_DOWN}
        # The process itself is fine; only the database is gone.
        assert httpx.get(f"{server.url}/healthz").status_code == 200

        proxy.restore()
        _wait_until(lambda: api.get("/api/v1/teams").status_code == 200)
        for path in pages:
            assert browser.get(path).status_code == 200, path
        submitted = httpx.post(
            f"{server.url}/api/v1/pulse/{link}/responses", json={"answers": answer_sheet()}
        )
        assert submitted.status_code == 201, submitted.text
        assert "Traceback" not in server.log()
    finally:
        browser.close()
        api.close()
        server.stop()
        proxy.close()
