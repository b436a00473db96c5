"""Logging in and out in Chromium against a real `redbutton serve`."""

from pathlib import Path

import pytest
from sqlmodel import Session

from tests.conftest import LiveServer
from tests.factories import make_team, make_user

pytestmark = pytest.mark.browser


def test_log_in_see_the_nav_log_out_and_be_sent_back_to_login(
    live_server: LiveServer, page: object, session: Session, artifacts_dir: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    team = make_team(session, slug="payments", name="Payments").team
    make_user(session, email="mia@example.com", teams=[team])
    session.commit()
    settings_url = f"{live_server.url}/teams/{team.slug}/settings"
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    page.goto(settings_url)
    expect(page).to_have_url(f"{live_server.url}/login?next=/teams/payments/settings")
    page.fill("#email", "mia@example.com")
    page.fill("#password", "correct horse battery staple")
    page.click("button[type=submit]")

    expect(page).to_have_url(settings_url)
    expect(page.locator("#nav-user")).to_have_text("mia@example.com")
    nav = page.locator("nav.site-nav")
    expect(nav.get_by_role("link", name="Teams")).to_be_visible()
    expect(nav.get_by_role("link", name="Org")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    cookie = next(c for c in page.context.cookies() if c["name"] == "redbutton_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.screenshot(path=str(artifacts_dir / "team-settings.png"), full_page=True)

    nav.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    page.goto(settings_url)
    expect(page).to_have_url(f"{live_server.url}/login?next=/teams/payments/settings")
    # The pages need no inline script or style, so the CSP refuses nothing.
    assert not [e for e in errors if e.startswith("error:")], errors
    log = live_server.log()
    assert cookie["value"] not in log
