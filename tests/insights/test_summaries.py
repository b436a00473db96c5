"""Stored summaries of closed rounds: the same figures as from the answers, stored only when safe.

The reference below is the aggregation the app ran on every request before summaries existed.
Per-question figures and favorable % must equal it exactly. The trust index may differ in its
last bits only: the reference adds floating-point means in whatever order the database reads
them (on PostgreSQL that order changes with the rounds asked for), where summaries add exact
integer totals. Both take the variance as (sum of squares - n * mean^2) / (n - 1), which cancels
to rounding noise when every response has the same mean; the square root in the interval turns
that noise into up to ~1e-6 points, either way. (On the benchmark's 83,200 figures, all are
bit-identical.)
"""

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Float, cast, func
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import make_engine, writer
from app.insights import summaries, survey_stats
from app.insights.models import RoundHistogram, RoundSummary
from app.insights.survey_stats import QuestionFigures, RoundFigures, Scale
from app.pulses.models import Answer, Round
from app.pulses.surveys import Survey
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

MIN_RESPONSES = 5
# How far the interval's ends may drift when the variance is all rounding noise, in points.
INTERVAL_NOISE = 1e-5
SCORE_FIELDS = ("trust_index", "trust_ci_low", "trust_ci_high", "favorable_pct")


def _surveys() -> list[Survey]:
    """Three survey versions: 7 points with reversed items, its 5-point v2, and release-pulse."""
    seven = shipped_surveys()["psychological-safety"]
    content = seven.model_dump(mode="json")
    content["version"] = 2
    content["scale"] = {"min": 1, "max": 5, "labels": ["1", "2", "3", "4", "5"]}
    content["questions"] = content["questions"][:4] + [
        {
            "key": "afraid_to_ask",
            "text": "I hesitate to ask for help.",
            "dimension": "psychological_safety",
            "reverse": True,
        }
    ]
    return [seven, Survey.model_validate(content), shipped_surveys()["release-pulse"]]


SURVEYS = _surveys()


