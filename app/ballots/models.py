"""Roster members, per-round signing keys, ballot issuance and spent ballots.

Anonymity lives in these shapes (DESIGN.md section 4b): issuance knows the member and the round,
a spent ballot knows only the round and the hash of its token, and neither references the other.
Neither carries a time, so arrival order cannot be matched between the two tables either.
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime


class RosterMember(SQLModel, table=True):
    """A person on a team's roster: the e-mail to write to and the hash of their personal link."""

    __tablename__ = "roster_member"
    __table_args__ = (UniqueConstraint("team_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    email: str = Field(max_length=320)
    # Only the SHA-256 of the personal link is stored: a database leak reveals no working link.
    link_hash: str = Field(max_length=64, unique=True, index=True)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoundKey(SQLModel, table=True):
    """A round's RSA-2048 key pair; the private half is sealed, and wiped when the round closes."""

    __tablename__ = "round_key"

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    public_key: str = Field(description="SubjectPublicKeyInfo DER, base64")
    # AES-GCM(nonce || ciphertext) of the PKCS#8 DER key, base64; NULL once destroyed.
    private_key_encrypted: str | None = Field(default=None)


class BallotIssuance(SQLModel, table=True):
    """Member M received a ballot in round R — nothing else, not even when."""

    __tablename__ = "ballot_issuance"
    __table_args__ = {"sqlite_with_rowid": False}

    member_id: int = Field(foreign_key="roster_member.id", primary_key=True)
    round_id: int = Field(foreign_key="round.id", primary_key=True)


class SpentBallot(SQLModel, table=True):
    """A ballot that was used in round R, known only by the SHA-256 of its token."""

    __tablename__ = "spent_ballot"
    # Without a rowid, SQLite stores rows in hash order: random, not arrival order.
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    token_hash: str = Field(max_length=64, primary_key=True)
