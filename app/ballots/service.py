"""Team rosters, issuing one blind-signed ballot per member and round, and spending ballots.

Issuing records only "member M received a ballot in round R"; spending records only the hash
of the token in round R. The blind signature is what makes the two impossible to connect.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.ballots import blind_rsa, keys
from app.ballots.models import BallotIssuance, RosterMember, RoundKey, SpentBallot
from app.clock import utcnow
from app.pulses import rounds
from app.pulses.models import Round
from app.teams import tokens
from app.teams.models import Team

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A prepared token is the 32-byte random prefix plus the browser's own random bytes.
MIN_TOKEN_BYTES = blind_rsa.PREFIX_LENGTH + 16
MAX_TOKEN_BYTES = 1024


class RosterError(ValueError):
    """The roster cannot be changed as asked; the message says why."""


class BallotError(ValueError):
    """A ballot cannot be issued or accepted; the message says why."""


class RoundClosedError(BallotError):
    """The round has closed: no ballot is issued or accepted any more."""


class AlreadyIssuedError(BallotError):
    """This member already received this round's ballot."""


class InvalidBallotError(BallotError):
    """The signature does not verify under this round's key (forged, tampered or stale)."""


class SpentBallotError(BallotError):
    """This ballot was already used."""


@dataclass(frozen=True)
class AddedMember:
    """A new roster member and their personal link token, shown only once."""

    member: RosterMember
    link: str


def normalise_email(email: str) -> str:
    """A trimmed, lower-cased address that looks like one."""
    cleaned = email.strip().lower()
    if len(cleaned) > 320 or not EMAIL_PATTERN.match(cleaned):
        raise RosterError(f"{email!r} is not an e-mail address (name@example.com)")
    return cleaned


def personal_url(*, base_url: str, link: str) -> str:
    """The member's personal ballot page."""
    return f"{base_url.rstrip('/')}/b/{link}"


def add_member(*, session: Session, team: Team, email: str) -> AddedMember:
    """Put someone on the team's roster with a fresh personal link."""
    address = normalise_email(email)
    if get_member(session=session, team=team, email=address) is not None:
        raise RosterError(f"{address} is already on the roster of {team.slug}")
    assert team.id is not None
    link = tokens.new_link_token()
    member = RosterMember(team_id=team.id, email=address, link_hash=tokens.hash_token(link))
    session.add(member)
    session.flush()
    sync_headcount(session=session, team=team)
    session.commit()
    session.refresh(member)
    return AddedMember(member=member, link=link)


def get_member(*, session: Session, team: Team, email: str) -> RosterMember | None:
    """The team's roster member with this address, if any."""
    return session.exec(
        select(RosterMember).where(
            RosterMember.team_id == team.id, RosterMember.email == email.strip().lower()
        )
    ).first()


def list_members(*, session: Session, team: Team) -> list[RosterMember]:
    """The team's roster, by e-mail."""
    return list(
        session.exec(
            select(RosterMember)
            .where(RosterMember.team_id == team.id)
            .order_by(col(RosterMember.email))
        )
    )


def roster_size(*, session: Session, team: Team) -> int:
    """How many people are on the team's roster."""
    return int(
        session.exec(
            select(func.count()).select_from(RosterMember).where(RosterMember.team_id == team.id)
        ).one()
    )


def remove_member(*, session: Session, team: Team, email: str) -> None:
    """Take someone off the roster; their personal link stops working at once."""
    member = get_member(session=session, team=team, email=email)
    if member is None:
        raise RosterError(f"{email.strip().lower()} is not on the roster of {team.slug}")
    for issuance in session.exec(
        select(BallotIssuance).where(BallotIssuance.member_id == member.id)
    ):
        session.delete(issuance)
    session.delete(member)
    session.flush()
    sync_headcount(session=session, team=team)
    session.commit()


def sync_headcount(*, session: Session, team: Team) -> None:
    """In personal mode the headcount is the roster size (at least 1); the caller commits."""
    if team.ballots != "personal":
        return
    team.size = max(1, roster_size(session=session, team=team))
    session.add(team)


def get_member_by_link(*, session: Session, link: str) -> RosterMember | None:
    """The roster member whose personal link this is, if any."""
    return session.exec(
        select(RosterMember).where(RosterMember.link_hash == tokens.hash_token(link))
    ).first()


def is_open(round_: Round) -> bool:
    """A round takes ballots exactly while it takes answers."""
    return rounds.is_open(round_, utcnow())


def has_ballot(*, session: Session, member: RosterMember, round_id: int) -> bool:
    """Whether the member already received this round's ballot."""
    return session.get(BallotIssuance, (member.id, round_id)) is not None


