"""Checksum database proxying, where the environment says the proxy serves one.

Rules: Go Modules Reference, "Checksum database", and cmd/go/internal/modfetch/sumdb.go
(``dbClient.initBase``): before any database request through a proxy the go command
asks `$GOPROXY/sumdb/<name>/supported`; 200 means it then talks to the database only
through that proxy (`/latest`, `/lookup/<module>@<version>`, `/tile/...`), 404/410
send it to the next proxy or direct, any other status stops it.
"""

from __future__ import annotations

import pytest

from gauntlet.goproxy import sumdb
from gauntlet.goproxy.protocol import UNKNOWN_SUMDB, lookup_path, sumdb_path


@pytest.mark.check("goproxy.sumdb.declared-supported")
def test_declared_checksum_databases_are_supported(goproxy, checksum_databases):
    """`/sumdb/<name>/supported` answers 200 for every database the environment says the proxy serves."""
    if not checksum_databases:
        pytest.skip("the environment declares no proxied checksum database (goproxy.sumdb)")
    for db in checksum_databases:
        answer = goproxy.get(sumdb_path(db.name, "supported"))
        assert answer.status == 200, f"{answer.describe()}: expected 200: the environment says the proxy serves checksum database {db.name}"


@pytest.mark.check("goproxy.sumdb.unknown-not-an-error")
def test_unsupported_checksum_database_is_not_an_error(goproxy, goproxy_config):
    """A database the proxy does not serve: `/sumdb/<name>/supported` is 404 or 410, never another error."""
    answer = goproxy.get(sumdb_path(UNKNOWN_SUMDB, "supported"))
    assert answer.status in (404, 410), (
        f"{answer.describe()}: expected 404 or 410 so the go command goes direct, not an error that stops it")


@pytest.mark.check("goproxy.sumdb.lookup")
def test_lookups_through_the_proxy_are_the_go_sum_lines(goproxy, checksum_databases, known_sums, module, version):
    """Through a proxy that says it serves the database, `/lookup/<module>@<version>` answers the record of
    the version: its go.sum lines, signed into a tree head by the database's key (when the key is known),
    like `/latest`."""
    if not checksum_databases:
        pytest.skip("the environment declares no proxied checksum database (goproxy.sumdb)")
    expected = ([f"{module} {version} {known_sums[(module, version)]}",
                 f"{module} {version}/go.mod {known_sums[(module, version + '/go.mod')]}"]
                if (module, version) in known_sums else None)
    for db in checksum_databases:
        if goproxy.get(sumdb_path(db.name, "supported")).status != 200:
            pytest.skip(f"{goproxy.base_url} does not say it serves {db.name} (its /supported answer is judged on its own)")
        answer = goproxy.get(lookup_path(db.name, module, version))
        assert answer.status == 200, f"{answer.describe()}: expected 200 with the record of {module}@{version} from {db.name}"
        try:
            record = sumdb.parse_lookup(answer.body)
            if db.key is not None:
                tree = sumdb.parse_tree(sumdb.verify_note(record.tree_note, db.key))
                assert record.id < tree.size, f"{answer.where()}: record {record.id} is beyond the signed tree of {tree.size}"
                latest = goproxy.get(sumdb_path(db.name, "latest"))
                assert latest.status == 200, f"{latest.describe()}: expected 200 with the signed tree head of {db.name}"
                sumdb.parse_tree(sumdb.verify_note(latest.body, db.key))
        except ValueError as exc:
            pytest.fail(f"{answer.describe(80)}: expected a record signed by {db.name}, found {exc}")
        if expected is not None:
            assert list(record.lines) == expected, f"{answer.where()}: expected the go.sum lines {expected}, found {list(record.lines)}"
