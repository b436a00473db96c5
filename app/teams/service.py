"""Creating, finding and changing teams."""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from app.clock import utcnow
from app.teams import tokens
from app.teams.models import Team

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
CADENCES = ("weekly", "monthly", "quarterly")
BALLOT_MODES = ("link", "personal")
ENVIRONMENT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,63}$")
MAX_INCIDENT_LINK_WINDOW_HOURS = 24 * 7
# A rotated webhook secret keeps working this long, so senders can be updated without loss.
WEBHOOK_SECRET_GRACE = timedelta(hours=24)


class TeamError(ValueError):
    """A team cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class IssuedTeam:
    """A new team and the credentials shown only once."""

    team: Team
    ingest_token: str
    webhook_secret: str


def validate_slug(slug: str) -> str:
    """Lower-case letters, digits and dashes, 1–64 characters."""
    if not SLUG_PATTERN.match(slug):
        raise TeamError(
            f"slug {slug!r} is not valid: use 1-64 lower-case letters, digits and dashes"
        )
    return slug


def validate_timezone(name: str) -> str:
    """An IANA timezone name such as Europe/Paris."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TeamError(f"timezone {name!r} is not an IANA timezone (e.g. Europe/Paris)") from exc
    return name


def validate_size(size: int) -> int:
    """A headcount of at least one."""
    if size < 1:
        raise TeamError("size (the team's headcount) must be at least 1")
    return size


def validate_survey(survey_id: str, known_surveys: Collection[str] | None) -> str:
    """A survey id: one of the loaded surveys when they are known, else a slug-like id."""
    if known_surveys is not None:
        if survey_id not in known_surveys:
            raise TeamError(
                f"survey {survey_id!r} is not installed; it is not one of the loaded surveys: "
                f"{', '.join(sorted(known_surveys)) or 'none'}"
            )
    elif not SLUG_PATTERN.match(survey_id):
        raise TeamError(f"survey {survey_id!r} is not a survey id (e.g. release-pulse)")
    return survey_id


def validate_production_environments(names: str) -> str:
    """Comma-separated environment names that count as production, normalised."""
    cleaned: list[str] = []
    for raw in names.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if not ENVIRONMENT_PATTERN.match(name):
            raise TeamError(
                f"environment name {raw.strip()!r} is not valid: use up to 64 letters, digits, "
                "dots, dashes, underscores or slashes"
            )
        if name not in cleaned:
            cleaned.append(name)
    if not cleaned:
        raise TeamError("name at least one production environment (e.g. production)")
    joined = ",".join(cleaned)
    if len(joined) > 500:
        raise TeamError("the production environment names are too long (500 characters at most)")
    return joined


def validate_incident_link_window(hours: int) -> int:
    """Hours between a deployment and an incident for the link to be inferred: 0 to a week."""
    if not 0 <= hours <= MAX_INCIDENT_LINK_WINDOW_HOURS:
        raise TeamError(
            f"the incident link window must be between 0 and {MAX_INCIDENT_LINK_WINDOW_HOURS} hours"
        )
    return hours


def pulse_url(*, base_url: str, link: str) -> str:
    """The full shared pulse link members open."""
    return f"{base_url.rstrip('/')}/p/{link}"


def get_by_slug(*, session: Session, slug: str) -> Team | None:
    """The team with this slug, if any."""
    return session.exec(select(Team).where(Team.slug == slug)).first()


def get_by_ingest_token(*, session: Session, token: str) -> Team | None:
    """The team this ingest token belongs to, if any."""
    return session.exec(
        select(Team).where(Team.ingest_token_hash == tokens.hash_token(token))
    ).first()


def list_all(*, session: Session) -> list[Team]:
    """Every team, by name."""
    return list(session.exec(select(Team).order_by(Team.name)))


