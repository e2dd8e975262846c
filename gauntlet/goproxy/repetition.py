"""Answers that must be stable, asked for again and again: the same URL several times, several at a time.

One answer per URL proves little about a proxy behind a load balancer or with a
race in it: Athens answered an unknown version with 500 in one request of 200.
:func:`sample` sends ``per_path`` requests for each path (interleaved, so the
repeats of one path are spread over the run), at most ``concurrency`` at a
time, launching none after ``within_s``; it counts the distinct answers each
path gave, as ``signature`` reads them. An endpoint that answered none of them,
or that does not answer any more once some went unanswered, is down, not
unstable: that raises :class:`~gauntlet.exceptions.TargetUnreachable`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from gauntlet.answers import Fetched
from gauntlet.exceptions import TargetUnreachable


@dataclass(frozen=True)
class Tally:
    """What one URL answered over its samples: each distinct answer and how often it came."""

    url: str
    seen: Counter[str]

    @property
    def samples(self) -> int:
        return sum(self.seen.values())

    def describe(self) -> str:
        """``GET <url>: 404 ×30, 500 ×2`` (most frequent first)."""
        return f"GET {self.url}: " + ", ".join(f"{answer} ×{n}" for answer, n in self.seen.most_common())


@dataclass(frozen=True)
class Sampling:
    """The tallies of one sampling run, and how much of the planned sampling the budget allowed."""

    tallies: tuple[Tally, ...]
    planned: int
    concurrency: int
    within_s: float

    @property
    def taken(self) -> int:
        return sum(t.samples for t in self.tallies)

    def budget(self) -> str:
        """``40 samples, 8 at a time`` (and how far it got when the time budget ran out)."""
        cut = f" of {self.planned} planned: the {self.within_s:g} s budget ran out" if self.taken < self.planned else ""
        return f"{self.taken} samples{cut}, {self.concurrency} at a time"


def sample(fetch: Callable[[str], Fetched], url: Callable[[str], str], paths: Sequence[str],
           signature: Callable[[Fetched], str], *, per_path: int, pool: Executor, concurrency: int,
           within_s: float) -> Sampling:
    """``per_path`` answers of every path (``fetch`` never caches), tallied by ``signature``, sent on ``pool``
    (``concurrency`` threads); bounded by ``within_s``."""
    schedule = [path for _ in range(per_path) for path in paths]
    deadline = time.monotonic() + within_s

    unreachable: list[TargetUnreachable] = []

    def one(path: str) -> tuple[str, str]:
        if time.monotonic() > deadline:
            return path, ""
        try:
            return path, signature(fetch(path))
        except TargetUnreachable as exc:
            unreachable.append(exc)
            return path, f"no answer ({str(exc).partition(': ')[2]})"

    seen: dict[str, Counter[str]] = {path: Counter() for path in paths}
    for path, answer in pool.map(one, schedule):
        if answer:
            seen[path][answer] += 1
    if unreachable:
        if len(unreachable) == sum(sum(c.values()) for c in seen.values()):
            raise unreachable[0]
        fetch(paths[0])  # no answer now either: it went down while sampled (raises), it did not flap
    return Sampling(tuple(Tally(url(p), c) for p, c in seen.items()), len(schedule), concurrency, within_s)
