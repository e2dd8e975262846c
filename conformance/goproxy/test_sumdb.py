"""Checksum database proxying, where the environment says the proxy supports it.

Rule: Go Modules Reference, "Checksum database": `GET $GOPROXY/sumdb/<name>/supported`
200 means the go command talks to the database only through the proxy; 404/410 send
it direct; any other status stops the download.
"""

from __future__ import annotations

import pytest


@pytest.mark.check("goproxy.sumdb.declared-supported")
def test_declared_checksum_databases_are_supported(goproxy, environment):
    """Each checksum database the environment says the proxy serves answers `/sumdb/<name>/supported` with 200."""
    names = environment.goproxy.sumdb if environment.goproxy else ()
    if not names:
        pytest.skip(f"environment {environment.name} declares no proxied checksum database")
    for name in names:
        answer = goproxy.get(f"sumdb/{name}/supported")
        assert answer.status == 200, f"{answer.describe()}: expected 200: the environment says the proxy serves checksum database {name}"


@pytest.mark.check("goproxy.sumdb.unknown-not-an-error")
def test_unsupported_checksum_database_is_not_an_error(goproxy, environment):
    """An unknown checksum database is 404 or 410 at `/sumdb/<name>/supported`, so the go command goes direct instead of stopping."""
    if environment.goproxy is None:
        pytest.skip(f"environment {environment.name} serves no Go module proxy")
    answer = goproxy.get("sumdb/sum.gauntlet.invalid/supported")
    assert answer.status in (404, 410), f"{answer.describe()}: expected 404 or 410 so the go command goes direct, not an error that stops it"