def create(
    *,
    session: Session,
    slug: str,
    name: str,
    size: int,
    survey_id: str = "release-pulse",
    timezone: str = "UTC",
    cadence: str = "weekly",
    ballots: str = "link",
    known_surveys: Collection[str] | None = None,
) -> IssuedTeam:
    """Create a team with a fresh pulse link, ingest token and webhook secret.

    `known_surveys` are the installed survey ids; when given, an unknown `survey_id` is refused.
    """
    validate_slug(slug)
    validate_size(size)
    validate_timezone(timezone)
    validate_survey(survey_id, known_surveys)
    if not name.strip():
        raise TeamError("name must not be empty")
    if cadence not in CADENCES:
        raise TeamError(f"cadence must be one of {', '.join(CADENCES)}")
    if ballots not in BALLOT_MODES:
        raise TeamError(f"ballots must be one of {', '.join(BALLOT_MODES)}")
    if get_by_slug(session=session, slug=slug) is not None:
        raise TeamError(f"a team with slug {slug!r} already exists")
    ingest_token = tokens.new_secret()
    webhook_secret = tokens.new_secret()
    team = Team(
        slug=slug,
        name=name.strip(),
        size=size,
        survey_id=survey_id,
        timezone=timezone,
        cadence=cadence,
        ballots=ballots,
        pulse_link=tokens.new_link_token(),
        ingest_token_hash=tokens.hash_token(ingest_token),
        webhook_secret=webhook_secret,
    )
    session.add(team)
    session.commit()
    session.refresh(team)
    return IssuedTeam(team=team, ingest_token=ingest_token, webhook_secret=webhook_secret)


def update(
    *,
    session: Session,
    team: Team,
    name: str | None = None,
    size: int | None = None,
    survey_id: str | None = None,
    timezone: str | None = None,
    cadence: str | None = None,
    ballots: str | None = None,
    production_environments: str | None = None,
    incident_link_window_hours: int | None = None,
    known_surveys: Collection[str] | None = None,
) -> Team:
    """Change the given settings (None keeps a value); everything is checked before any change."""
    changes: dict[str, object] = {}
    if name is not None:
        if not name.strip():
            raise TeamError("name must not be empty")
        changes["name"] = name.strip()
    if size is not None:
        changes["size"] = validate_size(size)
    if survey_id is not None:
        changes["survey_id"] = validate_survey(survey_id.strip(), known_surveys)
    if timezone is not None:
        changes["timezone"] = validate_timezone(timezone.strip())
    if cadence is not None:
        if cadence not in CADENCES:
            raise TeamError(f"cadence must be one of {', '.join(CADENCES)}")
        changes["cadence"] = cadence
    if ballots is not None:
        if ballots not in BALLOT_MODES:
            raise TeamError(f"ballots must be one of {', '.join(BALLOT_MODES)}")
        changes["ballots"] = ballots
    if production_environments is not None:
        changes["production_environments"] = validate_production_environments(
            production_environments
        )
    if incident_link_window_hours is not None:
        changes["incident_link_window_hours"] = validate_incident_link_window(
            incident_link_window_hours
        )
    for field, value in changes.items():
        setattr(team, field, value)
    session.add(team)
    session.commit()
    session.refresh(team)
    return team


def rotate_pulse_link(*, session: Session, team: Team) -> str:
    """Give the team a new shared link; the old one stops working at once."""
    team.pulse_link = tokens.new_link_token()
    session.add(team)
    session.commit()
    return team.pulse_link


def rotate_ingest_token(*, session: Session, team: Team) -> str:
    """Issue a new ingest token; the old one stops working at once."""
    token = tokens.new_secret()
    team.ingest_token_hash = tokens.hash_token(token)
    session.add(team)
    session.commit()
    return token


def rotate_webhook_secret(*, session: Session, team: Team) -> str:
    """Issue a new webhook secret; the previous one stays valid for 24 hours."""
    team.previous_webhook_secret = team.webhook_secret
    team.webhook_secret_rotated_at = utcnow()
    team.webhook_secret = tokens.new_secret()
    session.add(team)
    session.commit()
    return team.webhook_secret


def webhook_secrets(team: Team) -> list[str]:
    """The secrets a webhook signature may be made with right now."""
    secrets_ = [team.webhook_secret]
    rotated_at = team.webhook_secret_rotated_at
    if team.previous_webhook_secret and rotated_at is not None:
        if utcnow() - rotated_at < WEBHOOK_SECRET_GRACE:
            secrets_.append(team.previous_webhook_secret)
    return secrets_
