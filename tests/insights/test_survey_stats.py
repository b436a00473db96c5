"""The survey numbers of DESIGN.md §5 and the thresholds that hide them (invariants 3-5)."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.insights import survey_stats
from app.insights.survey_stats import RoundFigures
from tests.factories import make_team
from tests.insights.rows import add_responses, add_round, monday_weeks_ago, survey_version

# Per-response means 5, 4, 3, 4.5, 3 -> mean 3.9, sample variance 0.8 (worked by hand).
FIVE = [(5, 5), (4, 4), (3, 3), (4, 5), (2, 4)]
SCORE_FIELDS = ("trust_index", "trust_ci_low", "trust_ci_high", "favorable_pct")


def _figures(session: Session, *teams: object, min_responses: int = 5) -> list[RoundFigures]:
    return survey_stats.round_figures(
        session=session,
        teams=teams,  # type: ignore[arg-type]
        min_responses=min_responses,
        now=datetime.now(UTC),
    )


def test_an_eligible_round_has_its_figures(session: Session) -> None:
    team = make_team(session, size=10).team
    round_ = add_round(session, team, monday=monday_weeks_ago(2))
    add_responses(session, round_, FIVE)
    [figures] = _figures(session, team)
    assert figures.eligible and figures.responses == 5
    assert figures.response_rate == pytest.approx(0.5)
    # (3.9 - 1) / 4 * 100
    assert figures.trust_index == pytest.approx(72.5)
    # mean 3.9 -/+ 2.776445 * sqrt(0.8 / 5); the top end passes 5 and is kept at 100.
    assert figures.trust_ci_low == pytest.approx((2.789422 - 1) / 4 * 100, abs=1e-3)
    assert figures.trust_ci_high == 100.0
    # 7 of 10 answers score 4 or 5.
    assert figures.favorable_pct == pytest.approx(70.0)


def test_per_question_mean_favorable_and_distribution(session: Session) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(2))
    add_responses(session, round_, FIVE)
    figures = _figures(session, team)
    assert round_.id is not None
    [first, second] = survey_stats.question_figures(session=session, rounds=figures)[round_.id]
    assert (first.key, first.answers) == ("ship_friday", 5)
    assert first.mean == pytest.approx(3.6) and first.favorable_pct == pytest.approx(60.0)
    assert first.counts == {1: 0, 2: 1, 3: 1, 4: 2, 5: 1}
    assert second.mean == pytest.approx(4.2) and second.favorable_pct == pytest.approx(80.0)
    assert second.counts == {1: 0, 2: 0, 3: 1, 4: 2, 5: 2}


def test_four_responses_are_suppressed(session: Session) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(2))
    add_responses(session, round_, FIVE[:4], comments=["too few to show"])
    [figures] = _figures(session, team)
    assert (figures.responses, figures.suppressed, figures.open, figures.more_needed) == (
        4,
        True,
        False,
        1,
    )
    assert all(getattr(figures, name) is None for name in SCORE_FIELDS)
    assert survey_stats.question_figures(session=session, rounds=[figures]) == {}
    assert survey_stats.eligible_comments(session=session, rounds=[figures]) == {}


def test_an_open_round_shows_counts_only(session: Session) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(0))
    add_responses(session, round_, FIVE)
    [figures] = _figures(session, team)
    assert (figures.responses, figures.open, figures.suppressed) == (5, True, False)
    assert all(getattr(figures, name) is None for name in SCORE_FIELDS)
    assert survey_stats.question_figures(session=session, rounds=[figures]) == {}


def test_closing_early_reveals_the_figures(session: Session) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(0), closed_early=True)
    add_responses(session, round_, FIVE)
    [figures] = _figures(session, team)
    assert figures.eligible and figures.trust_index == pytest.approx(72.5)


def test_the_threshold_is_the_setting(session: Session) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(2))
    add_responses(session, round_, FIVE)
    [figures] = _figures(session, team, min_responses=6)
    assert figures.suppressed and figures.more_needed == 1 and figures.trust_index is None


def test_comments_of_eligible_rounds_only_shuffled(session: Session) -> None:
    team = make_team(session).team
    shown = add_round(session, team, monday=monday_weeks_ago(3))
    hidden = add_round(session, team, monday=monday_weeks_ago(2))
    bodies = [f"comment {n}" for n in range(12)]
    add_responses(session, shown, FIVE, comments=bodies)
    add_responses(session, hidden, FIVE[:3], comments=["hidden"])
    figures = _figures(session, team)
    first = survey_stats.eligible_comments(session=session, rounds=figures, rng=random.Random(1))
    second = survey_stats.eligible_comments(session=session, rounds=figures, rng=random.Random(2))
    assert shown.id is not None
    assert set(first) == {shown.id}
    assert sorted(first[shown.id]) == sorted(bodies)
    assert first[shown.id] != second[shown.id]


def test_rollup_excludes_suppressed_and_open_rounds(session: Session) -> None:
    calm = make_team(session).team
    small = make_team(session).team
    add_responses(session, add_round(session, calm, monday=monday_weeks_ago(2)), FIVE)
    # All fives: a trust index of 100 that would pull the roll-up up if it leaked in.
    add_responses(session, add_round(session, small, monday=monday_weeks_ago(2)), [(5, 5)] * 4)
    add_responses(session, add_round(session, small, monday=monday_weeks_ago(0)), [(5, 5)] * 6)
    result = survey_stats.rollup(_figures(session, calm, small))
    assert (result.rounds, result.responses) == (1, 5)
    assert result.trust_index == pytest.approx(72.5)


def test_rollup_weights_rounds_by_responses(session: Session) -> None:
    team = make_team(session).team
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(3)), FIVE)
    add_responses(
        session, add_round(session, team, monday=monday_weeks_ago(2)), [(5, 5)] * 5 + [(1, 1)] * 5
    )
    result = survey_stats.rollup(_figures(session, team))
    # (72.5 * 5 + 50 * 10) / 15
    assert result.trust_index == pytest.approx((72.5 * 5 + 50.0 * 10) / 15)


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(
    answers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), max_size=8),
    min_responses=st.integers(3, 7),
    weeks_ago=st.sampled_from([0, 1, 5]),
    closed_early=st.booleans(),
)
def test_suppression_never_leaks_a_figure(
    session: Session,
    answers: list[tuple[int, int]],
    min_responses: int,
    weeks_ago: int,
    closed_early: bool,
) -> None:
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(weeks_ago), closed_early=closed_early)
    add_responses(session, round_, answers, comments=["a comment"])
    [figures] = _figures(session, team, min_responses=min_responses)
    closed = closed_early or weeks_ago > 0
    assert figures.responses == len(answers)
    assert figures.open is not closed
    assert figures.suppressed is (len(answers) < min_responses)
    shown = [getattr(figures, name) for name in SCORE_FIELDS]
    questions = survey_stats.question_figures(session=session, rounds=[figures])
    comments = survey_stats.eligible_comments(session=session, rounds=[figures])
    if closed and len(answers) >= min_responses:
        assert None not in shown and questions and comments
    else:
        assert shown == [None] * 4 and questions == {} and comments == {}
        assert survey_stats.rollup([figures]).trust_index is None


@PROPERTY
@given(
    data=st.data(),
    minimum=st.integers(0, 1),
    points=st.integers(2, 7),
    n=st.integers(5, 9),
)
def test_trust_index_stays_within_0_and_100(
    session: Session, data: st.DataObject, minimum: int, points: int, n: int
) -> None:
    maximum = minimum + points - 1
    version = survey_version(session, minimum=minimum, maximum=maximum)
    team = make_team(session).team
    round_ = add_round(session, team, monday=monday_weeks_ago(2), version=version)
    score = st.integers(minimum, maximum)
    answers = data.draw(st.lists(st.tuples(score, score), min_size=n, max_size=n))
    add_responses(session, round_, answers)
    [figures] = _figures(session, team)
    assert figures.trust_index is not None and figures.favorable_pct is not None
    assert figures.trust_ci_low is not None and figures.trust_ci_high is not None
    assert 0.0 <= figures.trust_ci_low <= figures.trust_index <= figures.trust_ci_high <= 100.0
    assert 0.0 <= figures.favorable_pct <= 100.0
    means = [(a + b) / 2 for a, b in answers]
    expected = (sum(means) / n - minimum) / (maximum - minimum) * 100
    assert figures.trust_index == pytest.approx(expected)


def test_rounds_outside_the_range_are_left_out(session: Session) -> None:
    team = make_team(session).team
    add_round(session, team, monday=monday_weeks_ago(10))
    inside = add_round(session, team, monday=monday_weeks_ago(2))
    figures = survey_stats.round_figures(
        session=session,
        teams=[team],
        min_responses=5,
        now=datetime.now(UTC),
        starts_from=monday_weeks_ago(3),
        starts_to=monday_weeks_ago(0) + timedelta(days=6),
    )
    assert [f.round_id for f in figures] == [inside.id]


def test_the_rolling_mean_pools_eligible_rounds_only(session: Session) -> None:
    team = make_team(session).team
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(4)), FIVE)
    # All fives but suppressed: it must not lift the rolling mean.
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(3)), [(5, 5)] * 4)
    add_responses(session, add_round(session, team, monday=monday_weeks_ago(2)), [(3, 3)] * 5)
    mondays = [monday_weeks_ago(n) for n in (4, 3, 2, 1)]
    rolling = survey_stats.rolling_trust(figures=_figures(session, team), mondays=mondays)
    assert rolling[mondays[0]] == pytest.approx(72.5)
    assert rolling[mondays[1]] == pytest.approx(72.5)
    # (72.5 * 5 + 50 * 5) / 10
    assert rolling[mondays[2]] == pytest.approx(61.25)
    assert rolling[mondays[3]] == pytest.approx(61.25)
    far = monday_weeks_ago(-3)
    assert survey_stats.rolling_trust(figures=_figures(session, team), mondays=[far])[far] is None
