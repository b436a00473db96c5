"""Long ranges are read a chunk of weeks at a time and leave in pieces, never whole."""

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.clock import utcnow
from app.config import Settings
from app.exports import formats, service
from app.insights import survey_stats, trends
from tests.factories import bearer, make_api_token, make_team, make_user, settle

WEEKS = 60


def _plan(session: Session, settings: Settings, fmt: str) -> service.ExportPlan:
    team = make_team(session).team
    today = utcnow().date()
    start = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
    return service.plan_export(
        team=team, settings=settings, now=utcnow(), format=fmt, start=str(start), end=str(today)
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_every_query_covers_at_most_one_chunk_of_weeks(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    plan = _plan(session, settings, fmt)
    assert len(plan.mondays) == WEEKS
    asked: list[tuple[date, date]] = []
    real_trends = trends.team_trends
    real_rounds = survey_stats.round_figures

    def counted_trends(**kwargs: object) -> trends.TrendsReport:
        asked.append((kwargs["start"], kwargs["end"]))  # type: ignore[arg-type]
        return real_trends(**kwargs)  # type: ignore[arg-type]

    def counted_rounds(**kwargs: object) -> list[survey_stats.RoundFigures]:
        asked.append((kwargs["starts_from"], kwargs["starts_to"]))  # type: ignore[arg-type]
        return real_rounds(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trends, "team_trends", counted_trends)
    monkeypatch.setattr(survey_stats, "round_figures", counted_rounds)
    pieces = list(formats.render(session=session, plan=plan))
    assert asked, "the export asked for no weeks at all"
    for first, last in asked:
        assert (last - first).days < service.CHUNK_WEEKS * 7
    # 60 weeks in chunks of 13: every pass over the range asks five times.
    chunks = list(plan.chunks())
    assert len(chunks) == 5
    assert {first for first, _ in asked} == {chunk[0] for chunk in chunks}
    text = "".join(pieces)
    assert len(pieces) >= 5
    assert max(len(piece) for piece in pieces) < len(text) / 2


def test_the_response_streams_with_the_right_headers(client: TestClient, session: Session) -> None:
    team = make_team(session, slug="ops").team
    token = make_api_token(session, make_user(session, teams=[team]))
    settle(session)
    with client.stream(
        "GET",
        f"/api/v1/teams/{team.slug}/export?format=md&from=2026-01-05&to=2026-03-29",
        headers=bearer(token),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (
            'attachment; filename="redbutton-ops-2026-01-05-2026-03-29.md"'
        )
        assert response.headers["cache-control"] == "no-store"
        assert "content-length" not in response.headers  # streamed, not built whole
        text = b"".join(response.iter_bytes()).decode("utf-8")
    assert text.startswith("# Retro brief: ")
    assert text.count("| 2026-W") == 12  # Mondays 2026-01-05 to 2026-03-23
