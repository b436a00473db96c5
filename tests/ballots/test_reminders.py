"""`redbutton remind`: mail goes to the members who have not taken this round's ballot."""

import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.ballots import service as ballot_service
from app.config import Settings
from app.teams.models import Team
from tests.ballots.ballots_flow import obtain_ballot
from tests.ballots.conftest import Inbox, run_cli
from tests.factories import make_team


def test_remind_writes_only_to_members_without_this_rounds_ballot(
    settings: Settings, session: Session, client: TestClient, smtp_server: tuple[str, Inbox]
) -> None:
    smtp_url, inbox = smtp_server
    team = make_team(session, slug="payments", name="Payments", ballots="personal").team
    links = {
        email: ballot_service.add_member(session=session, team=team, email=email).link
        for email in ("ada@example.com", "bob@example.com", "cy@example.com")
    }
    obtain_ballot(client, links["ada@example.com"])
    session.commit()

    result = run_cli(settings, "remind", "--team", "payments", "--json", smtp_url=smtp_url)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["reminded"] == ["bob@example.com", "cy@example.com"]
    assert sorted(message["To"] for message in inbox.messages) == [
        "bob@example.com",
        "cy@example.com",
    ]
    [message] = inbox.to("bob@example.com")
    assert message["Subject"] == f"Reminder: the Payments pulse for {payload['round']} is open"
    body = message.get_content()
    assert "whether you answered is not something Redbutton can know" in body
    # A reminder never carries the personal link: only the invitation does, once.
    assert all(link not in body for link in links.values())


def test_remind_needs_smtp_and_a_personal_team(settings: Settings, session: Session) -> None:
    make_team(session, slug="shared")
    session.commit()
    no_smtp = run_cli(settings, "remind", "--team", "shared")
    assert no_smtp.returncode == 1 and "REDBUTTON_SMTP_URL" in no_smtp.stderr
    shared = run_cli(settings, "remind", "--team", "shared", smtp_url="smtp://127.0.0.1:9")
    assert shared.returncode == 1 and "shared link" in shared.stderr


def test_remind_reports_an_unreachable_smtp_server(settings: Settings, session: Session) -> None:
    team = make_team(session, slug="payments", ballots="personal").team
    ballot_service.add_member(session=session, team=team, email="a@example.com")
    session.commit()
    result = run_cli(settings, "remind", "--team", "payments", smtp_url="smtp://127.0.0.1:9")
    assert result.returncode == 1
    assert "could not send e-mail through 127.0.0.1:9" in result.stderr


def test_switching_to_personal_ballots_sets_the_headcount_to_the_roster(
    settings: Settings, session: Session
) -> None:
    team = make_team(session, slug="payments", size=12).team
    for email in ("a@example.com", "b@example.com"):
        ballot_service.add_member(session=session, team=team, email=email)
    session.commit()
    result = run_cli(settings, "team", "set", "payments", "--ballots", "personal", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["size"] == 2
    session.expire_all()
    stored = session.get(Team, team.id)
    assert stored is not None and (stored.ballots, stored.size) == ("personal", 2)
    session.commit()
