"""The insights API: thresholds on trends and questions, closing early, the org roll-up."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from app.pulses.models import Round
from app.teams.models import Team
from tests.factories import (
    bearer,
    make_api_token,
    make_responses,
    make_round,
    make_team,
    make_user,
    settle,
    shipped_surveys,
)


def all_fours(team: Team) -> dict[str, int]:
    """Answers that score 4 on every question (2 on reversed ones): trust index 75."""
    survey = shipped_surveys()[team.survey_id]
    return {q.key: 2 if q.reverse else 4 for q in survey.questions}


def _week(client: TestClient, token: str, team: Team, round_: Round) -> dict[str, object]:
    report = client.get(f"/api/v1/teams/{team.slug}/trends", headers=bearer(token)).json()
    [week] = [w for w in report["weeks"] if w["week_start"] == round_.starts_on.isoformat()]
    return week  # type: ignore[no-any-return]


def test_four_responses_are_suppressed(client: TestClient, session: Session) -> None:
    team = make_team(session, size=8).team
    past = make_round(session, team, now=utcnow() - timedelta(weeks=2))
    make_responses(session, past, 4, answers=all_fours(team))
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    week = _week(client, token, team, past)
    assert week["responses"] == 4 and week["response_rate"] == 0.5
    assert week["suppressed"] is True and week["open"] is False and week["more_needed"] == 1
    for name in ("trust_index", "trust_ci_low", "trust_ci_high", "favorable_pct"):
        assert week[name] is None
    questions = client.get(f"/api/v1/teams/{team.slug}/questions", headers=bearer(token)).json()
    [qweek] = [w for w in questions["weeks"] if w["week_start"] == past.starts_on.isoformat()]
    assert qweek["suppressed"] is True and qweek["questions"] is None


def test_five_in_an_open_round_count_only_then_closing_shows_figures(
    client: TestClient, session: Session
) -> None:
    team = make_team(session, size=10).team
    current = make_round(session, team)
    make_responses(session, current, 5, answers=all_fours(team))
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    week = _week(client, token, team, current)
    assert (week["responses"], week["open"], week["suppressed"]) == (5, True, False)
    assert week["trust_index"] is None and week["favorable_pct"] is None
    closed = client.post(f"/api/v1/teams/{team.slug}/rounds/current/close", headers=bearer(token))
    assert closed.status_code == 200, closed.text
    assert closed.json()["round"] == current.period
    assert closed.json()["trust_index"] == 75.0
    week = _week(client, token, team, current)
    assert week["open"] is False
    # Every response means 4 on 1-5: (4 - 1) / 4 * 100, no spread, every answer favorable.
    assert (week["trust_index"], week["trust_ci_low"], week["trust_ci_high"]) == (75.0, 75.0, 75.0)
    assert week["favorable_pct"] == 100.0
    questions = client.get(f"/api/v1/teams/{team.slug}/questions", headers=bearer(token)).json()
    [qweek] = [w for w in questions["weeks"] if w["week_start"] == current.starts_on.isoformat()]
    first = qweek["questions"][0]
    assert first["mean"] == 4.0 and first["answers"] == 5
    assert first["counts"] == {"1": 0, "2": 0, "3": 0, "4": 5, "5": 0}
    again = client.post(f"/api/v1/teams/{team.slug}/rounds/current/close", headers=bearer(token))
    assert again.status_code == 409 and "already closed" in again.json()["detail"]


def test_closing_needs_a_token_in_scope(client: TestClient, session: Session) -> None:
    mine = make_team(session).team
    other = make_team(session).team
    token = make_api_token(session, make_user(session, teams=[mine]))
    settle(session)
    assert client.post(f"/api/v1/teams/{mine.slug}/rounds/current/close").status_code == 401
    refused = client.post(f"/api/v1/teams/{other.slug}/rounds/current/close", headers=bearer(token))
    assert refused.status_code == 403


def test_the_org_rollup_excludes_the_suppressed_team(client: TestClient, session: Session) -> None:
    shown = make_team(session, name="Shown").team
    small = make_team(session, name="Small").team
    two_weeks_ago = utcnow() - timedelta(weeks=2)
    make_responses(
        session, make_round(session, shown, now=two_weeks_ago), 5, answers=all_fours(shown)
    )
    # Four perfect answers: they would lift the pooled index above 75 if they leaked in.
    perfect = {q.key: 1 if q.reverse else 5 for q in shipped_surveys()[small.survey_id].questions}
    small_round = make_round(session, small, now=two_weeks_ago)
    make_responses(session, small_round, 4, answers=perfect)
    token = make_api_token(session, make_user(session, teams=[shown, small]))
    settle(session)
    report = client.get("/api/v1/org/trends", headers=bearer(token)).json()
    [week] = [w for w in report["weeks"] if w["week_start"] == small_round.starts_on.isoformat()]
    assert week["trust_index"] == 75.0
    assert (week["teams_included"], week["teams_excluded"], week["responses"]) == (1, 1, 5)
    teams = {t["slug"]: t for t in report["teams"]}
    assert teams[small.slug]["trust_index"] is None and teams[shown.slug]["trust_index"] == 75.0


def test_a_bad_range_is_a_clear_422(client: TestClient, session: Session) -> None:
    team = make_team(session).team
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    response = client.get(
        f"/api/v1/teams/{team.slug}/questions?from=2026-06-01&to=2026-01-01", headers=bearer(token)
    )
    assert response.status_code == 422 and "after" in response.json()["detail"]


def test_a_weekly_team_week_without_answers_is_suppressed_not_empty(
    client: TestClient, session: Session
) -> None:
    team = make_team(session).team
    past = make_round(session, team, now=utcnow() - timedelta(weeks=2))
    make_responses(session, past, 5, answers=all_fours(team))
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    report = client.get(f"/api/v1/teams/{team.slug}/trends", headers=bearer(token)).json()
    later = [w for w in report["weeks"] if w["week_start"] > past.starts_on.isoformat()]
    last_week, this_week = later
    # Nobody opened the link last week: zero responses, five more were needed.
    assert (last_week["responses"], last_week["suppressed"], last_week["more_needed"]) == (
        0,
        True,
        5,
    )
    assert this_week["open"] is True and this_week["trust_index"] is None
    earlier = [w for w in report["weeks"] if w["week_start"] < past.starts_on.isoformat()]
    assert all(w["responses"] is None and w["suppressed"] is False for w in earlier)
