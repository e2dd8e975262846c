"""Checksum database answers: names and keys as GOSUMDB takes them, notes signed by golang.org/x/mod/sumdb/note."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gauntlet.goproxy import sumdb

LOCAL_KEY = "sum.gauntlet.localhost+81b11285+AVLiH1UBOqiMiatre6GI17f/vkqQzT1Y+L/QbUTT/Aqx"
#: /latest of the local tier's database (fixtures/local/sumdb, signed there by x/mod's note package).
LATEST = ("go.sum database tree\n72\nux0sdQs2PY6pB9+YUuzXVzdFA+GXNB+Szmn3kuRPBqg=\n\n"
          "— sum.gauntlet.localhost "
          "gbEShQuGPIHE8JYkFRoSYk5JYSMFHgwjLtDE9vH7W63bJfeyf16v0DqovLSdLvRodpBwoKhT+eKp4PC1m8l6u2BcawA=\n").encode()
LOOKUP = (b"2\ngithub.com/BurntSushi/toml v1.3.2 h1:o7IhLm0Msx3BaB+n3Ag7L8EVlByGnpq14C4YWiu/gL8=\n"
          b"github.com/BurntSushi/toml v1.3.2/go.mod h1:CxXYINrC8qIiEnFrOxCa7Jy5BFHlXnUU2pbicEuybxQ=\n\n" + LATEST)


def test_a_name_or_a_verifier_key_names_a_database():
    assert sumdb.database("sum.golang.org") == sumdb.Database("sum.golang.org", sumdb.KNOWN_KEYS["sum.golang.org"])
    assert sumdb.database("sum.example.com") == sumdb.Database("sum.example.com", None)
    assert sumdb.database(LOCAL_KEY) == sumdb.Database("sum.gauntlet.localhost", LOCAL_KEY)
    for bad in ("sum.x+1234", "sum.x+12345678+AAAA", LOCAL_KEY.replace("+81b11285+", "+81b11286+"), "two words"):
        with pytest.raises(ValueError):
            sumdb.database(bad)


def test_the_local_databases_tree_head_verifies_and_tampering_does_not():
    tree = sumdb.parse_tree(sumdb.verify_note(LATEST, LOCAL_KEY))
    assert tree == sumdb.Tree(72, "ux0sdQs2PY6pB9+YUuzXVzdFA+GXNB+Szmn3kuRPBqg=")
    with pytest.raises(ValueError, match="does not verify: the note was altered"):
        sumdb.verify_note(LATEST.replace(b"\n72\n", b"\n73\n"), LOCAL_KEY)
    with pytest.raises(ValueError, match="no signature by sum.golang.org"):
        sumdb.verify_note(LATEST, sumdb.KNOWN_KEYS["sum.golang.org"])
    with pytest.raises(ValueError, match="malformed note"):
        sumdb.verify_note(b"<html>502</html>", LOCAL_KEY)


def test_a_note_signed_here_with_a_fresh_key_verifies():
    private = Ed25519PrivateKey.generate()
    public = b"\x01" + private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_hash = sumdb._key_hash("sum.test", public)
    key = f"sum.test+{key_hash:08x}+{base64.b64encode(public).decode()}"
    text = "go.sum database tree\n1\n" + base64.b64encode(bytes(32)).decode() + "\n"
    signature = base64.b64encode(key_hash.to_bytes(4, "big") + private.sign(text.encode())).decode()
    assert sumdb.verify_note(f"{text}\n— sum.test {signature}\n".encode(), key) == text


def test_a_lookup_is_its_record_and_the_signed_tree_holding_it():
    record = sumdb.parse_lookup(LOOKUP)
    assert record.id == 2 and record.tree_note == LATEST
    assert record.lines == ("github.com/BurntSushi/toml v1.3.2 h1:o7IhLm0Msx3BaB+n3Ag7L8EVlByGnpq14C4YWiu/gL8=",
                            "github.com/BurntSushi/toml v1.3.2/go.mod h1:CxXYINrC8qIiEnFrOxCa7Jy5BFHlXnUU2pbicEuybxQ=")
    for bad in (b"not found\n", b"02\nx\n\n", b"2\nlines without a blank line\n"):
        with pytest.raises(ValueError, match="malformed record"):
            sumdb.parse_lookup(bad)
