"""Load the demo story into a database through the product's own service functions."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from app.auth import service as auth_service
from app.clock import utcnow
from app.delivery import service as delivery_service
from app.delivery.models import DeploymentIn, IncidentIn
from app.demo.scenario import DEMO_TEAMS, plan_team, to_scale
from app.pulses import rounds
from app.pulses import service as pulse_service
from app.pulses.surveys import Survey
from app.teams import service as team_service
from app.teams.models import Team

DEMO_PASSWORD = "redbutton-demo"
ADMIN_EMAIL = "admin@example.com"
MANAGER_EMAIL = "manager@example.com"
DEMO_WEEKS = 30
DEMO_SEED = 2026


class DemoError(RuntimeError):
    """The demo cannot be loaded (for example: the database already has teams)."""


@dataclass(frozen=True)
class DemoSummary:
    """What was loaded, and how to log in."""

    teams: list[str]
    rounds: int
    responses: int
    deployments: int
    incidents: int
    admin_email: str
    manager_email: str
    password: str


def is_empty(*, session: Session) -> bool:
    """Whether the database has no team yet."""
    return session.exec(select(func.count()).select_from(Team)).one() == 0


def load_demo(
    *, session: Session, surveys: dict[str, Survey], now: datetime | None = None
) -> DemoSummary:
    """Create the demo teams, users, months of closed rounds, deployments and incidents."""
    if not is_empty(session=session):
        raise DemoError("the database already has teams; the demo loads only into an empty one")
    now = now or utcnow()
    counts = {"rounds": 0, "responses": 0, "deployments": 0, "incidents": 0}
    teams: list[Team] = []
    for story in DEMO_TEAMS:
        survey = surveys[story.survey_id]
        team = team_service.create(
            session=session,
            slug=story.slug,
            name=story.name,
            size=story.size,
            timezone=story.timezone,
            survey_id=story.survey_id,
        ).team
        teams.append(team)
        zone = ZoneInfo(story.timezone)
        plans = plan_team(
            story,
            question_keys=[q.key for q in survey.questions],
            weeks=DEMO_WEEKS,
            today=now.astimezone(zone).date(),
            seed=DEMO_SEED,
        )
        deployments: list[DeploymentIn] = []
        incidents: list[IncidentIn] = []
        for plan in plans:
            # Answers arrive on the Tuesday of their week; the current week's may not be past.
            answered_at = min(
                now, datetime.combine(plan.week_start + timedelta(days=1), time(10), zone)
            )
            round_ = rounds.current_round(
                session=session, team=team, survey=survey, now=answered_at
            )
            counts["rounds"] += 1
            comments = list(plan.comments)
            for latent in plan.answers:
                answers = {
                    q.key: to_scale(
                        latent[q.key],
                        minimum=survey.scale.min,
                        maximum=survey.scale.max,
                        reverse=q.reverse,
                    )
                    for q in survey.questions
                }
                pulse_service.submit_response(
                    session=session,
                    round=round_,
                    survey=survey,
                    answers=answers,
                    comment=comments.pop() if comments else None,
                    now=answered_at,
                    commit=False,
                )
                counts["responses"] += 1
            session.commit()
            for deployment in plan.deployments:
                if deployment.finished_at > now:
                    continue
                deployments.append(
                    DeploymentIn(
                        external_id=deployment.external_id,
                        environment="production",
                        status=deployment.status,
                        finished_at=deployment.finished_at,
                        sha=deployment.sha,
                        is_rollback=deployment.is_rollback,
                        rolls_back=deployment.rolls_back,
                    )
                )
            for incident in plan.incidents:
                if incident.started_at > now:
                    continue
                resolved = incident.resolved_at
                incidents.append(
                    IncidentIn(
                        external_id=incident.external_id,
                        started_at=incident.started_at,
                        resolved_at=resolved if resolved is not None and resolved <= now else None,
                        severity=incident.severity,
                        title=incident.title,
                        deployment_external_id=incident.deployment_external_id,
                    )
                )
        delivery_service.import_deployments(
            session=session, team=team, records=deployments, source="demo"
        )
        delivery_service.import_incidents(
            session=session, team=team, records=incidents, source="demo"
        )
        counts["deployments"] += len(deployments)
        counts["incidents"] += len(incidents)
    auth_service.create_user(
        session=session, email=ADMIN_EMAIL, password=DEMO_PASSWORD, role="admin"
    )
    auth_service.create_user(
        session=session,
        email=MANAGER_EMAIL,
        password=DEMO_PASSWORD,
        role="manager",
        teams=[team for team in teams if team.slug in ("payments", "mobile")],
    )
    return DemoSummary(
        teams=[team.slug for team in teams],
        admin_email=ADMIN_EMAIL,
        manager_email=MANAGER_EMAIL,
        password=DEMO_PASSWORD,
        **counts,
    )
