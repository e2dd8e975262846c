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
