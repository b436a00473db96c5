"""The personal ballot page in a real Chromium: blind issuance in the browser, then answering."""

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from app.ballots import service as ballot_service
from app.ballots.models import BallotIssuance, SpentBallot
from app.pulses.models import Answer, Comment, Response
from tests.conftest import LiveServer
from tests.factories import make_team

HTML = {"Accept": "text/html"}


def test_the_member_page_is_the_shared_form_with_the_ballot_script_and_no_inline_code(
    client: TestClient, session: Session
) -> None:
    team = make_team(session, ballots="personal").team
    link = ballot_service.add_member(session=session, team=team, email="a@example.com").link
    session.commit()
    page = client.get(f"/b/{link}", headers=HTML)
    assert page.status_code == 200
    assert page.template.name == "ballots/member.html"
    html = page.text
    assert 'class="pulse-form"' in html and 'type="radio"' in html
    assert "<noscript>" in html and "needs JavaScript" in html
    assert '<script src="/static/vendor/blindrsa.bundle.js"></script>' in html
    assert '<script src="/static/js/ballot.js"></script>' in html
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
    assert f'data-member-link="{link}"' in html


def count(session: Session, model: type) -> int:
    n = int(session.exec(select(func.count()).select_from(model)).one())
    session.commit()
    return n


def answer_all(page: Any, value: int) -> None:
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator(f'input[value="{value}"]').check()


@pytest.mark.browser
def test_members_answer_with_personal_ballots_and_a_link_used_twice_gets_one_ballot(
    live_server: LiveServer,
    browser: Any,
    page: Any,
    session: Session,
    artifacts_dir: Path,
) -> None:
    team = make_team(session, ballots="personal", name="Payments").team
    links = [
        ballot_service.add_member(session=session, team=team, email=email).link
        for email in ("ada@example.com", "bob@example.com", "cy@example.com")
    ]
    session.commit()
    failures: list[tuple[int, str]] = []  # every non-2xx answer the pages received

    def open_and_answer(target: Any, link: str, value: int) -> str:
        target.on(
            "response", lambda r: failures.append((r.status, r.url)) if r.status >= 400 else None
        )
        target.goto(f"{live_server.url}/b/{link}")
        answer_all(target, value)
        target.locator("#comment").fill(f"answered {value}")
        target.get_by_role("button", name="Send my answers").click()
        status = target.locator("#ballot-status")
        status.filter(has_text="Thank").or_(target.locator(".ballot-error")).wait_for(
            timeout=20_000
        )
        return str(status.inner_text())

    # Two members, each in their own browser, answer.
    for link, value in ((links[0], 4), (links[1], 2)):
        context = browser.new_context()
        try:
            assert "Your answers for this round are in" in open_and_answer(
                context.new_page(), link, value
            )
        finally:
            context.close()

    # The third member answers, then comes back in the same browser: already answered.
    assert "Your answers for this round are in" in open_and_answer(page, links[2], 5)
    page.screenshot(path=str(artifacts_dir / "ballot-answered.png"), full_page=True)
    page.reload()
    page.locator("#ballot-status").filter(has_text="already answered").wait_for(timeout=10_000)
    assert page.locator("form.pulse-form").is_hidden()
    # The browser kept no token once it was spent.
    stored = page.evaluate("() => Object.values(window.localStorage)")
    assert stored == ['{"spent":true}']

    # The same link in another browser cannot get a second ballot: it says so on arrival.
    other = browser.new_context()
    try:
        second = other.new_page()
        second.on(
            "response", lambda r: failures.append((r.status, r.url)) if r.status >= 400 else None
        )
        second.goto(f"{live_server.url}/b/{links[2]}")
        second.locator(".ballot-error").filter(has_text="already taken").wait_for(timeout=10_000)
        assert second.locator("form.pulse-form").is_hidden()
        second.screenshot(path=str(artifacts_dir / "ballot-second-browser.png"), full_page=True)
    finally:
        other.close()

    # Even bypassing the page, the link yields no second signature.
    forced = httpx.post(
        f"{live_server.url}/api/v1/ballots/{links[2]}/issue",
        json={"blinded_msg": base64.b64encode(b"\x01" * 256).decode()},
    )
    assert forced.status_code == 409

    # Scripts, bundle and API all loaded without a single refusal. (favicon.ico is not ours.)
    assert [f for f in failures if not f[1].endswith("/favicon.ico")] == []
    assert count(session, Response) == 3
    assert count(session, BallotIssuance) == 3
    assert count(session, SpentBallot) == 3
    values = sorted(
        session.exec(
            select(Answer.value).where(Answer.question_key == "comfortable_shipping")
        ).all()
    )
    session.commit()
    assert values == [2, 4, 5]
    bodies = sorted(session.exec(select(Comment.body)).all())
    session.commit()
    assert bodies == ["answered 2", "answered 4", "answered 5"]


@pytest.mark.browser
def test_without_javascript_the_page_says_it_needs_it(
    live_server: LiveServer, browser: Any, session: Session
) -> None:
    team = make_team(session, ballots="personal").team
    link = ballot_service.add_member(session=session, team=team, email="a@example.com").link
    session.commit()
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/b/{link}")
        assert "This personal form needs JavaScript" in page.locator("main").inner_text()
    finally:
        context.close()


def test_the_privacy_page_explains_personal_ballots_and_the_timing_risk(
    client: TestClient,
) -> None:
    page = client.get("/privacy", headers=HTML)
    assert page.status_code == 200
    text = page.text
    for phrase in [
        'id="personal-ballots"',
        "blind RSA signature",
        "RFC 9474",
        "a one-way hash of their personal link",
        "No time is kept",
        "It has no link to the list above",
        "erased when the round closes",
        "it cannot know <em>who answered</em>",
        "The remaining risk: timing",
        "<strong>watches it live</strong>",
    ]:
        assert phrase in text, phrase
