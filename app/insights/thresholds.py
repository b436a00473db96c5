"""When a round's figures may be shown: the anonymity thresholds (DESIGN.md §4, invariants 3-5).

Every page, API and export asks this module, and nothing else, whether a round's scores,
distributions or comments may leave the database.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Visibility:
    """What may be shown of one round: counts always; figures only when `eligible`."""

    open: bool
    suppressed: bool
    more_needed: int

    @property
    def eligible(self) -> bool:
        """Closed and at or above the threshold: scores, distributions and comments may show."""
        return not self.open and not self.suppressed


def is_closed(*, closes_at: datetime, closed_early_at: datetime | None, now: datetime) -> bool:
    """A round is closed once a manager closed it early or its period has ended."""
    return closed_early_at is not None or closes_at <= now


def visibility(
    *,
    responses: int,
    min_responses: int,
    closes_at: datetime,
    closed_early_at: datetime | None,
    now: datetime,
) -> Visibility:
    """Open rounds show counts only (no live results); below `min_responses` is suppressed."""
    more_needed = max(0, min_responses - responses)
    return Visibility(
        open=not is_closed(closes_at=closes_at, closed_early_at=closed_early_at, now=now),
        suppressed=more_needed > 0,
        more_needed=more_needed,
    )
