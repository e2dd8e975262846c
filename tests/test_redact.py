"""Secrets are masked in every text that reaches a report or a log."""

from __future__ import annotations

import pytest

from gauntlet.redact import MASK, redact


@pytest.mark.parametrize(("text", "secret"), [
    ("GET https://user:s3cr3tpass@proxy.example/x", "s3cr3tpass"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("header authorization=Bearer eyJhbGciOi.x.y", "eyJhbGciOi"),
    ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
    ("--set db.password=correct-horse", "correct-horse"),
    ('{"client_secret": "abc123xyz"}', "abc123xyz"),
])
def test_patterns_are_masked(text, secret):
    masked = redact(text)
    assert secret not in masked and MASK in masked


def test_values_of_secret_variables_are_masked(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "plain-value-42")
    assert redact("login with plain-value-42 failed") == f"login with {MASK} failed"


def test_ordinary_text_is_untouched():
    text = "GET https://127.0.0.1:8443/github.com/!azure/go-autorest/@v/list: expected 200, got 503"
    assert redact(text) == text


@pytest.mark.parametrize(("text", "secret"), [
    ("GET https://ghp_0123456789abcdef@github.com/x", "ghp_0123456789abcdef"),
    (r"b'GET / HTTP/1.1\r\nAuthorization: Basic b3BzOnBhc3N3b3Jk\r\n'", "b3BzOnBhc3N3b3Jk"),
    (r"body: 'x\nauthorization: Bearer abc.def'", "abc.def"),
    ("{'authorization': 'Basic b3BzOnBhc3N3b3Jk', 'host': 'x'}", "b3BzOnBhc3N3b3Jk"),
    ('{"Cookie": "session=0123456789"}', "0123456789"),
])
def test_headers_are_masked_also_in_a_body_stored_as_a_repr_or_as_json(text, secret):
    assert secret not in redact(text) and MASK in redact(text)


def test_a_registered_basic_credential_is_masked_in_every_form(monkeypatch):
    from gauntlet import redact as module

    monkeypatch.setattr(module, "_known", set())
    module.register_url("https://ops:pass%2Fword-9@proxy.example/")
    text = "echo: b3BzOnBhc3Mvd29yZC05 pass/word-9 pass%2Fword-9"
    assert redact(text) == f"echo: {MASK} {MASK} {MASK}"
    module.register("short")
    assert redact("short passed") == "short passed", "values shorter than MIN_LENGTH only by pattern"


def test_data_is_masked_under_secret_keys_and_in_every_string():
    from gauntlet.redact import redact_data

    data = {"headers": {"Authorization": "Basic zzz", "Host": "x"}, "password": "pw", "outcome": "passed",
            "seen": ["https://ops:secret-1@host/", ("token=abc123",)]}
    assert redact_data(data) == {"headers": {"Authorization": MASK, "Host": "x"}, "password": MASK, "outcome": "passed",
                                 "seen": [f"https://ops:{MASK}@host/", (f"token={MASK}",)]}


def test_files_written_by_other_programs_are_scrubbed_in_place(tmp_path):
    from gauntlet.redact import scrub_tree

    (tmp_path / "chaos").mkdir()
    (tmp_path / "chaos" / "journal.json").write_text('{"exception": ["403: Authorization: Bearer t0ken-9"]}')
    (tmp_path / "events.jsonl").write_text('{"a": "token=t0ken-9"}\n{"b": 1}\n')
    (tmp_path / "locust.log").write_text("GET https://ops:pw-123456@host/ failed\n")
    (tmp_path / "clean.txt").write_text("nothing to hide\n")
    changed = scrub_tree(tmp_path)
    assert sorted(p.name for p in changed) == ["events.jsonl", "journal.json", "locust.log"]
    assert "t0ken-9" not in (tmp_path / "chaos" / "journal.json").read_text()
    assert (tmp_path / "events.jsonl").read_text().splitlines()[1] == '{"b": 1}'
    assert (tmp_path / "locust.log").read_text() == f"GET https://ops:{MASK}@host/ failed\n"


def test_log_records_are_masked_with_their_tracebacks():
    import logging

    from gauntlet.redact import LogFilter

    try:
        raise ValueError("Authorization: Bearer abc.def.ghi")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET %s", ("https://ops:pw-123456@h/",), True)
        import sys

        record.exc_info = sys.exc_info()
    LogFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "pw-123456" not in text and "abc.def.ghi" not in text and f"Authorization: {MASK}" in text
