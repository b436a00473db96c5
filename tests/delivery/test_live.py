"""A real HTTP run: `redbutton serve` takes signed provider webhooks and /trends shows them."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, select

from app.delivery.models import Deployment, WebhookDelivery
from tests.conftest import LiveServer
from tests.delivery import providers
from tests.factories import bearer, make_api_token, make_team, make_user


def test_signed_webhooks_reach_the_trends_api(live_server: LiveServer, session: Session) -> None:
    issued = make_team(session, slug="payments", timezone="UTC")
    token = make_api_token(session, make_user(session, teams=[issued.team]))
    secret = issued.webhook_secret
    base = live_server.url

    with httpx.Client(base_url=base, timeout=10) as http:
        raw = providers.body(providers.payload("github_deployment_status"))
        headers = providers.github_headers(secret, raw, delivery="7f1d0e10-live")
        assert (
            http.post("/api/v1/hooks/github/payments", content=raw, headers=headers).status_code
            == 200
        )
        # GitHub redelivers: acknowledged, not counted twice.
        assert (
            http.post("/api/v1/hooks/github/payments", content=raw, headers=headers).status_code
            == 200
        )
        forged = providers.github_headers("not-the-secret", raw, delivery="forged")
        assert (
            http.post("/api/v1/hooks/github/payments", content=raw, headers=forged).status_code
            == 401
        )

        for kind in ("triggered", "resolved"):
            raw = providers.body(providers.payload(f"pagerduty_incident_{kind}"))
            response = http.post(
                "/api/v1/hooks/pagerduty/payments",
                content=raw,
                headers=providers.pagerduty_headers(raw, secret),
            )
            assert response.status_code == 200, response.text

        trends = http.get(
            "/api/v1/teams/payments/trends?from=2026-03-02&to=2026-03-02", headers=bearer(token)
        )
    assert trends.status_code == 200, trends.text
    (week,) = trends.json()["weeks"]
    # Deployed 14:05, incident 15:00–16:30 the same day: the deployment is blamed (inferred).
    assert week["week"] == "2026-W10"
    assert (week["deployments"], week["failed_deployments"]) == (1, 1)
    assert week["change_failure_rate"] == 1.0
    assert (week["incidents"], week["open_incidents"]) == (1, 0)
    assert week["mttr_minutes"] == 90.0


def test_concurrent_redeliveries_are_stored_once(live_server: LiveServer, session: Session) -> None:
    issued = make_team(session, slug="search", timezone="UTC")
    session.commit()
    raw = providers.body(providers.payload("github_deployment_status"))
    # Eight copies of one delivery and eight deliveries of the same deployment, all at once.
    deliveries = ["same"] * 8 + [f"other-{n}" for n in range(8)]

    def send(delivery: str) -> int:
        headers = providers.github_headers(issued.webhook_secret, raw, delivery=delivery)
        url = f"{live_server.url}/api/v1/hooks/github/search"
        return httpx.post(url, content=raw, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(send, deliveries))
    assert statuses == [200] * 16
    session.expire_all()
    assert len(session.exec(select(Deployment)).all()) == 1
    assert len(session.exec(select(WebhookDelivery)).all()) == 9
