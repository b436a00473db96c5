"""Access log lines without client addresses, and none at all for anonymous submissions.

Uvicorn's own access log prints the client address, so `redbutton serve` turns it off and this
middleware writes the lines instead. Link tokens in paths are redacted: a personal link in a log
would name a person.
"""

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("redbutton.access")

# Paths carrying a link token; the token is replaced by "…" in the log line.
_TOKEN_PATHS = re.compile(r"^(/p/|/b/|/api/v1/pulse/|/api/v1/ballots/)[^/]+")
# Anonymous answers are submitted here: even the time of a submission is not logged.
_SILENT = re.compile(r"^(/p/[^/]+|/b/[^/]+|/api/v1/pulse/[^/]+/responses|/api/v1/ballots/.*)$")


def redact(path: str) -> str:
    """The path with any link token replaced."""
    return _TOKEN_PATHS.sub(r"\1…", path)


def is_silent(method: str, path: str) -> bool:
    """Whether a request must leave no access-log line at all."""
    return method == "POST" and bool(_SILENT.match(path))


class AccessLogMiddleware:
    """Logs method, redacted path, status and duration; never the client address."""

    def __init__(self, app: ASGIApp, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        status = 500
        started = time.perf_counter()

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not is_silent(method, path):
                elapsed_ms = (time.perf_counter() - started) * 1000
                log.info('"%s %s" %d %.1fms', method, redact(path), status, elapsed_ms)
