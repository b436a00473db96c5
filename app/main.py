"""The application factory: routers, static files, templates and middleware."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from app import errors
from app.access_log import AccessLogMiddleware
from app.auth import routes as auth_routes
from app.ballots import roster_page
from app.ballots import routes as ballots_routes
from app.body_limit import BodyLimitMiddleware
from app.config import PROJECT_ROOT, Settings, get_settings
from app.db import make_engine
from app.delivery import routes as delivery_routes
from app.exports import routes as export_routes
from app.group_commit import GroupCommitter
from app.health import routes as health_routes
from app.insights import pages as insights_pages
from app.insights import routes as insights_routes
from app.pulses import routes as pulses_routes
from app.pulses.link_cache import PulseLinkCache
from app.pulses.startup import load_and_check_surveys
from app.pulses.throttle import SubmissionThrottle
from app.security_headers import SecurityHeadersMiddleware
from app.server_timing import ServerTimingMiddleware
from app.teams import routes as team_routes

STATIC_DIR = PROJECT_ROOT / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for the given settings (the environment's by default)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    # A broken or wrongly edited survey file stops start-up here, with the file and field named.
    surveys = load_and_check_surveys(settings=settings, engine=engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        committer.open()
        yield
        # Requests in flight have finished: their writes are committed, and later ones refused.
        await run_in_threadpool(committer.close)
        engine.dispose()

    app = FastAPI(
        title="Redbutton",
        summary="Anonymous weekly pulse on release fear and trust, next to delivery stats.",
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    committer = app.state.committer = GroupCommitter(engine)
    app.state.surveys = surveys
    app.state.submission_throttle = SubmissionThrottle(limit=settings.submit_rate_limit)
    app.state.pulse_links = PulseLinkCache()

    errors.install(app)
    app.include_router(health_routes.router)
    app.include_router(insights_pages.router)
    app.include_router(pulses_routes.router)
    app.include_router(delivery_routes.router)
    app.include_router(insights_routes.router)
    app.include_router(ballots_routes.router)
    app.include_router(roster_page.pages)
    app.include_router(auth_routes.router)
    app.include_router(team_routes.router)
    app.include_router(team_routes.pages)
    app.include_router(export_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Outermost last: the body limit runs before anything reads the body.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AccessLogMiddleware, enabled=settings.access_log)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ServerTimingMiddleware)
    logging.getLogger("redbutton").setLevel(logging.INFO)
    return app
