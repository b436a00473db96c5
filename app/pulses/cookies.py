"""The "already answered" cookie: one response per browser per round, without any identity.

The value is an HMAC of the round id alone, so every member of a round gets the same value: it
proves "this browser answered round R" and says nothing about who.
"""

import hashlib
import hmac

from fastapi import Request
from fastapi.responses import Response

from app.config import Settings
from app.pulses.models import Round

COOKIE_PREFIX = "redbutton_answered_"


def cookie_name(round: Round) -> str:
    """Scoped to the round, so answering one team's round never blocks another's."""
    return f"{COOKIE_PREFIX}{round.id}"


def cookie_value(*, secret_key: str, round: Round) -> str:
    """HMAC-SHA256 of the round id under the app's secret key."""
    message = f"redbutton:answered-round:{round.id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def has_answered(*, request: Request, settings: Settings, round: Round) -> bool:
    """Whether the browser carries a genuine cookie for this round (a forged one is ignored)."""
    presented = request.cookies.get(cookie_name(round))
    if not presented:
        return False
    expected = cookie_value(secret_key=settings.secret_key, round=round)
    return hmac.compare_digest(presented.encode(), expected.encode())


def mark_answered(*, response: Response, settings: Settings, round: Round) -> None:
    """Set the round's cookie: HttpOnly, SameSite=Lax, Secure over https, gone when it closes."""
    response.set_cookie(
        cookie_name(round),
        cookie_value(secret_key=settings.secret_key, round=round),
        expires=round.closes_at,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
    )
