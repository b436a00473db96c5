"""A real SMTP server for the mail tests, and the CLI runner."""

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.config import Settings
from tests.conftest import server_environment

REDBUTTON = shutil.which("redbutton", path=str(Path(sys.executable).parent)) or "redbutton"


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to this recipient."""
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    """An aiosmtpd server on a free local port; yields its smtp:// URL and its inbox."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def run_cli(
    settings: Settings, *args: str, smtp_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `redbutton …` against the test database, as an admin would."""
    env = server_environment(settings)
    env["REDBUTTON_BASE_URL"] = "https://pulse.example.com"
    if smtp_url:
        env["REDBUTTON_SMTP_URL"] = smtp_url
        env["REDBUTTON_SMTP_FROM"] = "redbutton@example.com"
    return subprocess.run([REDBUTTON, *args], env=env, capture_output=True, text=True, timeout=60)
