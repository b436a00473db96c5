"""A manager closes the team's current round before its period ends."""

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from app.ballots import keys as ballot_keys
from app.pulses import rounds
from app.pulses.models import Round
from app.pulses.surveys import Survey
from app.teams.models import Team


class CloseError(ValueError):
    """The current round cannot be closed; the message says why."""


def close_current_round(
    *, session: Session, team: Team, surveys: Mapping[str, Survey], now: datetime
) -> Round:
    """Close the round of the period containing now (created first if nobody answered yet)."""
    survey = surveys.get(team.survey_id)
    if survey is None:
        raise CloseError(f"this team's survey {team.survey_id!r} is not installed on the server")
    round_ = rounds.current_round(session=session, team=team, survey=survey, now=now)
    try:
        closed = rounds.close_early(session=session, round=round_, now=now)
    except rounds.RoundError as exc:
        raise CloseError(str(exc)) from exc
    # A closed round's ballot key must not outlive it: nobody can sign for it any more.
    ballot_keys.destroy_closed(session=session)
    return closed
