"""Checksum database answers (Go Modules Reference, "Checksum database"), read as the go command reads them.

A database is named as ``GOSUMDB`` names it: ``sum.golang.org`` (whose key the
go command knows, cmd/go/internal/modfetch ``knownGOSUMDB``) or a verifier key
``<name>+<hash>+<key>``. ``/latest`` is a signed note (golang.org/x/mod/sumdb/note)
holding a tree head (``tlog.FormatTree``); ``/lookup/<module>@<version>`` is the
record number, the record (the version's go.sum lines), a blank line and the
signed tree head that holds it (``tlog.ParseRecord``). The inclusion and
consistency proofs over tiles are left to the real go client
(conformance/goproxy/test_go_client.py), which performs them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: cmd/go/internal/modfetch/key.go
KNOWN_KEYS = {"sum.golang.org": "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"}
_KEY = re.compile(r"^(?P<name>[^+\s]+)\+(?P<hash>[0-9a-f]{8})\+(?P<key>[A-Za-z0-9+/]+=*)$")
_SIG_PREFIX = "— "
_TREE = re.compile(r"^go\.sum database tree\n(?P<size>0|[1-9][0-9]*)\n(?P<hash>[A-Za-z0-9+/]{43}=)\n")
_ED25519 = 1


@dataclass(frozen=True)
class Database:
    """A checksum database as ``GOSUMDB`` names it: its name, and its verifier key when known."""

    name: str
    key: str | None



def database(entry: str) -> Database:
    """``sum.golang.org`` or ``<name>+<hash>+<key>``; ValueError for anything else."""
    match = _KEY.match(entry)
    if match is None:
        if "+" in entry or not entry or any(c.isspace() for c in entry):
            raise ValueError(f"{entry!r}: expected a database name or a verifier key <name>+<hash>+<key>")
        return Database(entry, KNOWN_KEYS.get(entry))
    _public_key(entry)
    return Database(match["name"], entry)


def _key_hash(name: str, key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + key).digest()[:4], "big")


def _public_key(verifier_key: str) -> tuple[str, int, Ed25519PublicKey]:
    match = _KEY.match(verifier_key)
    if match is None:
        raise ValueError(f"{verifier_key!r}: not a verifier key <name>+<hash>+<key>")
    key = base64.b64decode(match["key"])
    if len(key) != 33 or key[0] != _ED25519 or _key_hash(match["name"], key) != int(match["hash"], 16):
        raise ValueError(f"{verifier_key!r}: not an Ed25519 verifier key whose hash matches its name and key")
    return match["name"], int(match["hash"], 16), Ed25519PublicKey.from_public_bytes(key[1:])


def verify_note(message: bytes, verifier_key: str) -> str:
    """The text of a signed note, if ``verifier_key`` signed it (note.Open); ValueError naming what is wrong."""
    try:
        decoded = message.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("malformed note: not UTF-8") from None
    if any(c < " " and c != "\n" for c in decoded):
        raise ValueError("malformed note: control characters")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise ValueError("malformed note: no signature block after a blank line")
    text, signatures = decoded[:split + 1], decoded[split + 2:].splitlines()
    name, key_hash, public = _public_key(verifier_key)
    for line in signatures:
        if not line.startswith(_SIG_PREFIX):
            raise ValueError(f"malformed note: signature line {line[:40]!r}")
        signer, _, encoded = line[len(_SIG_PREFIX):].partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError(f"malformed note: signature of {signer} is not base64") from None
        if signer != name or len(signature) < 5 or int.from_bytes(signature[:4], "big") != key_hash:
            continue
        try:
            public.verify(signature[4:], text.encode())
        except InvalidSignature:
            raise ValueError(f"the signature of {name} does not verify: the note was altered") from None
        return text
    raise ValueError(f"no signature by {name} (key hash {key_hash:08x}) among {len(signatures)} signature(s)")


@dataclass(frozen=True)
class Tree:
    """A signed tree head: the log's size and the hash of its root."""

    size: int
    hash: str


def parse_tree(text: str) -> Tree:
    """The tree head of a note's text (``tlog.ParseTree``); ValueError when malformed."""
    match = _TREE.match(text)
    if match is None:
        raise ValueError(f"not a tree head: {text[:60]!r}")
    return Tree(int(match["size"]), match["hash"])


@dataclass(frozen=True)
class Record:
    """A ``/lookup`` answer: the record number, its go.sum lines, the signed tree head that holds it."""

    id: int
    lines: tuple[str, ...]
    tree_note: bytes


def parse_lookup(body: bytes) -> Record:
    """``<id>\\n<go.sum lines>\\n<signed tree note>`` (``tlog.ParseRecord``); ValueError when malformed."""
    head, _, rest = body.partition(b"\n")
    text, separator, note = rest.partition(b"\n\n")
    if not head.isdigit() or not separator or (head.startswith(b"0") and head != b"0"):
        raise ValueError(f"malformed record: {body[:60]!r}")
    lines = tuple(text.decode("utf-8", errors="replace").splitlines())
    return Record(int(head), lines, note)
