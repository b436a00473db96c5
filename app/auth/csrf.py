"""CSRF tokens for every form that changes state.

Logged-in pages use the token stored with the login session (`LoginSession.csrf_token`). The
login form has no session yet, so it uses a signed double-submit token: a random value in a
cookie, and in the form its HMAC under the secret key — another site can neither read the
cookie nor forge the HMAC.

POST routes take `CsrfLogin` (instead of `PageLogin`); templates write
`<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`.
"""

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from jinja2 import pass_context
from jinja2.runtime import Context

from app.auth.deps import PageLogin
from app.auth.models import LoginSession

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_CSRF_COOKIE = "redbutton_login_csrf"
CSRF_REFUSED = (
    "This form was not sent from a current Redbutton page (its security token is missing or "
    "out of date). Go back, reload the page and submit it again."
)


def _sign(value: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), f"login-form:{value}".encode(), hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def prepare_login_form(*, request: Request, secret_key: str) -> str:
    """This browser's double-submit value (a new one if it has none); the page gets its HMAC."""
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(nonce) < 32:
        nonce = secrets.token_urlsafe(32)
    request.state.csrf_token = _sign(nonce, secret_key)
    return nonce


def set_login_form_cookie(*, response: Response, nonce: str, secure: bool) -> None:
    """Give the browser the double-submit cookie its login form's token is the HMAC of."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE, nonce, path="/login", httponly=True, samesite="lax", secure=secure
    )


def check_login_form_token(*, request: Request, form_token: str | None, secret_key: str) -> None:
    """403 unless the login form's token is the HMAC of this browser's cookie."""
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not nonce or not form_token or not _same(form_token, _sign(nonce, secret_key)):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)


async def require_csrf(request: Request, login: PageLogin) -> LoginSession:
    """The login session, once the form (or X-CSRF-Token header) carries its CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            # Starlette caches the parsed form, so the route's Form() parameters still work.
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not _same(sent, login.csrf_token):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return login


CsrfLogin = Annotated[LoginSession, Depends(require_csrf)]


@pass_context
def csrf_token(context: Context) -> str:
    """Jinja global: the CSRF token for forms on this page ('' when there is none)."""
    request = context.get("request")
    if request is None:
        return ""
    return str(getattr(request.state, "csrf_token", ""))