def _reference(
    session: Session, figures: list[RoundFigures]
) -> tuple[dict[int, dict[str, float | None]], dict[int, list[QuestionFigures]]]:
    """Scores and per-question figures of the eligible rounds, straight from their answers."""
    eligible = {f.round_id: f for f in figures if f.eligible and f.round_id is not None}
    ids = list(eligible)
    scales = survey_stats.load_scales(
        session=session, version_ids=(f.survey_version_id or 0 for f in eligible.values())
    )
    per_response = (
        select(Answer.round_id, Answer.response_id, func.avg(cast(Answer.score, Float)).label("m"))
        .where(col(Answer.round_id).in_(ids))
        .group_by(col(Answer.round_id), col(Answer.response_id))
        .subquery()
    )
    trust = session.exec(
        select(
            per_response.c.round_id,
            func.count(),
            func.avg(per_response.c.m),
            func.sum(per_response.c.m * per_response.c.m),
        ).group_by(per_response.c.round_id)
    ).all()
    histogram = session.exec(
        select(Answer.round_id, Answer.question_key, Answer.score, func.count())
        .where(col(Answer.round_id).in_(ids))
        .group_by(col(Answer.round_id), col(Answer.question_key), col(Answer.score))
    ).all()
    counts: dict[int, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for round_id, key, score, answers in histogram:
        counts[round_id][key][score] = answers
    scores: dict[int, dict[str, float | None]] = {}
    for round_id, n, mean, sum_squares in trust:
        scale = scales[eligible[round_id].survey_version_id or 0]
        n, mean = int(n), float(mean)
        variance = (float(sum_squares) - n * mean * mean) / (n - 1) if n > 1 else 0.0
        scores[round_id] = survey_stats._trust_figures(scale, n, mean, max(variance, 0.0))
        total = sum(c for by_score in counts[round_id].values() for c in by_score.values())
        top = sum(
            c
            for by_score in counts[round_id].values()
            for s, c in by_score.items()
            if s >= scale.favorable_from
        )
        scores[round_id]["favorable_pct"] = 100.0 * top / total
    questions = {
        round_id: _reference_questions(scales[f.survey_version_id or 0], counts[round_id])
        for round_id, f in eligible.items()
    }
    return scores, questions


def _reference_questions(scale: Scale, counts: dict[str, dict[int, int]]) -> list[QuestionFigures]:
    known = [q.key for q in scale.questions]
    text_of = {q.key: q.text for q in scale.questions}
    result = []
    for key in known + sorted(set(counts) - set(known)):
        histogram = counts.get(key)
        if not histogram:
            continue
        total = sum(histogram.values())
        result.append(
            QuestionFigures(
                key=key,
                text=text_of.get(key, key),
                answers=total,
                mean=sum(s * c for s, c in histogram.items()) / total,
                favorable_pct=100.0
                * sum(c for s, c in histogram.items() if s >= scale.favorable_from)
                / total,
                counts={point: histogram.get(point, 0) for point in scale.points},
            )
        )
    return result


@pytest.fixture
def reader(engine: Engine) -> Iterator[Session]:
    """A session like a page's: it reads, and stores summaries in a transaction of its own."""
    with Session(engine) as session:
        yield session


def _figures(
    session: Session, *teams: Team, now: datetime | None = None, min_responses: int = 5
) -> list[RoundFigures]:
    session.rollback()  # a fresh snapshot, as a new request would have
    return survey_stats.round_figures(
        session=session,
        teams=teams,
        min_responses=min_responses,
        now=now or datetime.now(UTC),
    )


def _stored(session: Session) -> dict[int, RoundSummary]:
    session.rollback()
    return {row.round_id: row for row in session.exec(select(RoundSummary)).all()}


def _with_histograms(session: Session) -> set[int]:
    session.rollback()
    return set(session.exec(select(RoundHistogram.round_id).distinct()).all())


def _sheets(survey: Survey, n: int) -> st.SearchStrategy[list[dict[str, int]]]:
    """n answer sheets for this survey, every question answered."""
    value = st.integers(survey.scale.min, survey.scale.max)
    sheet = st.fixed_dictionaries(dict.fromkeys(survey.keys, value))
    return st.lists(sheet, min_size=n, max_size=n)


PAST_ROUND = st.fixed_dictionaries(
    {
        "survey": st.sampled_from(range(len(SURVEYS))),
        "responses": st.integers(0, 8),
        "closed_early": st.booleans(),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=st.lists(PAST_ROUND, min_size=1, max_size=5), data=st.data())
def test_summaries_give_the_figures_of_the_answers_exactly(
    session: Session, reader: Session, rounds: list[dict[str, Any]], data: st.DataObject
) -> None:
    team = make_team(session).team
    now = datetime.now(UTC)
    past_ids: dict[int, bool] = {}  # round -> eligible
    for weeks_ago, spec in enumerate(rounds, start=2):
        survey = SURVEYS[spec["survey"]]
        round_ = make_round(session, team, now=now - timedelta(weeks=weeks_ago), survey=survey)
        sheets = data.draw(_sheets(survey, spec["responses"]))
        if sheets:
            make_responses(session, round_, len(sheets), answers=sheets)
        if spec["closed_early"]:
            # Closed by a manager two days before its period ended, long ago.
            round_.closed_early_at = round_.closes_at - timedelta(days=2)
            session.add(round_)
        assert round_.id is not None
        past_ids[round_.id] = spec["responses"] >= MIN_RESPONSES
    # Closed a moment ago: its figures show, but are computed afresh until it has settled.
    recent = make_round(session, team, now=now, survey=SURVEYS[1])
    make_responses(session, recent, 6, answers=data.draw(_sheets(SURVEYS[1], 6)))
    recent.closed_early_at = now
    session.add(recent)
    # Still open (another team's round this week): counts only, never stored.
    other = make_team(session).team
    current = make_round(session, other, now=now, survey=SURVEYS[2])
    make_responses(session, current, 5)
    settle(session)

    fresh = _figures(reader, team, other)
    assert recent.id is not None and current.id is not None
    eligible = {**past_ids, recent.id: True, current.id: False}
    assert {f.round_id: f.eligible for f in fresh} == eligible
    expected_scores, expected_questions = _reference(reader, fresh)
    settled = {round_id for round_id, eligible in past_ids.items() if eligible}
    assert set(_stored(reader)) & eligible.keys() == settled
    assert _with_histograms(reader) & eligible.keys() == set()

    served = _figures(reader, team, other)
    assert served == fresh
    for f in served:
        expected = expected_scores.get(f.round_id or 0, dict.fromkeys(SCORE_FIELDS))
        for name in SCORE_FIELDS:
            shown, reference = getattr(f, name), expected[name]
            if reference is None:
                assert shown is None, (name, f)
            elif name == "favorable_pct":
                assert shown == reference, (name, f)
            elif name == "trust_index":
                assert shown == pytest.approx(reference, rel=1e-12, abs=1e-12), (name, f)
            else:
                assert shown == pytest.approx(reference, abs=INTERVAL_NOISE), (name, f)
    assert survey_stats.question_figures(session=reader, rounds=served) == expected_questions
    assert _with_histograms(reader) & eligible.keys() == settled
    # Now from the stored histograms (and the answers of the rounds not settled yet).
    assert survey_stats.question_figures(session=reader, rounds=served) == expected_questions


def test_a_session_that_writes_stores_summaries_in_its_own_transaction(
    session: Session, reader: Session
) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    make_responses(session, round_, 5)
    [figures] = _figures(session, team)
    assert figures.trust_index is not None
    settle(session)
    assert round_.id in _stored(reader)
    [again] = _figures(reader, team)
    assert again == figures


def test_the_threshold_applies_when_reading_a_summary(session: Session, reader: Session) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    make_responses(session, round_, 5)
    settle(session)
    [shown] = _figures(reader, team)
    assert round_.id in _stored(reader) and shown.trust_index is not None
    # The operator raises the threshold: the stored summary is not shown any more.
    [hidden] = _figures(reader, team, min_responses=6)
    assert hidden.suppressed and all(getattr(hidden, name) is None for name in SCORE_FIELDS)
    assert survey_stats.question_figures(session=reader, rounds=[hidden]) == {}


def test_a_suppressed_round_is_not_summarised_until_it_may_be_shown(
    session: Session, reader: Session
) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    make_responses(session, round_, 4)
    settle(session)
    [suppressed] = _figures(reader, team)
    assert suppressed.suppressed and _stored(reader) == {}
    # Lowered to 4 (the operator's choice): now eligible, computed and stored.
    [shown] = _figures(reader, team, min_responses=4)
    assert shown.trust_index is not None and round_.id in _stored(reader)


def test_no_summary_of_a_round_that_is_open_by_the_real_clock(
    session: Session, reader: Session
) -> None:
    team = make_team(session).team
    round_ = make_round(session, team)
    make_responses(session, round_, 5)
    settle(session)
    # Figures "as of" next month show the round as closed, but it is open now: nothing is kept.
    [later] = _figures(reader, team, now=datetime.now(UTC) + timedelta(days=40))
    assert later.eligible and later.trust_index is not None
    assert survey_stats.question_figures(session=reader, rounds=[later])
    assert _stored(reader) == {} and _with_histograms(reader) == set()


def test_a_round_closed_early_is_summarised_only_once_it_has_settled(
    client: TestClient, session: Session, reader: Session
) -> None:
    team = make_team(session).team
    token = make_api_token(session, make_user(session, teams=[team]))
    round_ = make_round(session, team)
    make_responses(session, round_, 5)
    settle(session)
    path = f"/api/v1/teams/{team.slug}/trends"
    closed = client.post(f"/api/v1/teams/{team.slug}/rounds/current/close", headers=bearer(token))
    assert closed.status_code == 200
    trust = closed.json()["trust_index"]
    assert trust is not None
    assert client.get(path, headers=bearer(token)).json()["weeks"][-1]["trust_index"] == trust
    assert _stored(reader) == {}
    # Once the margin has passed, the next page stores it.
    session.refresh(round_)
    assert round_.closed_early_at is not None
    round_.closed_early_at -= summaries.SETTLE_MARGIN
    session.add(round_)
    settle(session)
    assert client.get(path, headers=bearer(token)).json()["weeks"][-1]["trust_index"] == trust
    assert round_.id in _stored(reader)


@contextmanager
def _pages_that_cannot_write(url: str) -> Iterator[Engine]:
    """An engine whose sessions read but cannot store anything just now."""
    if url.startswith("sqlite"):
        engine = make_engine(url)
        # Another writer holds SQLite's lock for longer than a page waits for it.
        with writer(engine).connect() as holder, holder.begin():
            yield engine
    else:
        engine = make_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
        yield engine
    engine.dispose()


def test_figures_are_served_when_the_summary_cannot_be_stored(
    session: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    make_responses(session, round_, 6)
    settle(session)
    with (
        _pages_that_cannot_write(settings.database_url) as engine,
        Session(engine) as page,
        caplog.at_level(logging.WARNING, logger="redbutton.insights.summaries"),
    ):
        [figures] = _figures(page, team)
        questions = survey_stats.question_figures(session=page, rounds=[figures])
    assert "round_summary rows not stored" in caplog.text
    assert "round_histogram rows not stored" in caplog.text
    assert figures.trust_index is not None and figures.favorable_pct is not None
    assert round_.id is not None and questions[round_.id]
    assert _stored(session) == {} and _with_histograms(session) == set()
    # The next page that can write stores them.
    [again] = _figures(session, team)
    assert again == figures
    assert survey_stats.question_figures(session=session, rounds=[again]) == questions
    settle(session)
    assert round_.id in _stored(session) and _with_histograms(session) == {round_.id}


def test_storing_the_same_summaries_twice_keeps_the_first(
    session: Session, reader: Session
) -> None:
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    make_responses(session, round_, 5)
    settle(session)
    assert round_.id is not None
    first = summaries.compute(session=session, round_ids=[round_.id], favorable_from={round_.id: 4})
    # As if two processes computed the same round at the same time: the second store finds
    # the first one's rows and leaves them.
    assert summaries.store(session=session, summaries=first)
    settle(session)
    assert summaries.store(session=reader, summaries=first)
    stored = _stored(reader)[round_.id]
    assert (stored.responses, stored.answers) == (
        5,
        5 * len(shipped_surveys()["release-pulse"].keys),
    )
    # The same for histograms, stored by one session and counted again by another.
    rows = summaries.histograms(session=session, round_ids=[round_.id], settled_ids=[round_.id])
    settle(session)
    reader.rollback()
    assert summaries.histograms(session=reader, round_ids=[round_.id], settled_ids=[]) == rows
    assert _with_histograms(reader) == {round_.id}


def test_deleting_a_round_deletes_its_summary(session: Session) -> None:
    """Rounds are never deleted today; if one ever is, its aggregates go with it."""
    team = make_team(session).team
    round_ = make_round(session, team, now=datetime.now(UTC) - timedelta(weeks=3))
    settle(session)
    assert round_.id is not None
    summary = summaries.Summary(
        responses=5, sum_of_means=20.0, sum_of_squared_means=80.0, answers=10, favorable_answers=9
    )
    summaries.store(session=session, summaries={round_.id: summary})
    session.add(RoundHistogram(round_id=round_.id, question_key="ship_friday", score=4, answers=10))
    settle(session)
    session.delete(session.get(Round, round_.id))
    settle(session)
    assert _stored(session) == {} and _with_histograms(session) == set()
