"""The one wait helper: the predicate's value once it holds, a timeout that says what and how long."""

from __future__ import annotations

import time

import pytest

from gauntlet.exceptions import LocalStackError, WaitTimeout
from gauntlet.waiting import until


def test_true_at_once_is_returned_without_waiting() -> None:
    started = time.monotonic()
    assert until(lambda: "ready", 5.0, 1.0, "it") == "ready"
    assert time.monotonic() - started < 0.1


def test_true_later_returns_the_first_truthy_value() -> None:
    answers = iter([None, 0, "", [], {"ready": 3}])
    assert until(lambda: next(answers), 5.0, 0.01, "it") == {"ready": 3}


def test_times_out_naming_what_and_how_long() -> None:
    calls = []
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"^moto to answer: not within 0\.2 s \(waited 0\.\d s\)$"):
        until(lambda: calls.append(1), 0.2, 0.05, "moto to answer")
    assert 0.2 <= time.monotonic() - started < 0.45
    assert 2 <= len(calls) <= 6  # every 0.05 s (fewer on a busy machine), the last one at the deadline


def test_a_callable_describe_and_error_give_the_callers_outcome() -> None:
    seen = []

    def healthy() -> bool:
        seen.append(len(seen))
        return False

    with pytest.raises(LocalStackError, match=r"^still sick after \d+ rounds$"):
        until(healthy, 0.05, 0.01, lambda: f"still sick after {len(seen)} rounds", error=LocalStackError)


def test_an_exception_of_the_predicate_ends_the_wait() -> None:
    def exited() -> bool:
        raise LocalStackError("moto exited at start")

    with pytest.raises(LocalStackError, match="exited at start"):
        until(exited, 5.0, 1.0, "moto to answer")
