"""The Time of .info answers: accepted exactly where Go's time.Time.UnmarshalJSON accepts it (the real Go decides)."""

from __future__ import annotations

import json

import pytest

from gauntlet.goproxy.rfc3339 import problem

CASES = [
    "2023-06-08T11:20:31Z", "2023-06-08T11:20:31.123456789Z", "2023-06-08T11:20:31+02:00", "2023-06-08T11:20:31-07:30",
    "2024-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "2023-06-08T1:20:31Z", "2023-06-08T11:20:31,5Z",
    "2023-06-08T11:20:31+24:00", "2023-06-08T11:20:31+23:60",
    # what Python's fromisoformat also takes, and Go refuses
    "2023-06-08 11:20:31Z", "2023-06-08T11:20:31", "2023-06-08", "20230608T112031Z", "2023-W23-4T11:20:31Z",
    "2023-06-08t11:20:31z", "2023-06-08T11:20Z", "2023-06-08T11:20:31+0200", "2023-06-08T11:20:31.Z",
    # out of range
    "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-06-31T00:00:00Z", "2023-06-08T24:00:00Z",
    "2023-06-08T11:60:00Z", "2023-06-08T11:20:60Z", "2023-06-08T11:20:31+25:00", "2023-06-08T11:20:31+00:61",
    "12023-06-08T11:20:31Z", "２０２３-06-08T11:20:31Z", " 2023-06-08T11:20:31Z",
]


def test_time_is_accepted_exactly_where_go_accepts_it(go_decodes):
    go = go_decodes([json.dumps({"Version": "v1.0.0", "Time": t}) for t in CASES])
    ours = ['ok "v1.0.0"' if problem(t) is None else "error" for t in CASES]
    assert dict(zip(CASES, ours, strict=True)) == dict(zip(CASES, go, strict=True))


@pytest.mark.parametrize("text", ["2023-06-08 11:20:31Z", "2023-06-08T11:20:31"])
def test_the_problem_names_the_text_and_the_form_go_wants(text):
    assert problem(text) == f"{text!r} is not RFC 3339 as Go parses it (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±hh:mm)"
    assert problem("2023-02-29T00:00:00Z") == "'2023-02-29T00:00:00Z': day 29 is out of range [1, 28]"
