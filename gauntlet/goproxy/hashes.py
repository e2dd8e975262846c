"""The ``h1:`` hashes recorded in go.sum (golang.org/x/mod/sumdb/dirhash ``Hash1``).

summary = one line per file, sorted by name: hex SHA-256 of the content, two
spaces, the file name (``module@version/`` prefix included), newline;
h1 = "h1:" + base64(SHA-256(summary)). The go.mod hash is the same over one
file literally named ``go.mod`` holding the ``.mod`` bytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import zipfile
from collections.abc import Iterable


def hash1(files: Iterable[tuple[str, bytes]]) -> str:
    """dirhash ``Hash1`` over (name, content) pairs."""
    lines = []
    for name, content in sorted(files, key=lambda f: f[0]):
        if "\n" in name:
            raise ValueError(f"file name with a newline cannot be hashed: {name!r}")
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


@functools.lru_cache(maxsize=64)
def zip_hash(data: bytes) -> str:
    """The go.sum hash of a module zip (``HashZip``: every entry): compression and timestamps do not count.
    Remembered per zip: every endpoint serving the same bytes is hashed once."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return hash1((info.filename, archive.read(info)) for info in archive.infolist())


def go_mod_hash(data: bytes) -> str:
    """The ``/go.mod`` go.sum hash of a ``.mod`` file."""
    return hash1([("go.mod", data)])
