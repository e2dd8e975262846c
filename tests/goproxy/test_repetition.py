"""Sampling stable answers: counts per URL, interleaved repeats, the time budget, a target that never answers."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gauntlet.answers import Fetched
from gauntlet.exceptions import TargetUnreachable
from gauntlet.goproxy.repetition import sample


def answer(path: str, status: int) -> Fetched:
    return Fetched("GET", f"https://proxy.test/{path}", status, httpx.Headers(), b"", 1.0)


@pytest.fixture
def pool():
    with ThreadPoolExecutor(4) as executor:
        yield executor


def test_each_path_is_asked_per_path_times_and_its_answers_counted(pool):
    calls = itertools.count()
    lock = threading.Lock()

    def fetch(path: str) -> Fetched:
        with lock:
            n = next(calls)
        return answer(path, 500 if path == "b" and n % 3 == 0 else 404)

    sampling = sample(fetch, lambda p: f"https://proxy.test/{p}", ["a", "b"], lambda a: str(a.status), per_path=6,
                      pool=pool, concurrency=4, within_s=10)
    tallies = {t.url: t for t in sampling.tallies}
    assert sampling.taken == sampling.planned == 12 and sampling.budget() == "12 samples, 4 at a time"
    assert tallies["https://proxy.test/a"].seen == {"404": 6}
    assert set(tallies["https://proxy.test/b"].seen) == {"404", "500"}
    assert tallies["https://proxy.test/b"].describe().startswith("GET https://proxy.test/b: 404 ×")


def test_no_sample_starts_after_the_budget(pool):
    def slow(path: str) -> Fetched:
        time.sleep(0.2)
        return answer(path, 404)

    sampling = sample(slow, str, ["a"], lambda a: str(a.status), per_path=40, pool=pool, concurrency=4, within_s=0.3)
    assert 4 <= sampling.taken < 40
    assert sampling.budget() == f"{sampling.taken} samples of 40 planned: the 0.3 s budget ran out, 4 at a time"


def test_some_answers_missing_is_flapping_none_at_all_or_none_any_more_is_unreachable(pool):
    flaky = iter([True, False, True, False, False])  # the last: answered when asked again after sampling

    def sometimes(path: str) -> Fetched:
        if next(flaky):
            raise TargetUnreachable(f"GET {path}: ConnectError: refused")
        return answer(path, 404)

    seen = sample(sometimes, str, ["a"], lambda a: str(a.status), per_path=4, pool=pool, concurrency=1, within_s=10)
    assert seen.tallies[0].seen == {"404": 2, "no answer (ConnectError: refused)": 2}

    def never(path: str) -> Fetched:
        raise TargetUnreachable(f"GET {path}: ConnectError: refused")

    with pytest.raises(TargetUnreachable, match="GET a: ConnectError"):
        sample(never, str, ["a"], lambda a: str(a.status), per_path=3, pool=pool, concurrency=2, within_s=10)

    died = iter([False, False, True, True, True])

    def dying(path: str) -> Fetched:
        if next(died):
            raise TargetUnreachable(f"GET {path}: ConnectError: refused")
        return answer(path, 404)

    with pytest.raises(TargetUnreachable, match="GET a: ConnectError"):
        sample(dying, str, ["a"], lambda a: str(a.status), per_path=4, pool=pool, concurrency=1, within_s=10)
