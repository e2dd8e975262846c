"""The JSON of ``.info`` and ``@latest`` answers, decoded as the go command decodes it.

cmd/go/internal/modfetch ``proxyRepo.Stat``/``Latest``: ``json.Unmarshal`` into
``RevInfo{Version string; Time time.Time; Origin *codehost.Origin}``; an error
there is "invalid response from proxy". encoding/json matches object keys to
fields exactly or case-insensitively (the last matching key wins), ignores
unknown keys, leaves a field alone for ``null`` and refuses a value of the
wrong JSON type. The text of ``Time`` is kept as written: whether Go's time
parser takes it is :func:`gauntlet.goproxy.rfc3339.problem`'s question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_FIELDS = ("Version", "Time", "Origin")


@dataclass(frozen=True)
class RevInfo:
    """What the go command keeps of the JSON: the version, and the time as written (None if absent or null)."""

    version: str
    time: str | None


def decode(body: bytes) -> RevInfo:
    """The answer decoded as ``json.Unmarshal`` into ``modfetch.RevInfo``; ValueError saying what the go command refuses."""
    try:
        pairs = json.loads(body.decode("utf-8", errors="replace"), object_pairs_hook=_Object,
                           parse_constant=_no_constant)
    except ValueError as exc:
        raise ValueError(f"invalid JSON ({exc})") from None
    if pairs is None:
        return RevInfo("", None)
    if not isinstance(pairs, _Object):
        raise ValueError(f"cannot unmarshal {_kind(pairs)} into a RevInfo object")
    fields: dict[str, Any] = {}
    for key, value in pairs:
        field = key if key in _FIELDS else next((f for f in _FIELDS if f.casefold() == key.casefold()), None)
        if field is not None and value is not None:
            fields[field] = value
    for field, wanted in (("Version", str), ("Time", str), ("Origin", _Object)):
        if field in fields and not isinstance(fields[field], wanted):
            raise ValueError(f"cannot unmarshal {_kind(fields[field])} into the {field} field")
    return RevInfo(fields.get("Version", ""), fields.get("Time"))


class _Object(list):
    """A JSON object, as its (key, value) pairs in order."""


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "object" if isinstance(value, _Object) else "array"
    return {str: "string", bool: "bool", int: "number", float: "number"}.get(type(value), "value")
