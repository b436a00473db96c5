"""What each shared pulse link leads to, remembered briefly by the process.

When a whole company answers in the same hour, every submission asks the same few hundred
questions again: which team is this link, which round is current, with which survey. Each
process remembers the answers for a few seconds, so a submission needs no query before it is
handed to the group committer. Nothing is trusted on memory alone: the committer checks again,
in the writing transaction, that the link still takes answers and that the round is still
open, so a rotated link or a closed round takes nothing even while it is remembered here.
"""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.pulses.models import Round
from app.pulses.surveys import Survey
from app.teams.models import Team

REMEMBER_FOR = timedelta(seconds=30)
# Only links that exist are remembered, but a bound keeps memory flat whatever happens.
MAX_LINKS = 10_000


@dataclass(frozen=True)
class LinkTarget:
    """A link's team, its current round and the round's survey, valid until `until`."""

    team: Team
    round: Round
    survey: Survey
    until: datetime


class PulseLinkCache:
    """Shared links of teams answering through them, and their current rounds."""

    def __init__(self, *, remember_for: timedelta = REMEMBER_FOR) -> None:
        self.remember_for = remember_for
        self._targets: dict[str, LinkTarget] = {}
        self._mutex = threading.Lock()

    def get(self, link: str, *, now: datetime) -> LinkTarget | None:
        """The remembered target, unless it has expired or its round's period has ended."""
        target = self._targets.get(link)
        if target is None or now >= target.until:
            return None
        return target

    def remember(
        self, link: str, *, team: Team, round: Round, survey: Survey, now: datetime
    ) -> None:
        """Remember a link of a team on shared-link answers, until its round's period ends."""
        until = min(now + self.remember_for, round.closes_at)
        with self._mutex:
            if len(self._targets) >= MAX_LINKS:
                self._targets.clear()
            self._targets[link] = LinkTarget(team=team, round=round, survey=survey, until=until)

    def forget(self, link: str) -> None:
        """Drop what is remembered of this link (it changed, or its round closed)."""
        with self._mutex:
            self._targets.pop(link, None)
