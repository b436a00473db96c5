"""Provider payloads (shaped like the providers' documented examples) and how they sign them."""

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a stored example payload."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def body(data: dict[str, Any]) -> bytes:
    """Serialised the way a provider might: compact, non-ASCII kept as UTF-8."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def hmac_hex(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def github_headers(
    secret: str, raw: bytes, *, event: str = "deployment_status", delivery: str = "d-1"
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc1234",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={hmac_hex(secret, raw)}",
    }


def pagerduty_headers(raw: bytes, *secrets: str) -> dict[str, str]:
    signatures = ",".join(f"v1={hmac_hex(secret, raw)}" for secret in secrets)
    return {"Content-Type": "application/json", "X-PagerDuty-Signature": signatures}


def gitlab_headers(token: str, *, key: str | None = None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Deployment Hook",
        "X-Gitlab-Token": token,
    }
    if key:
        headers["Idempotency-Key"] = key
    return headers


def github_status(
    *, deployment_id: int, state: str, at: str, environment: str = "production", sha: str = ""
) -> dict[str, Any]:
    """The example deployment_status event for another deployment, state and time."""
    data = payload("github_deployment_status")
    data["deployment"]["id"] = deployment_id
    data["deployment"]["environment"] = environment
    data["deployment_status"]["environment"] = environment
    data["deployment_status"]["state"] = state
    data["deployment_status"]["created_at"] = at
    data["deployment_status"]["updated_at"] = at
    if sha:
        data["deployment"]["sha"] = sha
    return data


def pagerduty_event(kind: str, *, event_id: str, incident_id: str, at: str) -> dict[str, Any]:
    """The example PagerDuty v3 event for another incident, type and time."""
    data = payload(f"pagerduty_incident_{kind}")
    data["event"]["id"] = event_id
    data["event"]["occurred_at"] = at
    data["event"]["data"]["id"] = incident_id
    return data
