"""The answer form a member opens from the team's link, and the /privacy page."""

import re
from dataclasses import dataclass
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from app.clock import utcnow
from app.config import Settings
from app.main import create_app
from app.pulses import cookies
from app.pulses.models import Answer, Comment, Response
from app.pulses.rounds import close_early
from app.teams.models import Team
from tests.factories import make_round, make_team, shipped_surveys

HTML = {"accept": "text/html"}
KEYS = shipped_surveys()["release-pulse"].keys


@dataclass
class Stored:
    responses: int
    answers: int
    comments: int


def stored(engine: Engine) -> Stored:
    """What the database holds now, read in a fresh session."""

    def count(model: type[SQLModel]) -> int:
        return int(own.exec(select(func.count()).select_from(model)).one())

    with Session(engine) as own:
        return Stored(count(Response), count(Answer), count(Comment))


def new_team(session: Session, **overrides: object) -> Team:
    team = make_team(session, **overrides).team
    session.commit()  # release SQLite's write lock for the app under test
    return team


def full_form(value: int = 4, comment: str = "") -> dict[str, str]:
    form = {key: str(value) for key in KEYS}
    form["comment"] = comment
    return form


def test_the_form_shows_team_round_questions_scale_comment_and_privacy_link(
    client: TestClient, session: Session
) -> None:
    team = new_team(session, name="Payments")
    page = client.get(f"/p/{team.pulse_link}", headers=HTML)
    assert page.status_code == 200
    assert page.template.name == "pulses/form.html"
    context = page.context
    assert context["team"].name == "Payments"
    assert re.fullmatch(r"\d{4}-W\d{2}", context["round"].period)
    html = page.text
    assert "Payments" in html and context["round"].period in html
    survey = shipped_surveys()["release-pulse"]
    # One fieldset + legend per question, one labelled radio per scale point.
    assert html.count("<fieldset") == len(survey.questions) == 8
    assert html.count("<legend>") == 8
    assert html.count('type="radio"') == 8 * 5
    for question in survey.questions:
        assert question.text in html
    for label in survey.scale.labels:
        assert label in html
    assert survey.comment.prompt in html and 'maxlength="2000"' in html
    assert 'href="/privacy"' in html
    # CSP: no inline script or style anywhere on the page.
    assert "<script" not in html and "style=" not in html and "<style" not in html


def test_an_unknown_link_is_404_with_a_message(client: TestClient) -> None:
    page = client.get("/p/not-a-real-link", headers=HTML)
    assert page.status_code == 404
    assert "ask your team lead for the current link" in page.text
    assert client.post("/p/not-a-real-link", data=full_form()).status_code == 404


