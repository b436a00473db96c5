"""Weekly delivery figures, checked against numbers worked out by hand.

The main scenario is a team in Europe/Paris (UTC+1 in March 2026), so every ISO week starts at
23:00 UTC on the Sunday before. Weeks: W09 = 2026-02-23, W10 = 2026-03-02, W11 = 2026-03-09,
W12 = 2026-03-16.
"""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from app.delivery import dora, service, stats
from app.delivery.stats import DeliveryWeek
from app.teams.models import Team
from tests.factories import make_deployment, make_incident, make_team

W09, W10, W11, W12 = date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)
AFTER_ALL = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def paris(session: Session) -> Team:
    return make_team(session, timezone="Europe/Paris").team


def build_scenario(session: Session, team: Team) -> None:
    """Deployments d1–d9 and incidents i1–i5; expected figures are in the tests below."""
    # W09: Sunday 23:59 in Paris.
    make_deployment(session, team, external_id="d1", finished_at=at("2026-03-01T22:59:00Z"))
    # W10: Monday 00:30 in Paris, though still Sunday in UTC.
    make_deployment(session, team, external_id="d2", finished_at=at("2026-03-01T23:30:00Z"))
    make_deployment(
        session, team, external_id="d3", status="failure", finished_at=at("2026-03-03T10:00:00Z")
    )
    make_deployment(session, team, external_id="d4", finished_at=at("2026-03-04T10:00:00Z"))
    # d5 rolls d4 back: d4 counts as failed, d5 itself is a successful deployment.
    make_deployment(
        session,
        team,
        external_id="d5",
        finished_at=at("2026-03-04T11:00:00Z"),
        is_rollback=True,
        rolls_back="d4",
    )
    make_deployment(session, team, external_id="d6", finished_at=at("2026-03-05T09:00:00Z"))
    # Staging never counts, and is never blamed for a production incident.
    make_deployment(
        session,
        team,
        external_id="d7",
        environment="staging",
        status="failure",
        finished_at=at("2026-03-05T11:00:00Z"),
    )
    make_deployment(session, team, external_id="d8", finished_at=at("2026-03-06T08:00:00Z"))
    # W11 starts exactly here (Monday 00:00 in Paris): the end of a week is excluded.
    make_deployment(session, team, external_id="d9", finished_at=at("2026-03-08T23:00:00Z"))

    # i1 starts 3 h after d6 (the latest production deployment): inferred link, 30 min.
    make_incident(
        session,
        team,
        external_id="i1",
        started_at=at("2026-03-05T12:00:00Z"),
        resolved_at=at("2026-03-05T12:30:00Z"),
    )
    # i2 starts 49 h after d8, outside the 24 h window: not linked. It spans W10 and W11 (16 h).
    make_incident(
        session,
        team,
        external_id="i2",
        started_at=at("2026-03-08T09:00:00Z"),
        resolved_at=at("2026-03-09T01:00:00Z"),
    )
    make_incident(
        session,
        team,
        external_id="i3",
        started_at=at("2026-03-10T08:00:00Z"),
        resolved_at=at("2026-03-10T10:00:00Z"),
    )
    make_incident(
        session,
        team,
        external_id="i4",
        started_at=at("2026-03-11T08:00:00Z"),
        resolved_at=at("2026-03-11T08:10:00Z"),
    )
    make_incident(session, team, external_id="i5", started_at=at("2026-03-12T08:00:00Z"))


def weeks_of(session: Session, team: Team, now: datetime = AFTER_ALL) -> dict[date, DeliveryWeek]:
    return stats.weekly_delivery(session=session, team=team, weeks=[W09, W10, W11, W12], now=now)


