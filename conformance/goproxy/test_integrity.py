"""Integrity: what is served hashes to the known-good go.sum lines.

Rule: golang.org/x/mod/sumdb/dirhash `Hash1`, as recorded in go.sum and the checksum
database. A proxy serving altered bytes fails here even if the zip is well formed.
"""

from __future__ import annotations

import zipfile

import pytest

from gauntlet.goproxy.hashes import go_mod_hash, zip_hash


def _known(known_sums: dict, module: str, version: str) -> str:
    key = (module, version)
    if key not in known_sums:
        pytest.skip(f"no known-good go.sum line for {module} {version}")
    return known_sums[key]


@pytest.mark.check("goproxy.integrity.zip-hash")
def test_zip_hash_matches_go_sum(goproxy, known_sums, module, version):
    """The zip's `h1:` hash is the go.sum line's ("a module proxy must always serve the same content")."""
    expected = _known(known_sums, module, version)
    answer = goproxy.zip(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the module zip"
    try:
        found = zip_hash(answer.body)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        pytest.fail(f"{answer.where()}: expected a zip hashing to {expected}, found an unreadable zip ({exc})")
    assert found == expected, f"{answer.where()}: expected {expected} (go.sum), found {found}: the served zip was altered"


@pytest.mark.check("goproxy.integrity.mod-hash")
def test_go_mod_hash_matches_go_sum(goproxy, known_sums, module, version):
    """The `.mod` answer's `h1:` hash is the go.sum `/go.mod` line's: "the original, unmodified go.mod file"."""
    expected = _known(known_sums, module, version + "/go.mod")
    answer = goproxy.mod(module, version)
    assert answer.status == 200, f"{answer.describe()}: expected 200 with the go.mod file"
    found = go_mod_hash(answer.body)
    assert found == expected, f"{answer.where()}: expected {expected} (go.sum /go.mod), found {found}: the served go.mod was altered"
