"""A team with six weeks of pulse and delivery history, and comments planted where none may show."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from app.clock import utcnow
from app.teams.models import Team
from tests.factories import (
    make_api_token,
    make_deployment,
    make_incident,
    make_responses,
    make_round,
    make_team,
    make_user,
    settle,
    shipped_surveys,
)

ELIGIBLE_COMMENT = "Rollbacks felt calm this week"
BELOW_THRESHOLD_COMMENT = "PLANTED below threshold: only three of us answered"
OPEN_ROUND_COMMENT = "PLANTED open round: still taking answers"
INCIDENT_TITLE = "Checkout 500s after the | pipe [deploy](x)"


def answers(team: Team, score: int) -> dict[str, int]:
    """Answers that score `score` on every question (reversed questions answered mirrored)."""
    survey = shipped_surveys()[team.survey_id]
    low, high = survey.scale.min, survey.scale.max
    return {q.key: (low + high - score) if q.reverse else score for q in survey.questions}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A UTC moment on this day."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass(frozen=True)
class Retro:
    """What the scenario stored, for the tests to ask about."""

    team: Team
    token: str
    manager_email: str
    start: date
    end: date
    eligible_weeks: tuple[date, ...]
    suppressed_week: date
    open_week: date
    incident_week: date
    response_ids: tuple[str, ...]

    @property
    def query(self) -> str:
        """The range as query parameters."""
        return f"from={self.start}&to={self.end}"


def build_retro(session: Session) -> Retro:
    """Six weeks ago to now: two eligible rounds, one below threshold, one still open.

    Weeks (UTC team): -6 five responses all scoring 4 (trust 75) and an eligible comment;
    -5 three responses (below the threshold of 5) with a planted comment; -4 six responses all
    scoring 5 except one at 2, a success and a failed deployment and a 90-minute incident;
    this week five responses and a planted comment in a round that is still open.
    """
    team = make_team(session, name="Payments", size=8).team
    now = utcnow()
    responses: list[str] = []

    six = make_round(session, team, now=now - timedelta(weeks=6))
    responses += make_responses(
        session, six, 5, answers=answers(team, 4), comments=[ELIGIBLE_COMMENT]
    )
    five = make_round(session, team, now=now - timedelta(weeks=5))
    responses += make_responses(
        session, five, 3, answers=answers(team, 2), comments=[BELOW_THRESHOLD_COMMENT]
    )
    four = make_round(session, team, now=now - timedelta(weeks=4))
    responses += make_responses(
        session,
        four,
        6,
        answers=[answers(team, 5)] * 5 + [answers(team, 2)],
    )
    current = make_round(session, team, now=now)
    responses += make_responses(
        session, current, 5, answers=answers(team, 1), comments=[OPEN_ROUND_COMMENT]
    )

    week = four.starts_on
    make_deployment(session, team, external_id="web-101", finished_at=at(week, 10))
    make_deployment(
        session,
        team,
        external_id="web-102",
        status="failure",
        finished_at=at(week + timedelta(days=1), 10),
    )
    make_deployment(
        session,
        team,
        external_id="staging-1",
        environment="staging",
        finished_at=at(week + timedelta(days=1), 11),
    )
    make_incident(
        session,
        team,
        external_id="INC-7",
        title=INCIDENT_TITLE,
        severity="SEV2",
        started_at=at(week + timedelta(days=2), 9),
        resolved_at=at(week + timedelta(days=2), 10, 30),
    )
    manager = make_user(session, teams=[team])
    token = make_api_token(session, manager)
    settle(session)
    return Retro(
        team=team,
        token=token,
        manager_email=manager.email,
        start=six.starts_on,
        end=current.starts_on + timedelta(days=6),
        eligible_weeks=(six.starts_on, four.starts_on),
        suppressed_week=five.starts_on,
        open_week=current.starts_on,
        incident_week=four.starts_on,
        response_ids=tuple(responses),
    )
