"""A member answers on a phone with JavaScript off, by keyboard and taps, in real Chromium."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from tests.conftest import LiveServer
from tests.pulses.test_pages import Stored, new_team, stored

pytestmark = pytest.mark.browser


def test_a_member_answers_on_a_phone_without_javascript(
    browser: object,
    live_server: LiveServer,
    session: Session,
    engine: Engine,
    artifacts_dir: Path,
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    team = new_team(session, name="Payments")
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/p/{team.pulse_link}")
        expect(page.get_by_text("Payments", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="What exactly is stored")).to_be_visible()
        groups = page.get_by_role("group")
        expect(groups).to_have_count(8)
        page.screenshot(path=str(artifacts_dir / "pulse-form-phone.png"), full_page=True)

        # Keyboard: focus the first choice of question 1, then arrow keys pick within the group.
        first = groups.nth(0)
        first.get_by_role("radio").first.focus()
        page.keyboard.press("Space")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(first.get_by_role("radio", name="Neither agree nor disagree")).to_be_checked()
        # Tab leaves the group and lands in question 2, arrow keys choose there too.
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.keyboard.press("ArrowDown")
        expect(groups.nth(1).get_by_role("radio", name="Disagree", exact=True)).to_be_checked()
        # Taps on the labels for the rest.
        for index in range(2, 8):
            groups.nth(index).get_by_text("Agree", exact=True).tap()
        page.get_by_label("Anything that made shipping").fill("Rollback drill on Tuesday helped.")
        page.get_by_role("button", name="Send my answers").click()

        expect(page.get_by_role("heading", name="Thank you, your answers are in")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "pulse-thanks-phone.png"), full_page=True)
        assert stored(engine) == Stored(1, 8, 1)

        # Coming back to the link: the form is gone, the member is told why.
        page.goto(f"{live_server.url}/p/{team.pulse_link}")
        expect(page.get_by_text("You have already answered this round")).to_be_visible()
        expect(page.get_by_role("radio")).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "pulse-already-answered-phone.png"))
        assert stored(engine) == Stored(1, 8, 1)
    finally:
        context.close()
