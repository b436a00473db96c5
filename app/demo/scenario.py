"""The demo's story, as plain data: teams, weeks, how they felt, what they shipped and broke.

Deterministic for a seed, so the demo looks the same on every laptop. Trust is a latent level per
team and week: it drops after a bad incident week and recovers over the following weeks, which
is the pattern the dashboard exists to show.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# (question key, how much this item sits above or below the team's general level)
ITEM_BIAS = {
    "comfortable_shipping": -0.08,
    "trusts_rollback": -0.05,
    "knows_what_to_do_when_broken": 0.04,
    "mistakes_held_against": 0.06,
}
LOW_COMMENTS = [
    "The rollback last week took forty minutes and nobody was sure who could approve it.",
    "After the outage retro I still don't know what we changed so it won't happen again.",
    "I held my change until Monday because I didn't want to be the one who broke checkout.",
    "Pager fatigue is real. Three pages in one night and then a 9am standup about 'who merged it'.",
    "We need a runbook for the payment provider failing over. Right now it lives in one head.",
    "Feels like every incident ends with a name in the channel instead of a fix in the pipeline.",
]
MID_COMMENTS = [
    "Better than last month, but feature flags would make Friday releases far less scary.",
    "The new deploy checklist helps. The staging environment still lies to us sometimes.",
    "Retro actions are getting done, slowly. Would love a dedicated slot for them.",
    "I'd push more often if the test suite didn't take 35 minutes.",
]
HIGH_COMMENTS = [
    "Rolled back in two minutes on Tuesday and nobody panicked. That's the dream.",
    "Blameless review of the cache incident was genuinely useful. Thank you.",
    "Shipping on a Friday felt boring this week, in the best way.",
    "Pairing on the on-call handover made me much more confident about the release process.",
]


@dataclass(frozen=True)
class TeamStory:
    """Who the team is and how it tends to behave."""

    slug: str
    name: str
    size: int
    timezone: str
    base_trust: float  # 0..1: where the team sits when nothing bad happens
    participation: float  # share of the team that answers in a typical week
    deploys_per_week: float
    incident_weeks: tuple[int, ...]  # weeks (0 = oldest) with a bad incident
    survey_id: str = "release-pulse"


@dataclass(frozen=True)
class DeploymentPlan:
    """One production deployment."""

    external_id: str
    finished_at: datetime
    status: str  # success | failure
    sha: str
    is_rollback: bool = False
    rolls_back: str | None = None


@dataclass(frozen=True)
class IncidentPlan:
    """One incident, possibly still open."""

    external_id: str
    started_at: datetime
    resolved_at: datetime | None
    severity: str
    title: str
    deployment_external_id: str | None


@dataclass
class WeekPlan:
    """One ISO week of one team."""

    week_start: date
    trust: float
    answers: list[dict[str, float]] = field(default_factory=list)  # latent 0..1 per item
    comments: list[str] = field(default_factory=list)
    deployments: list[DeploymentPlan] = field(default_factory=list)
    incidents: list[IncidentPlan] = field(default_factory=list)


DEMO_TEAMS = (
    TeamStory("payments", "Payments", 9, "Europe/Paris", 0.62, 0.8, 14, (7, 18)),
    TeamStory("platform", "Platform", 12, "UTC", 0.7, 0.75, 22, (11,)),
    TeamStory("mobile", "Mobile apps", 7, "America/New_York", 0.55, 0.74, 6, (4, 20)),
    TeamStory("search", "Search", 7, "Asia/Kolkata", 0.66, 0.85, 9, (14,)),
)
INCIDENT_TITLES = (
    "Checkout errors after release",
    "Elevated latency on API gateway",
    "Database failover did not complete",
    "Login failures for a share of users",
    "Push notifications delayed",
)


def monday_of(day: date) -> date:
    """The Monday of the ISO week containing the day."""
    return day - timedelta(days=day.weekday())


def _trust_path(story: TeamStory, weeks: int, rng: random.Random) -> list[float]:
    """Latent trust per week: a dip after each bad incident week, then a calm recovery."""
    levels = []
    for week in range(weeks):
        level = story.base_trust + rng.gauss(0, 0.02)
        for bad in story.incident_weeks:
            if week > bad:
                # The dip is deepest the week after the incident, half-life of two weeks.
                level -= 0.28 * math.exp(-(week - bad - 1) * math.log(2) / 2)
        levels.append(min(0.95, max(0.08, level)))
    return levels


def _local_instant(day: date, hour: float, zone: ZoneInfo) -> datetime:
    minutes = int(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


def plan_team(
    story: TeamStory, *, question_keys: list[str], weeks: int, today: date, seed: int
) -> list[WeekPlan]:
    """The team's weeks, oldest first, ending with the week containing `today`."""
    rng = random.Random(f"{seed}:{story.slug}")
    zone = ZoneInfo(story.timezone)
    first = monday_of(today) - timedelta(weeks=weeks - 1)
    trust = _trust_path(story, weeks, rng)
    plans: list[WeekPlan] = []
    deploy_counter = 0
    for index in range(weeks):
        start = first + timedelta(weeks=index)
        plan = WeekPlan(week_start=start, trust=trust[index])
        bad_week = index in story.incident_weeks
        # Who answers: fewer people answer in a bad week, and the small team dips below the
        # anonymity threshold now and then.
        answering = sum(
            rng.random() < story.participation - (0.15 if bad_week else 0.0)
            for _ in range(story.size)
        )
        for _ in range(answering):
            person = rng.gauss(0, 0.08)
            plan.answers.append(
                {
                    key: min(
                        1.0,
                        max(0.0, trust[index] + person + ITEM_BIAS.get(key, 0) + rng.gauss(0, 0.1)),
                    )
                    for key in question_keys
                }
            )
        if answering and rng.random() < 0.55:
            pool = LOW_COMMENTS if trust[index] < 0.5 else MID_COMMENTS
            if trust[index] > 0.66:
                pool = HIGH_COMMENTS
            plan.comments.extend(rng.sample(pool, k=min(len(pool), rng.randint(1, 3))))
        count = max(1, int(rng.gauss(story.deploys_per_week, story.deploys_per_week / 4)))
        failure_rate = 0.28 if bad_week else 0.05
        for _ in range(count):
            deploy_counter += 1
            day = start + timedelta(days=rng.randint(0, 4))
            finished = _local_instant(day, rng.uniform(9, 18), zone)
            failed = rng.random() < failure_rate
            plan.deployments.append(
                DeploymentPlan(
                    external_id=f"{story.slug}-deploy-{deploy_counter}",
                    finished_at=finished,
                    status="failure" if failed else "success",
                    sha=f"{rng.getrandbits(160):040x}",
                )
            )
        if bad_week:
            culprit = rng.choice(plan.deployments)
            started = culprit.finished_at + timedelta(minutes=rng.randint(10, 90))
            plan.incidents.append(
                IncidentPlan(
                    external_id=f"{story.slug}-incident-{index}",
                    started_at=started,
                    resolved_at=started + timedelta(hours=rng.uniform(3, 11)),
                    severity="SEV1",
                    title=rng.choice(INCIDENT_TITLES),
                    deployment_external_id=culprit.external_id,
                )
            )
            deploy_counter += 1
            plan.deployments.append(
                DeploymentPlan(
                    external_id=f"{story.slug}-deploy-{deploy_counter}",
                    finished_at=started + timedelta(minutes=rng.randint(15, 60)),
                    status="success",
                    sha=f"{rng.getrandbits(160):040x}",
                    is_rollback=True,
                    rolls_back=culprit.external_id,
                )
            )
        elif rng.random() < 0.3:
            started = _local_instant(start + timedelta(days=rng.randint(0, 4)), 14, zone)
            resolved: datetime | None = started + timedelta(minutes=rng.randint(12, 75))
            if index == weeks - 1 and rng.random() < 0.5:
                resolved = None  # still being worked on this week
            plan.incidents.append(
                IncidentPlan(
                    external_id=f"{story.slug}-incident-{index}",
                    started_at=started,
                    resolved_at=resolved,
                    severity="SEV3",
                    title=rng.choice(INCIDENT_TITLES),
                    deployment_external_id=None,
                )
            )
        plans.append(plan)
    return plans


def to_scale(latent: float, *, minimum: int, maximum: int, reverse: bool) -> int:
    """A latent 0..1 agreement-with-safety as an answer on the scale (reverse items flipped)."""
    value = round(minimum + latent * (maximum - minimum))
    value = min(maximum, max(minimum, value))
    return minimum + maximum - value if reverse else value
