"""Periods in the team's timezone, rounds created once on first use, and closing early."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.db import writer
from app.pulses.models import Round, SurveyVersion
from app.pulses.rounds import (
    RoundError,
    close_early,
    current_round,
    describe_period,
    is_open,
    period_for,
)
from tests.factories import make_round, make_team, shipped_surveys


def test_weekly_periods_are_iso_weeks_in_the_team_timezone() -> None:
    # Sunday 29 November 2026, 12:00 UTC: still week 48 in UTC, already Monday of week 49 in
    # Auckland (UTC+13 in summer).
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    utc = period_for(cadence="weekly", timezone="UTC", now=now)
    assert (utc.label, utc.starts_on, utc.ends_on) == (
        "2026-W48",
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert utc.closes_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)

    auckland = period_for(cadence="weekly", timezone="Pacific/Auckland", now=now)
    assert (auckland.label, auckland.starts_on) == ("2026-W49", date(2026, 11, 30))
    # Monday 7 December 00:00 NZDT is Sunday 6 December 11:00 UTC.
    assert auckland.closes_at == datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    assert auckland.opens_at == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)


def test_a_week_across_the_spring_dst_change_is_one_hour_shorter() -> None:
    # Paris moves from CET to CEST on Sunday 29 March 2026.
    period = period_for(
        cadence="weekly", timezone="Europe/Paris", now=datetime(2026, 3, 25, 12, tzinfo=UTC)
    )
    assert period.label == "2026-W13"
    assert period.opens_at == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert period.closes_at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # Monday 00:00 CEST
    assert period.closes_at - period.opens_at == timedelta(days=7, hours=-1)
    # One minute before Monday 00:00 CEST is still Sunday of week 13 in Paris.
    sunday_late = period.closes_at - timedelta(minutes=1)
    assert period_for(cadence="weekly", timezone="Europe/Paris", now=sunday_late) == period
    assert (
        period_for(cadence="weekly", timezone="Europe/Paris", now=period.closes_at).label
        == "2026-W14"
    )


def test_a_week_across_the_autumn_dst_change_is_one_hour_longer() -> None:
    period = period_for(
        cadence="weekly", timezone="Europe/Paris", now=datetime(2026, 10, 25, 12, tzinfo=UTC)
    )
    assert period.label == "2026-W43"
    assert period.closes_at - period.opens_at == timedelta(days=7, hours=1)


def test_iso_week_53_and_the_year_boundary() -> None:
    # 3 January 2027 is the Sunday of ISO week 53 of 2026.
    period = period_for(
        cadence="weekly", timezone="America/Los_Angeles", now=datetime(2027, 1, 1, 5, tzinfo=UTC)
    )
    assert (period.label, period.starts_on, period.ends_on) == (
        "2026-W53",
        date(2026, 12, 28),
        date(2027, 1, 3),
    )


def test_monthly_and_quarterly_periods() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    monthly = period_for(cadence="monthly", timezone="Pacific/Auckland", now=now)
    assert (monthly.label, monthly.starts_on, monthly.ends_on) == (
        "2026-11",
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert monthly.closes_at == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    february = period_for(cadence="monthly", timezone="UTC", now=datetime(2028, 2, 10, tzinfo=UTC))
    assert (february.label, february.ends_on) == ("2028-02", date(2028, 2, 29))
    quarter = period_for(cadence="quarterly", timezone="Europe/Paris", now=now)
    assert (quarter.label, quarter.starts_on, quarter.ends_on) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert quarter.closes_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def test_naive_now_and_unknown_cadence_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        period_for(cadence="weekly", timezone="UTC", now=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown cadence"):
        period_for(cadence="daily", timezone="UTC", now=datetime(2026, 1, 1, tzinfo=UTC))


def test_current_round_is_created_once_and_then_reused(session: Session) -> None:
    team = make_team(session, timezone="Pacific/Auckland").team
    survey = shipped_surveys()["release-pulse"]
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    first = current_round(session=session, team=team, survey=survey, now=now)
    again = current_round(session=session, team=team, survey=survey, now=now + timedelta(days=3))
    assert first.id == again.id
    assert (first.period, first.starts_on, first.ends_on) == (
        "2026-W49",
        date(2026, 11, 30),
        date(2026, 12, 6),
    )
    assert first.closes_at == datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    version = session.get(SurveyVersion, first.survey_version_id)
    assert version is not None and (version.survey_id, version.version) == ("release-pulse", 1)
    next_week = current_round(session=session, team=team, survey=survey, now=first.closes_at)
    assert next_week.period == "2026-W50" and next_week.id != first.id
    assert session.exec(select(func.count()).select_from(Round)).one() == 2


def test_concurrent_first_use_creates_exactly_one_round(engine: Engine, session: Session) -> None:
    team = make_team(session).team
    survey = shipped_surveys()["release-pulse"]
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(6)
    ids: list[int | None] = []
    failures: list[BaseException] = []

    def open_link() -> None:
        try:
            with Session(writer(engine)) as own:
                barrier.wait()
                ids.append(current_round(session=own, team=team, survey=survey, now=now).id)
        except BaseException as exc:  # collected and asserted on below
            failures.append(exc)

    # The test's own session holds SQLite's write lock since its last read: release it.
    session.commit()
    threads = [threading.Thread(target=open_link) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(ids) == 6 and len(set(ids)) == 1
    assert session.exec(select(func.count()).select_from(Round)).one() == 1
    assert session.exec(select(func.count()).select_from(SurveyVersion)).one() == 1


def test_a_round_is_open_until_its_period_ends_or_a_manager_closes_it(session: Session) -> None:
    team = make_team(session).team
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    round_ = make_round(session, team, now=now)
    assert is_open(round_, now)
    assert is_open(round_, round_.closes_at - timedelta(microseconds=1))
    assert not is_open(round_, round_.closes_at)

    close_early(session=session, round=round_, now=now + timedelta(hours=1))
    assert round_.closed_early_at == now + timedelta(hours=1)
    assert not is_open(round_, now + timedelta(hours=2))
    with pytest.raises(RoundError, match="already closed"):
        close_early(session=session, round=round_, now=now + timedelta(hours=3))
    # The link keeps showing this (closed) round until its period is over.
    again = current_round(
        session=session, team=team, survey=shipped_surveys()["release-pulse"], now=now
    )
    assert again.id == round_.id and again.closed_early_at is not None


def test_periods_in_words(session: Session) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime(2026, 11, 25, tzinfo=UTC))
    assert describe_period(round_) == "week 48 (23 November – 29 November 2026)"
