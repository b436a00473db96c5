"""Request and response bodies of the ballot API (and the ballot field of a pulse submission)."""

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator


def decode_base64(value: str) -> bytes:
    """Standard or URL-safe base64, padded or not; ValueError on anything else."""
    cleaned = value.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64") from exc


class BallotIn(BaseModel):
    """A finalized ballot: the prepared token and the unblinded signature, both base64."""

    model_config = ConfigDict(extra="forbid", strict=True)

    token: StrictStr = Field(
        max_length=2048, description="prepared message (32-byte prefix + token)"
    )
    signature: StrictStr = Field(max_length=2048, description="RSASSA-PSS-SHA384 signature")

    @field_validator("token", "signature")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        decode_base64(value)
        return value

    def token_bytes(self) -> bytes:
        """The token, decoded."""
        return decode_base64(self.token)

    def signature_bytes(self) -> bytes:
        """The signature, decoded."""
        return decode_base64(self.signature)


class BallotStatusOut(BaseModel):
    """The current round's key for blinding, and whether this member already took a ballot."""

    round: str = Field(description="the period label, e.g. 2026-W48")
    public_key: str = Field(description="the round's RSA-2048 public key, base64 SPKI DER")
    issued: bool = Field(description="a ballot was already issued to this member this round")


class IssueIn(BaseModel):
    """The blinded message to sign."""

    model_config = ConfigDict(extra="forbid", strict=True)

    blinded_msg: StrictStr = Field(max_length=2048, description="base64, modulus-length bytes")

    @field_validator("blinded_msg")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        decode_base64(value)
        return value


class IssueOut(BaseModel):
    """The blind signature, to be finalized in the browser."""

    blind_sig: str = Field(description="base64")
