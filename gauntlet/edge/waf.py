"""A bounded burst against a rate-limited edge, and the wait for normal traffic to come back.

Both only send GETs, stop at the first sign they are looking for, and never exceed their
request count or their time: the caller passes both, from the environment's ``cdn.waf``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gauntlet.answers import Fetched
from gauntlet.exceptions import TargetUnreachable

if TYPE_CHECKING:  # chaoslib for the annotations only: the edge checks need not import it
    from chaoslib.types import Configuration, Secrets

Get = Callable[[], Fetched]


def burst(get: Get, *, max_requests: int, within_s: float, blocked_status: Sequence[int] = (429, 403),
          configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Send up to ``max_requests`` GETs, back to back, for at most ``within_s``; stop at the first blocked answer.

    A target that never answers raises :class:`TargetUnreachable` (from the first request).
    """
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    sent, blocked_after, blocked = 0, None, None
    while sent < max_requests and time.monotonic() - started < within_s:
        sent += 1
        try:
            answer = get()
        except TargetUnreachable as exc:
            if sent == 1:
                raise
            errors.append(str(exc))
            continue
        statuses[answer.status] += 1
        if answer.status in blocked_status:
            blocked_after, blocked = sent, answer.describe()
            break
    return {"sent": sent, "blocked_after": blocked_after, "blocked_answer": blocked,
            "seconds": round(time.monotonic() - started, 2), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors": len(errors), "first_error": errors[0] if errors else None}


def recovery(get: Get, *, within_s: float, interval_s: float = 5.0, blocked_status: Sequence[int] = (429, 403),
             configuration: Configuration | None = None, secrets: Secrets | None = None) -> dict:
    """Poll every ``interval_s`` until an answer is not blocked, for at most ``within_s``."""
    started = time.monotonic()
    polls, last = 0, None
    while True:
        polls += 1
        try:
            answer = get()
            last = answer.describe()
            if answer.status not in blocked_status:
                return {"recovered_after_s": round(time.monotonic() - started, 1), "polls": polls, "last": last}
        except TargetUnreachable as exc:
            last = str(exc)
        if time.monotonic() - started + interval_s > within_s:
            return {"recovered_after_s": None, "polls": polls, "last": last}
        time.sleep(interval_s)
