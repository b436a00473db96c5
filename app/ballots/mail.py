"""Invitations and reminders for personal ballots, sent over SMTP (REDBUTTON_SMTP_URL).

The URL reads smtp://[user:password@]host[:port] (add ?starttls=true to upgrade the connection)
or smtps://… for implicit TLS.
"""

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from app.teams.models import Team


class MailError(RuntimeError):
    """Mail could not be sent; the message says why."""


def invitation(*, team: Team, email: str, url: str, sender: str) -> EmailMessage:
    """The message that hands a member their personal ballot link."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = f"Your personal link for the {team.name} pulse"
    message.set_content(
        f"Hello,\n\nyou are on the roster of {team.name}'s release pulse: a short, anonymous "
        f"survey on how safe it feels to ship.\n\nYour personal link (keep it to yourself):\n"
        f"{url}\n\nIt gives you one ballot per round. Your browser obtains the ballot with a "
        f"blind signature, so the server can check that you may answer but cannot tell which "
        f"answers are yours. What is stored is explained on the privacy page linked from the "
        f"form.\n"
    )
    return message


def reminder(*, team: Team, email: str, period: str, sender: str) -> EmailMessage:
    """The message that reminds a member this round is open."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email
    message["Subject"] = f"Reminder: the {team.name} pulse for {period} is open"
    message.set_content(
        f"Hello,\n\nthe {team.name} pulse for {period} is open and takes under a minute. Use "
        f"the personal link you received with your invitation.\n\nYou get this reminder because "
        f"your browser has not fetched this round's ballot yet; whether you answered is not "
        f"something Redbutton can know.\n"
    )
    return message


def send(*, smtp_url: str | None, messages: Sequence[EmailMessage]) -> None:
    """Deliver the messages over one SMTP connection."""
    if not messages:
        return
    if not smtp_url:
        raise MailError("REDBUTTON_SMTP_URL is not set: cannot send e-mail")
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError(
            f"REDBUTTON_SMTP_URL must look like smtp://host:port or smtps://host, got {parts.scheme}://…"
        )
    starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise MailError(f"REDBUTTON_SMTP_URL has an invalid port: {exc}") from exc
    try:
        client: smtplib.SMTP
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                parts.hostname, port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(parts.hostname, port, timeout=30)
        with client:
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            for message in messages:
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"could not send e-mail through {parts.hostname}:{port}: {exc}") from exc
