"""Test data factories: real rows through the real service functions."""

import itertools

from sqlmodel import Session

from app.teams import service as team_service

_counter = itertools.count(1)


def make_team(session: Session, **overrides: object) -> team_service.IssuedTeam:
    """A team with unique slug; override any create() argument."""
    n = next(_counter)
    arguments: dict[str, object] = {
        "slug": f"team-{n}",
        "name": f"Team {n}",
        "size": 8,
        "timezone": "UTC",
    }
    arguments.update(overrides)
    return team_service.create(session=session, **arguments)  # type: ignore[arg-type]
