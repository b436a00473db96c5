"""My teams side by side: latest eligible figures, small trends and the pooled weekly trust."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.insights import survey_stats
from app.insights.charts import sparkline_points
from app.insights.survey_stats import OrgWeek, RoundFigures
from app.teams.models import Team

OVERVIEW_WEEKS = 12


@dataclass(frozen=True)
class TeamRow:
    """One team's latest figures and its small trend (never a rank)."""

    team: Team
    latest: RoundFigures | None
    last_closed: RoundFigures | None
    current: RoundFigures | None
    trend: list[float | None]
    sparkline: list[str]


@dataclass(frozen=True)
class Overview:
    """Teams by name, and the weekly roll-up of their eligible rounds."""

    teams: list[TeamRow]
    weeks: list[OrgWeek]


def org_overview(
    *, session: Session, teams: Sequence[Team], min_responses: int, now: datetime
) -> Overview:
    """The last 12 weeks of these teams, in one set of queries for all of them."""
    today = survey_stats.week_start(now.date())
    mondays = [today - timedelta(weeks=n) for n in range(OVERVIEW_WEEKS - 1, -1, -1)]
    figures = survey_stats.round_figures(
        session=session,
        teams=teams,
        min_responses=min_responses,
        now=now,
        starts_from=mondays[0] - timedelta(days=6),
        starts_to=mondays[-1] + timedelta(days=6),
    )
    by_team: dict[int, list[RoundFigures]] = defaultdict(list)
    for f in figures:
        by_team[f.team_id].append(f)
    rows = []
    for team in sorted(teams, key=lambda t: t.name.lower()):
        own = by_team.get(team.id or -1, [])
        eligible = [f for f in own if f.eligible]
        closed = [f for f in own if not f.open]
        week_trust = {survey_stats.week_start(f.starts_on): f.trust_index for f in own}
        trend = [week_trust.get(monday) for monday in mondays]
        rows.append(
            TeamRow(
                team=team,
                latest=eligible[-1] if eligible else None,
                last_closed=closed[-1] if closed else None,
                current=next((f for f in reversed(own) if f.open), None),
                trend=trend,
                sparkline=sparkline_points(trend),
            )
        )
    return Overview(teams=rows, weeks=survey_stats.org_weeks(figures=figures, mondays=mondays))
