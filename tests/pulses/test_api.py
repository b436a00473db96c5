"""The JSON twin of the form: GET the round, POST a response."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import utcnow
from app.config import Settings
from app.pulses import cookies
from app.pulses import rounds as round_service
from app.teams import service as team_service
from tests.factories import make_round, shipped_surveys
from tests.pulses.test_pages import KEYS, Stored, new_team, stored


def sheet(value: int = 3) -> dict[str, int]:
    return dict.fromkeys(KEYS, value)


def test_get_returns_the_current_round_and_its_questions(
    client: TestClient, session: Session
) -> None:
    team = new_team(session, name="Checkout")
    body = client.get(f"/api/v1/pulse/{team.pulse_link}").json()
    round_ = make_round(session, team)
    assert body["team"] == "Checkout"
    assert body["round"] == round_.period
    assert body["starts_on"] == round_.starts_on.isoformat()
    assert body["closes_at"] == round_.closes_at.isoformat()
    assert (body["open"], body["answered"], body["ballots"]) == (True, False, "link")
    survey = body["survey"]
    assert survey["id"] == "release-pulse" and survey["version"] == 1
    assert [q["key"] for q in survey["questions"]] == KEYS
    assert survey["scale"] == shipped_surveys()["release-pulse"].scale.model_dump()
    assert survey["comment"]["max_length"] == 2000


def test_post_stores_once_and_a_second_post_with_the_cookie_is_409(
    client: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    team = new_team(session)
    url = f"/api/v1/pulse/{team.pulse_link}/responses"
    created = client.post(url, json={"answers": sheet(), "comment": "Calm week"})
    round_ = make_round(session, team)
    assert created.status_code == 201
    assert created.json() == {"round": round_.period}
    assert client.cookies.get(cookies.cookie_name(round_)) == cookies.cookie_value(
        secret_key=settings.secret_key, round=round_
    )
    assert stored(engine) == Stored(1, 8, 1)

    again = client.post(url, json={"answers": sheet()})
    assert again.status_code == 409
    assert "already answered" in again.json()["detail"]
    assert client.get(f"/api/v1/pulse/{team.pulse_link}").json()["answered"] is True
    assert stored(engine) == Stored(1, 8, 1)

    # Another browser (no cookie) may answer: one response per browser, not per link.
    with TestClient(client.app) as other:
        assert other.post(url, json={"answers": sheet(5)}).status_code == 201
    assert stored(engine) == Stored(2, 16, 1)


def test_per_field_messages_for_missing_unknown_and_out_of_range_answers(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    answers = sheet()
    del answers["trusts_rollback"]
    answers["can_raise_problems"] = 6
    answers["shoe_size"] = 3
    response = client.post(f"/api/v1/pulse/{team.pulse_link}/responses", json={"answers": answers})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "The answers are not valid.",
        "errors": [
            {"field": "answers.trusts_rollback", "message": "Please choose an answer."},
            {
                "field": "answers.can_raise_problems",
                "message": "6 is not on the scale: choose a value from 1 to 5.",
            },
            {"field": "answers.shoe_size", "message": "This question is not part of the survey."},
        ],
    }
    assert stored(engine) == Stored(0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"answers": {**dict.fromkeys(KEYS, 3), "trusts_rollback": True}},
        {"answers": {**dict.fromkeys(KEYS, 3), "trusts_rollback": "3"}},
        {"answers": {**dict.fromkeys(KEYS, 3), "trusts_rollback": 3.0}},
        {"answers": {**dict.fromkeys(KEYS, 3), "trusts_rollback": None}},
        {"answers": dict.fromkeys(KEYS, 3), "comment": 42},
        {"answers": dict.fromkeys(KEYS, 3), "name": "Jean-Michel"},
        {"answers": [3, 3, 3]},
        {},
    ],
)
def test_wrong_types_and_extra_fields_are_422_and_store_nothing(
    client: TestClient, session: Session, engine: Engine, body: dict[str, object]
) -> None:
    team = new_team(session)
    response = client.post(f"/api/v1/pulse/{team.pulse_link}/responses", json=body)
    assert response.status_code == 422
    assert response.json()["errors"], response.json()
    assert stored(engine) == Stored(0, 0, 0)


def test_malformed_json_and_oversized_bodies_store_nothing(
    client: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    team = new_team(session)
    url = f"/api/v1/pulse/{team.pulse_link}/responses"
    malformed = client.post(
        url, content=b'{"answers": {', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    huge = client.post(
        url,
        json={"answers": sheet(), "comment": "x" * (settings.max_body_bytes + 1)},
    )
    assert huge.status_code == 413
    form_huge = client.post(
        f"/p/{team.pulse_link}", data={"comment": "x" * (settings.max_body_bytes + 1)}
    )
    assert form_huge.status_code == 413
    assert stored(engine) == Stored(0, 0, 0)


def test_a_too_long_comment_is_422(client: TestClient, session: Session, engine: Engine) -> None:
    team = new_team(session)
    response = client.post(
        f"/api/v1/pulse/{team.pulse_link}/responses",
        json={"answers": sheet(), "comment": "é" * 2001},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "comment", "message": "The comment is 2001 characters long; the limit is 2000."}
    ]
    assert stored(engine) == Stored(0, 0, 0)


def test_unknown_links_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/pulse/nope").status_code == 404
    response = client.post("/api/v1/pulse/nope/responses", json={"answers": sheet()})
    assert response.status_code == 404
    assert "not valid" in response.json()["detail"]


def test_the_endpoints_are_documented_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/pulse/{team_link}" in paths
    post = paths["/api/v1/pulse/{team_link}/responses"]["post"]
    assert {"201", "404", "409", "413", "422"} <= set(post["responses"])


# --- what a process remembers of a link never outlives a change -----------------------------


def _answer(app: object, url: str, value: int = 3) -> int:
    """POST one answer sheet as a new browser; the status code."""
    with TestClient(app) as browser:  # type: ignore[arg-type]
        status: int = browser.post(url, json={"answers": sheet(value)}).status_code
    return status


def test_a_rotated_link_takes_nothing_even_while_the_process_remembers_it(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    old = f"/api/v1/pulse/{team.pulse_link}/responses"
    assert client.post(old, json={"answers": sheet()}).status_code == 201
    assert client.app.state.pulse_links.get(team.pulse_link, now=utcnow()) is not None  # type: ignore[attr-defined]

    new_link = team_service.rotate_pulse_link(session=session, team=team)
    assert _answer(client.app, old) == 404
    assert stored(engine) == Stored(1, 8, 0)
    assert _answer(client.app, f"/api/v1/pulse/{new_link}/responses") == 201
    assert stored(engine) == Stored(2, 16, 0)


def test_a_round_closed_early_takes_nothing_even_while_the_process_remembers_it(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    url = f"/api/v1/pulse/{team.pulse_link}/responses"
    assert client.post(url, json={"answers": sheet()}).status_code == 201
    round_service.close_early(session=session, round=make_round(session, team), now=utcnow())
    session.commit()  # release SQLite's write lock for the app under test
    assert _answer(client.app, url) == 409
    assert stored(engine) == Stored(1, 8, 0)


def test_a_team_moved_to_personal_ballots_takes_nothing_through_the_shared_link(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    url = f"/api/v1/pulse/{team.pulse_link}/responses"
    assert client.post(url, json={"answers": sheet()}).status_code == 201
    team.ballots = "personal"
    session.add(team)
    session.commit()
    with TestClient(client.app) as browser:
        refused = browser.post(url, json={"answers": sheet()})
    assert refused.status_code == 403
    assert "personal" in refused.json()["detail"]
    assert stored(engine) == Stored(1, 8, 0)


def test_a_submission_while_the_server_stops_is_503_and_stores_nothing(
    client: TestClient, session: Session, engine: Engine
) -> None:
    team = new_team(session)
    client.app.state.committer.close()  # type: ignore[attr-defined]
    refused = client.post(f"/api/v1/pulse/{team.pulse_link}/responses", json={"answers": sheet()})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert "nothing was stored" in refused.json()["detail"]
    assert stored(engine) == Stored(0, 0, 0)
