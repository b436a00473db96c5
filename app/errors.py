"""Error responses a person can act on: clear 4xx for bad input, 503 when the database is down."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.group_commit import ShuttingDownError

log = logging.getLogger("redbutton.errors")

DATABASE_DOWN = "The database is unavailable right now; nothing was changed. Please retry shortly."


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _describe(errors: Sequence[Any]) -> list[dict[str, object]]:
    """Keep what a person needs (where and what), drop echoed input that may be huge."""
    described = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if isinstance(part, str | int)]
        described.append({"field": ".".join(loc), "message": error.get("msg", "invalid value")})
    return described


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 with each wrong field and why."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": "The request is not valid.", "errors": _describe(exc.errors())},
        status_code=422,
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 when the database cannot be reached; the pool reconnects when it is back."""
    if (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not isinstance(exc, OperationalError)
    ):
        # Not a connectivity problem: a real bug, let it surface.
        raise exc
    log.warning(
        "database unavailable: %s", type(exc.orig).__name__ if isinstance(exc, DBAPIError) else exc
    )
    if _wants_html(request):
        from app.templating import templates

        return templates.TemplateResponse(
            request,
            "errors/unavailable.html",
            {"message": DATABASE_DOWN},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"detail": DATABASE_DOWN}, status_code=503, headers={"Retry-After": "5"})


async def shutting_down(request: Request, exc: Exception) -> Response:
    """503 for a write that arrives while the server stops: nothing was stored, try again."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors as JSON for the API and as a small page for browsers."""
    assert isinstance(exc, StarletteHTTPException)
    headers = getattr(exc, "headers", None)
    if _wants_html(request) and exc.status_code != 405:
        from app.templating import templates

        return templates.TemplateResponse(
            request,
            "errors/error.html",
            {"status_code": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def login_required(request: Request, exc: Exception) -> Response:
    """Send a browser without a login to the login page, remembering where it was going."""
    from urllib.parse import quote

    from app.auth.deps import LoginRequired

    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


# What our 422s really send (validation_error adds the field list; a route refusing a value
# sends only the detail); FastAPI would otherwise document its own default shape
# (detail: a list), and API clients generated from /openapi.json would fail to read our 422s.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "errors": {
            "type": "array",
            "title": "Errors",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "title": "Field"},
                    "message": {"type": "string", "title": "Message"},
                },
            },
        },
    },
}


def _document_validation_errors(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    from app.auth.deps import LoginRequired

    _document_validation_errors(app)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(DBAPIError, database_unavailable)
    # Every pooled connection busy for pool_timeout: the database is unavailable to us (503).
    app.add_exception_handler(PoolTimeout, database_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ShuttingDownError, shutting_down)