def test_deployments_and_failures_per_team_local_week(session: Session, paris: Team) -> None:
    build_scenario(session, paris)
    weeks = weeks_of(session, paris)
    # W09: d1 only.
    assert (weeks[W09].deployments, weeks[W09].failed_deployments) == (1, 0)
    assert weeks[W09].change_failure_rate == 0.0
    # W10: d2 d3 d4 d5 d6 d8; failed: d3 (failure), d4 (rolled back), d6 (linked to i1).
    assert (weeks[W10].deployments, weeks[W10].failed_deployments) == (6, 3)
    assert weeks[W10].change_failure_rate == 0.5
    # W11: d9 only.
    assert (weeks[W11].deployments, weeks[W11].failed_deployments) == (1, 0)
    # No deployments: the rate is unknown, never 0.
    assert weeks[W12].deployments == 0
    assert weeks[W12].change_failure_rate is None
    assert [w.week for w in weeks.values()] == ["2026-W09", "2026-W10", "2026-W11", "2026-W12"]


def test_the_same_deployments_fall_in_other_weeks_for_a_utc_team(session: Session) -> None:
    utc_team = make_team(session, timezone="UTC").team
    make_deployment(session, utc_team, external_id="d1", finished_at=at("2026-03-01T22:59:00Z"))
    make_deployment(session, utc_team, external_id="d2", finished_at=at("2026-03-01T23:30:00Z"))
    weeks = weeks_of(session, utc_team)
    assert weeks[W09].deployments == 2
    assert weeks[W10].deployments == 0


def test_incidents_mttr_and_open_counts(session: Session, paris: Team) -> None:
    build_scenario(session, paris)
    weeks = weeks_of(session, paris)
    # W10: started i1, i2; resolved i1 (30 min); i2 still open at the week's end.
    assert weeks[W10].incidents == 2
    assert weeks[W10].resolved_incidents == 1
    assert weeks[W10].mttr_minutes == 30.0
    assert weeks[W10].mttr_p90_minutes == 30.0
    assert weeks[W10].mttr_mean_minutes == 30.0
    assert weeks[W10].open_incidents == 1
    # W11: started i3 i4 i5; resolved i2 (960), i3 (120), i4 (10) — i2 counts where it ended.
    assert weeks[W11].incidents == 3
    assert weeks[W11].resolved_incidents == 3
    assert weeks[W11].mttr_minutes == 120.0
    # p90 between the 2nd and 3rd values: 120 + 0.8 × (960 − 120).
    assert weeks[W11].mttr_p90_minutes == pytest.approx(792.0)
    assert weeks[W11].mttr_mean_minutes == pytest.approx(1090 / 3)
    assert weeks[W11].open_incidents == 1  # i5
    # Nothing resolved: no MTTR at all rather than zero.
    assert weeks[W09].mttr_minutes is None and weeks[W09].resolved_incidents == 0
    assert weeks[W09].incidents == 0 and weeks[W09].open_incidents == 0
    # i5 is still open through W12.
    assert weeks[W12].open_incidents == 1


def test_open_incidents_of_the_current_week_are_counted_now(session: Session, paris: Team) -> None:
    build_scenario(session, paris)
    now = at("2026-03-10T09:00:00Z")  # i3 is open right now; i5 has not started yet
    weeks = weeks_of(session, paris, now=now)
    assert weeks[W11].open_incidents == 1
    assert weeks[W12].open_incidents == 0  # a week that has not begun


def test_links_record_how_they_were_made(session: Session, paris: Team) -> None:
    build_scenario(session, paris)
    i1 = service.get_incident(session=session, team=paris, external_id="i1")
    i2 = service.get_incident(session=session, team=paris, external_id="i2")
    assert i1 is not None and i2 is not None
    link = service.get_link(session=session, incident=i1)
    assert link is not None
    assert (link[1].external_id, link[0].method) == ("d6", "inferred_window")
    assert service.get_link(session=session, incident=i2) is None


