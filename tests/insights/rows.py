"""Survey versions, rounds and answers for insights tests, written straight to the tables."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, select

from app.auth.deps import SESSION_COOKIE
from app.auth.models import LoginSession, User
from app.pulses.models import Answer, Comment, Response, Round, SurveyVersion
from app.teams import tokens
from app.teams.models import Team

QUESTIONS = ("ship_friday", "rollback_calm")


def survey_version(
    session: Session, *, minimum: int = 1, maximum: int = 5, keys: Sequence[str] = QUESTIONS
) -> SurveyVersion:
    """A frozen survey version with these questions (one shared per scale)."""
    survey_id = f"test-{minimum}-{maximum}-{len(keys)}"
    found = session.exec(select(SurveyVersion).where(SurveyVersion.survey_id == survey_id)).first()
    if found is not None:
        return found
    content = {
        "id": survey_id,
        "version": 1,
        "title": "Test pulse",
        "scale": {
            "min": minimum,
            "max": maximum,
            "labels": [str(p) for p in range(minimum, maximum + 1)],
        },
        "questions": [
            {"key": key, "text": f"Question {key}", "dimension": "trust", "reverse": False}
            for key in keys
        ],
    }
    version = SurveyVersion(
        survey_id=survey_id, version=1, content_hash=survey_id, content=json.dumps(content)
    )
    session.add(version)
    session.commit()
    session.refresh(version)
    return version


def iso_week(day: date) -> str:
    """The ISO week label of a day."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def add_round(
    session: Session,
    team: Team,
    *,
    monday: date,
    version: SurveyVersion | None = None,
    closed_early: bool = False,
) -> Round:
    """A weekly round starting on this Monday; it closes at the end of its Sunday (UTC)."""
    version = version or survey_version(session)
    assert team.id is not None and version.id is not None
    round_ = Round(
        team_id=team.id,
        period=iso_week(monday),
        starts_on=monday,
        ends_on=monday + timedelta(days=6),
        closes_at=datetime.combine(monday + timedelta(days=7), time(), tzinfo=UTC),
        survey_version_id=version.id,
        closed_early_at=datetime.now(UTC) if closed_early else None,
    )
    session.add(round_)
    session.commit()
    session.refresh(round_)
    return round_


def add_responses(
    session: Session,
    round_: Round,
    scores: Sequence[Sequence[int]],
    *,
    keys: Sequence[str] = QUESTIONS,
    comments: Sequence[str] = (),
) -> None:
    """One response per row of scores (already reverse-scored), plus round-keyed comments."""
    assert round_.id is not None
    for row in scores:
        response = Response(round_id=round_.id)
        session.add(response)
        session.flush()
        for key, score in zip(keys, row, strict=True):
            session.add(
                Answer(
                    response_id=response.id,
                    question_key=key,
                    round_id=round_.id,
                    value=score,
                    score=score,
                )
            )
    for body in comments:
        session.add(Comment(round_id=round_.id, body=body))
    session.commit()


def monday_weeks_ago(weeks: int, *, today: date | None = None) -> date:
    """The Monday `weeks` weeks before this week's Monday (UTC)."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)


def login_cookie(session: Session, user: User) -> dict[str, str]:
    """A logged-in browser's cookies for this user (a login session row, as /login makes)."""
    token = tokens.new_secret()
    assert user.id is not None
    session.add(
        LoginSession(
            token_hash=tokens.hash_token(token),
            user_id=user.id,
            csrf_token=tokens.new_secret(),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    session.commit()
    return {SESSION_COOKIE: token}
