"""One way to wait: poll a predicate until it holds or the time is up (e2e-framework's ``wait.For(condition,
WithTimeout, WithInterval)``; Kubernetes' ``wait.PollUntilContextTimeout``).

A wait that may end without its condition (a grace period before SIGKILL, a best-effort settle) catches
:class:`~gauntlet.exceptions.WaitTimeout`; a wait whose timeout is the caller's error passes ``error``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from gauntlet.exceptions import WaitTimeout

T = TypeVar("T")


def until(predicate: Callable[[], T | None], within_s: float, every_s: float, describe: str | Callable[[], str], *,
          error: Callable[[str], Exception] = WaitTimeout) -> T:
    """Call ``predicate`` every ``every_s`` until it returns a truthy value, and return that value; raise
    ``error(message)`` once it has returned falsy values for ``within_s``. An exception of ``predicate`` ends
    the wait at once.

    ``describe`` is what is awaited (``"moto to answer"``): the message is then ``"moto to answer: not within
    10 s (waited 10.0 s)"``; or a callable giving the whole message in the caller's words, called once at the
    timeout so it can tell what the last round saw."""
    started = time.monotonic()
    deadline = started + within_s
    while True:
        value = predicate()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            message = describe() if callable(describe) else f"{describe}: not within {within_s:g} s (waited {now - started:.1f} s)"
            raise error(message)
        time.sleep(min(every_s, deadline - now))