def test_explicit_links_by_id_and_sha_ignore_the_window(session: Session, paris: Team) -> None:
    make_deployment(
        session, paris, external_id="old", sha="abc123", finished_at=at("2026-03-02T08:00:00Z")
    )
    make_deployment(session, paris, external_id="recent", finished_at=at("2026-03-09T08:00:00Z"))
    by_id = make_incident(
        session,
        paris,
        external_id="by-id",
        started_at=at("2026-03-09T09:00:00Z"),
        deployment_external_id="old",
    )
    by_sha = make_incident(
        session, paris, external_id="by-sha", started_at=at("2026-03-09T10:00:00Z"), sha="abc123"
    )
    for incident, method in ((by_id, "explicit_id"), (by_sha, "explicit_sha")):
        link = service.get_link(session=session, incident=incident)
        assert link is not None
        assert (link[1].external_id, link[0].method) == ("old", method)
    weeks = weeks_of(session, paris)
    assert weeks[W10].failed_deployments == 1  # "old", a week before the incidents
    assert weeks[W11].failed_deployments == 0  # "recent" is not blamed


def test_a_deployment_arriving_after_its_incident_is_linked_then(
    session: Session, paris: Team
) -> None:
    incident = make_incident(
        session, paris, external_id="early", started_at=at("2026-03-05T12:00:00Z")
    )
    assert service.get_link(session=session, incident=incident) is None
    make_deployment(session, paris, external_id="late", finished_at=at("2026-03-05T11:00:00Z"))
    link = service.get_link(session=session, incident=incident)
    assert link is not None and link[1].external_id == "late"
    assert weeks_of(session, paris)[W10].failed_deployments == 1


def test_a_rollback_arriving_before_the_rolled_back_deployment(
    session: Session, paris: Team
) -> None:
    make_deployment(
        session,
        paris,
        external_id="undo",
        finished_at=at("2026-03-04T11:00:00Z"),
        rolls_back="bad",
    )
    bad = make_deployment(session, paris, external_id="bad", finished_at=at("2026-03-04T10:00:00Z"))
    assert bad.rolled_back is True
    week = weeks_of(session, paris)[W10]
    assert (week.deployments, week.failed_deployments) == (2, 1)


def test_production_environment_names_are_configurable(session: Session, paris: Team) -> None:
    paris.production_environments = "live"
    session.add(paris)
    session.commit()
    make_deployment(session, paris, environment="Live", finished_at=at("2026-03-03T10:00:00Z"))
    make_deployment(session, paris, environment="production", finished_at=at("2026-03-03T11:00Z"))
    assert weeks_of(session, paris)[W10].deployments == 1


def test_week_bounds_follow_daylight_saving_time() -> None:
    team = Team(
        slug="ny",
        name="NY",
        size=3,
        timezone="America/New_York",
        pulse_link="x",
        ingest_token_hash="y",
        webhook_secret="z",
    )
    # New York moves to EDT on Sunday 2026-03-08: W10 starts at 05:00 UTC, W11 at 04:00 UTC.
    assert stats.week_bounds(team, W10) == (at("2026-03-02T05:00:00Z"), at("2026-03-09T04:00:00Z"))
    assert stats.week_bounds(team, W11)[0] == at("2026-03-09T04:00:00Z")


def test_delivery_week_carries_its_dora_bands(session: Session, paris: Team) -> None:
    build_scenario(session, paris)
    weeks = weeks_of(session, paris)
    band = weeks[W10].change_failure_band
    assert band is not None and band.key == "low"  # 50 %
    recovery = weeks[W11].recovery_band
    assert recovery is not None and recovery.key == "high"  # median 2 h
    assert weeks[W12].change_failure_band is None
    assert "rank" in dora.DORA_CAUTION


def test_a_manual_link_is_kept_when_deployments_change(session: Session, paris: Team) -> None:
    blamed = make_deployment(session, paris, external_id="m1", finished_at=at("2026-03-02T08:00Z"))
    incident = make_incident(session, paris, started_at=at("2026-03-09T12:00:00Z"))
    service.link_manually(session=session, team=paris, incident=incident, deployment=blamed)
    # A deployment 1 h before the incident would otherwise be inferred.
    make_deployment(session, paris, external_id="m2", finished_at=at("2026-03-09T11:00:00Z"))
    link = service.get_link(session=session, incident=incident)
    assert link is not None
    assert (link[1].external_id, link[0].method) == ("m1", "manual")
    weeks = weeks_of(session, paris)
    assert (weeks[W10].failed_deployments, weeks[W11].failed_deployments) == (1, 0)
