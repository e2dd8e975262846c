"""go.sum lines: ``<module> <version>[/go.mod] h1:<hash>``."""

from __future__ import annotations

from pathlib import Path

from gauntlet.exceptions import ConfigError


def read_go_sum(path: Path) -> dict[tuple[str, str], str]:
    """(module, version) -> zip hash and (module, version + "/go.mod") -> go.mod hash."""
    sums: dict[tuple[str, str], str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the known-good go.sum ({exc})") from exc
    for n, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[2].startswith("h1:"):
            raise ConfigError(f"{path}:{n}: expected '<module> <version>[/go.mod] h1:<hash>', got {line!r}")
        sums[(fields[0], fields[1])] = fields[2]
    return sums