def round_public_key(*, session: Session, round_: Round, secret_key: str) -> RoundKey:
    """The open round's key (created on first use); RoundClosedError once it has closed."""
    keys.destroy_closed(session=session)
    if not is_open(round_):
        raise RoundClosedError("this round has closed: answers are no longer taken")
    assert round_.id is not None
    return keys.get_or_create(session=session, round_id=round_.id, secret_key=secret_key)


def issue(
    *, session: Session, member: RosterMember, round_: Round, blinded_msg: bytes, secret_key: str
) -> bytes:
    """Blind-sign the member's ballot for this round, once; records that it was issued."""
    round_key = round_public_key(session=session, round_=round_, secret_key=secret_key)
    assert round_.id is not None and member.id is not None
    if _is_postgres(session):
        # Issuances of one round queue here, so the rewrite below sees every row.
        session.exec(select(Round.id).where(Round.id == round_.id).with_for_update()).one()
    if has_ballot(session=session, member=member, round_id=round_.id):
        raise AlreadyIssuedError("you already received this round's ballot")
    try:
        private_key = keys.private_key(round_key=round_key, secret_key=secret_key)
    except keys.KeyDestroyedError as exc:
        raise RoundClosedError(str(exc)) from exc
    blind_sig = blind_rsa.blind_sign(private_key, blinded_msg)
    # Recorded and committed before the signature leaves: a lost race never yields two ballots.
    try:
        with session.begin_nested():
            session.add(BallotIssuance(member_id=member.id, round_id=round_.id))
    except IntegrityError as exc:
        raise AlreadyIssuedError("you already received this round's ballot") from exc
    _rewrite_round_rows(session=session, model=BallotIssuance, round_id=round_.id)
    session.commit()
    return blind_sig


def token_hash(token: bytes) -> str:
    """SHA-256 hex of a ballot token: all that is kept of a spent ballot."""
    return hashlib.sha256(token).hexdigest()


def spend(*, session: Session, round_: Round, token: bytes, signature: bytes) -> None:
    """Check the ballot against this round's key and mark it spent; the caller commits."""
    if not is_open(round_):
        raise RoundClosedError("this round has closed: answers are no longer taken")
    if not MIN_TOKEN_BYTES <= len(token) <= MAX_TOKEN_BYTES:
        raise InvalidBallotError("this ballot is not valid for the current round")
    assert round_.id is not None
    if _is_postgres(session):
        # Spends of one round queue here (as submissions do), so the rewrite sees every row.
        session.exec(select(Round.id).where(Round.id == round_.id).with_for_update()).one()
    round_key = keys.get(session=session, round_id=round_.id)
    if round_key is None or not blind_rsa.verify(
        keys.load_public_key(round_key), message=token, signature=signature
    ):
        raise InvalidBallotError("this ballot is not valid for the current round")
    try:
        with session.begin_nested():
            session.add(SpentBallot(round_id=round_.id, token_hash=token_hash(token)))
    except IntegrityError as exc:
        raise SpentBallotError(
            "this ballot was already used: you have answered this round"
        ) from exc
    _rewrite_round_rows(session=session, model=SpentBallot, round_id=round_.id)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _rewrite_round_rows(
    *, session: Session, model: type[BallotIssuance] | type[SpentBallot], round_id: int
) -> None:
    """Rewrite the round's issuance or spent rows, shuffled, in this transaction (PostgreSQL).

    PostgreSQL stamps each row with the transaction that wrote it (xmin) and keeps rows in
    write order. Left alone, "Ada took a ballot" and "a ballot was spent" would carry
    neighbouring transaction ids whenever she answered right after taking it: anyone with SQL
    access could pair them afterwards. Rewritten, all of a round's rows of one table carry the
    latest transaction's id and sit in random order. (SQLite has no such column, and these
    WITHOUT ROWID tables keep rows in key order: member id, or token hash.)
    """
    if not _is_postgres(session):
        return
    rows = [
        row.model_dump() for row in session.exec(select(model).where(model.round_id == round_id))
    ]
    session.exec(delete(model).where(col(model.round_id) == round_id))
    for stale in list(session.identity_map.values()):
        if isinstance(stale, model):
            session.expunge(stale)
    secrets.SystemRandom().shuffle(rows)
    if rows:
        session.exec(insert(model), params=rows)


def members_without_ballot(*, session: Session, team: Team, round_id: int) -> list[RosterMember]:
    """Roster members who have not taken this round's ballot (who answered is unknowable)."""
    issued = select(BallotIssuance.member_id).where(BallotIssuance.round_id == round_id)
    return list(
        session.exec(
            select(RosterMember)
            .where(RosterMember.team_id == team.id)
            .where(col(RosterMember.id).not_in(issued))
            .order_by(col(RosterMember.email))
        )
    )