def test_answering_shows_thanks_sets_the_round_cookie_and_refuses_a_second_time(
    client: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    team = new_team(session)
    done = client.post(f"/p/{team.pulse_link}", data=full_form(comment="All good"), headers=HTML)
    assert done.status_code == 200
    assert done.template.name == "pulses/thanks.html"
    assert "your answers are in" in done.text
    assert stored(engine) == Stored(1, 8, 1)

    round_ = done.context["round"]
    set_cookie = done.headers["set-cookie"]
    name = cookies.cookie_name(round_)
    value = cookies.cookie_value(secret_key=settings.secret_key, round=round_)
    assert set_cookie.startswith(f"{name}={value};")
    lowered = set_cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # base_url is http in tests
    assert round_.closes_at.strftime("%d %b %Y %H:%M:%S GMT") in set_cookie
    # The value is the same for everyone in the round: it names the round, not the person.
    assert value == cookies.cookie_value(secret_key=settings.secret_key, round=round_)

    again = client.post(f"/p/{team.pulse_link}", data=full_form(), headers=HTML)
    assert again.status_code == 409
    assert "already answered this round" in again.text
    assert stored(engine) == Stored(1, 8, 1)
    reopened = client.get(f"/p/{team.pulse_link}", headers=HTML)
    assert "already answered this round" in reopened.text
    assert 'type="radio"' not in reopened.text


def test_a_forged_round_cookie_is_ignored(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    round_ = make_round(session, team)
    client.cookies.set(cookies.cookie_name(round_), "0" * 64)
    response = client.post(f"/p/{team.pulse_link}", data=full_form(), headers=HTML)
    assert response.status_code == 200
    assert stored(engine).responses == 1


def test_mistakes_come_back_next_to_their_fields_with_the_answers_kept(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    form = full_form(comment="x" * 2001)
    form["trusts_rollback"] = "9"
    del form["can_raise_problems"]
    form["comfortable_shipping"] = "2"
    page = client.post(f"/p/{team.pulse_link}", data=form, headers=HTML)
    assert page.status_code == 422
    errors = page.context["errors"]
    assert errors == {
        "answers.trusts_rollback": "9 is not on the scale: choose a value from 1 to 5.",
        "answers.can_raise_problems": "Please choose an answer.",
        "comment": "The comment is 2001 characters long; the limit is 2000.",
    }
    html = page.text
    assert 'id="error-can_raise_problems">Please choose an answer.' in html
    assert 'aria-describedby="error-trusts_rollback"' in html
    assert '<a href="#q-can_raise_problems">Question 8</a>' in html
    # The member's valid choices and comment are still there.
    assert re.search(r'name="comfortable_shipping" value="2" required checked', html)
    assert "x" * 2001 in html
    assert stored(engine) == Stored(0, 0, 0)


def test_a_comment_counts_a_browser_line_break_as_one_character(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    comment = ("y" * 999 + "\r\n") * 2  # 2000 characters once CRLF counts as one
    done = client.post(f"/p/{team.pulse_link}", data=full_form(comment=comment), headers=HTML)
    assert done.status_code == 200
    with Session(engine) as own:
        assert own.exec(select(Comment.body)).one() == ("y" * 999 + "\n" + "y" * 999)


def test_html_in_team_names_and_comments_is_escaped(client: TestClient, session: Session) -> None:
    team = new_team(session, name="<script>alert('team')</script>")
    page = client.get(f"/p/{team.pulse_link}", headers=HTML)
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;team&#39;)&lt;/script&gt;" in page.text
    form = full_form(comment="</textarea><script>alert('comment')</script>")
    del form["trusts_rollback"]
    again = client.post(f"/p/{team.pulse_link}", data=form, headers=HTML)
    assert again.status_code == 422
    assert "<script>" not in again.text
    assert "&lt;/textarea&gt;&lt;script&gt;" in again.text


def test_a_closed_round_says_so_and_takes_no_answers(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    round_ = make_round(session, team)
    close_early(session=session, round=round_, now=utcnow() - timedelta(seconds=1))
    session.commit()
    page = client.get(f"/p/{team.pulse_link}", headers=HTML)
    assert page.status_code == 200
    assert f"The {round_.period} round is closed" in page.text
    assert 'type="radio"' not in page.text
    refused = client.post(f"/p/{team.pulse_link}", data=full_form(), headers=HTML)
    assert refused.status_code == 409
    assert stored(engine) == Stored(0, 0, 0)


def test_personal_ballot_teams_refuse_the_shared_link(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session, ballots="personal")
    page = client.get(f"/p/{team.pulse_link}", headers=HTML)
    assert "use the personal link you received" in page.text
    refused = client.post(f"/p/{team.pulse_link}", data=full_form(), headers=HTML)
    assert refused.status_code == 403
    assert "personal ballots" in refused.text
    api = client.post(
        f"/api/v1/pulse/{team.pulse_link}/responses", json={"answers": dict.fromkeys(KEYS, 3)}
    )
    assert api.status_code == 403 and "personal" in api.json()["detail"]
    assert stored(engine) == Stored(0, 0, 0)


def test_the_cookie_is_secure_when_served_over_https(settings: Settings, session: Session) -> None:
    team = new_team(session)
    app = create_app(settings.model_copy(update={"base_url": "https://pulse.example.com"}))
    with TestClient(app, base_url="https://testserver") as client:
        done = client.post(f"/p/{team.pulse_link}", data=full_form())
    assert done.status_code == 200
    assert "secure" in done.headers["set-cookie"].lower()


def test_the_privacy_page_says_what_is_and_is_not_stored(client: TestClient) -> None:
    page = client.get("/privacy", headers=HTML)
    assert page.status_code == 200
    text = page.text
    for phrase in [
        "What is stored",
        "What is not stored",
        "No IP address",
        "No time of answering",
        "stored on its own, with only the round",
        "at least\n      5 people answered",
        'id="personal-ballots"',
    ]:
        assert phrase in text, phrase


def test_answers_from_a_form_opened_in_an_ended_round_are_not_filed_under_the_new_one(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    current = client.get(f"/p/{team.pulse_link}", headers=HTML)
    period = current.context["round"].period
    assert f'name="round" value="{period}"' in current.text
    form = full_form(value=2, comment="from last week")
    form["round"] = "2026-W01"
    page = client.post(f"/p/{team.pulse_link}", data=form, headers=HTML)
    assert page.status_code == 409
    assert page.context["errors"] == {
        "round": "The round you opened this form in (2026-W01) has ended. "
        f"This is the form for {period}: check your answers and send again."
    }
    assert re.search(r'name="trusts_rollback" value="2" required checked', page.text)
    assert "from last week" in page.text
    assert stored(engine) == Stored(0, 0, 0)
    form["round"] = period
    assert client.post(f"/p/{team.pulse_link}", data=form, headers=HTML).status_code == 200
    assert stored(engine) == Stored(1, 8, 1)
