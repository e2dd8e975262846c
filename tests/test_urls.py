"""One loopback test and one origin comparison for every URL gauntlet decides about."""

from __future__ import annotations

import pytest

from gauntlet.urls import is_loopback, is_loopback_host, origin, same_origin


@pytest.mark.parametrize(("url", "loopback"), [
    ("https://127.0.0.1:8443", True), ("http://127.8.9.10/", True), ("http://[::1]:3000/x", True),
    ("http://localhost:3000", True), ("http://LOCALHOST", True), ("https://athens.example.com", False),
    ("http://10.0.0.1", False), ("http://[::2]/", False), ("https://localhost.example.com", False),
    ("", False), (None, False), ("not a url", False),
])
def test_is_loopback(url, loopback):
    assert is_loopback(url) is loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("Localhost", True), ("127.0.0.2", True),
    ("db.internal", False), ("10.1.2.3", False), ("", False), (None, False),
])
def test_is_loopback_host(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(("a", "b"), [
    ("http://x", "http://x:80"), ("https://x", "https://x:443/"), ("https://X.example:6443", "HTTPS://x.example:6443/api"),
    ("https://user:secret@x/", "https://x"), ("http://[::1]:80/", "http://[::1]"),
])
def test_same_origin(a, b):
    assert same_origin(a, b) and same_origin(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("http://x", "https://x"), ("http://x:443", "https://x"), ("https://x", "https://x:8443"), ("https://x", "https://y"),
    ("https://x", None), (None, None), ("", ""),
])
def test_different_origins(a, b):
    assert not same_origin(a, b)


def test_origin_spells_the_default_port():
    assert origin("http://Example.com/a?b") == ("http", "example.com", 80)
    assert origin("https://example.com") == ("https", "example.com", 443)
    assert origin("ftp://example.com") == ("ftp", "example.com", None)
