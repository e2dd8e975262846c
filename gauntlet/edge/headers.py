"""Caching headers as a shared cache reads them: Cache-Control, Age, Expires, Vary (RFC 9111).

Pure functions over a header mapping (``httpx.Headers`` or a dict); nothing here sends a
request. ``freshness()`` answers "how long may an edge keep this answer, by its own headers";
where the headers say nothing, the provider's documented default applies
(:mod:`gauntlet.edge.providers`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_DELTA = re.compile(r"^\d+$")
_VERSION = re.compile(r"\d+\.\d+")
_STACK_TRACES = (
    "Traceback (most recent call last)",  # Python
    "goroutine ",                          # Go panic
    "panic: ",
    "Exception in thread",                 # Java
    "\tat java.",
    "at System.",                          # .NET
    "Stack trace:",                        # PHP
    "<b>Fatal error</b>",
)


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    """All values of a header (repeated fields too), in order."""
    get_list = getattr(headers, "get_list", None)
    if get_list is not None:
        return list(get_list(name))
    lowered = name.lower()
    return [v for k, v in headers.items() if k.lower() == lowered]


def _split(value: str) -> list[str]:
    """Split a comma-separated field value, keeping commas inside quoted strings."""
    parts, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            quoted = not quoted
            current.append(char)
        elif char == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


@dataclass(frozen=True)
class CacheControl:
    """The directives of the Cache-Control field(s): lower-case name -> argument (None without one)."""

    directives: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, value: str | None) -> CacheControl:
        """RFC 9111 section 5.2: case-insensitive names, token or quoted-string arguments; the first of a repeated directive wins."""
        seen: dict[str, str | None] = {}
        for part in _split(value or ""):
            name, sep, argument = part.partition("=")
            name = name.strip().lower()
            if not name or name in seen:
                continue
            argument = argument.strip()
            if argument.startswith('"') and argument.endswith('"') and len(argument) >= 2:
                argument = argument[1:-1]
            seen[name] = argument if sep else None
        return cls(tuple(seen.items()))

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> CacheControl:
        return cls.parse(", ".join(_values(headers, "cache-control")))

    def __contains__(self, name: str) -> bool:
        return any(n == name.lower() for n, _ in self.directives)

    def argument(self, name: str) -> str | None:
        return next((a for n, a in self.directives if n == name.lower()), None)

    def seconds(self, name: str) -> int | None:
        """A delta-seconds directive (max-age, s-maxage); an invalid argument counts as 0 (stale, RFC 9111 4.2.1)."""
        if name not in self:
            return None
        argument = self.argument(name)
        return int(argument) if argument is not None and _DELTA.match(argument) else 0

    @property
    def empty(self) -> bool:
        return not self.directives

    @property
    def max_age(self) -> int | None:
        return self.seconds("max-age")

    @property
    def s_maxage(self) -> int | None:
        return self.seconds("s-maxage")

    @property
    def no_store(self) -> bool:
        return "no-store" in self

    @property
    def no_cache(self) -> bool:
        """Unqualified ``no-cache``: every reuse must be revalidated (a field-list only names fields)."""
        return "no-cache" in self and not self.argument("no-cache")

    @property
    def private(self) -> bool:
        """Unqualified ``private``: a shared cache must not store it."""
        return "private" in self and not self.argument("private")

    @property
    def public(self) -> bool:
        return "public" in self

    @property
    def immutable(self) -> bool:
        return "immutable" in self

    @property
    def must_revalidate(self) -> bool:
        return "must-revalidate" in self or "proxy-revalidate" in self

    def __str__(self) -> str:
        return ", ".join(n if a is None else f"{n}={a}" for n, a in self.directives) or "(none)"


def http_date(value: str | None) -> dt.datetime | None:
    """An HTTP-date as an aware datetime; None when absent or invalid."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def age(headers: Mapping[str, str]) -> int | None:
    """The Age field in seconds (RFC 9111 5.1): the first valid value; None when absent or invalid."""
    for value in _values(headers, "age"):
        for part in value.split(","):
            part = part.strip()
            if _DELTA.match(part):
                return int(part)
    return None


@dataclass(frozen=True)
class Freshness:
    """How long a shared cache (the edge) may keep an answer, by the answer's own headers."""

    cache_control: CacheControl
    lifetime_s: int | None
    source: str
    storable: bool

    @property
    def explicit(self) -> bool:
        return self.lifetime_s is not None

    @property
    def revalidate_each_time(self) -> bool:
        """A stored copy may not be reused without asking the origin: no-cache, or a lifetime of 0."""
        return self.cache_control.no_cache or self.lifetime_s == 0

    def describe(self) -> str:
        cc = f"Cache-Control: {self.cache_control}"
        if not self.storable:
            return f"{cc} (a shared cache must not store it)"
        if self.lifetime_s is None:
            return f"{cc} (no explicit lifetime)"
        return f"{cc} (lifetime {self.lifetime_s} s from {self.source})"


def freshness(headers: Mapping[str, str]) -> Freshness:
    """RFC 9111 4.2.1 for a shared cache: s-maxage, then max-age, then Expires minus Date."""
    cc = CacheControl.of(headers)
    storable = not (cc.no_store or cc.private)
    if cc.s_maxage is not None:
        return Freshness(cc, cc.s_maxage, "s-maxage", storable)
    if cc.max_age is not None:
        return Freshness(cc, cc.max_age, "max-age", storable)
    expires_values = _values(headers, "expires")
    if expires_values:
        expires = http_date(expires_values[0])
        date = http_date(next(iter(_values(headers, "date")), None)) or dt.datetime.now(dt.UTC)
        lifetime = max(0, int((expires - date).total_seconds())) if expires else 0  # an invalid Expires means "already expired"
        return Freshness(cc, lifetime, "Expires", storable)
    return Freshness(cc, None, "none", storable)


def vary(headers: Mapping[str, str]) -> frozenset[str]:
    """The field names of Vary, lower-case (``*`` kept)."""
    return frozenset(p.lower() for value in _values(headers, "vary") for p in _split(value))


def content_coding(headers: Mapping[str, str]) -> str | None:
    """The Content-Encoding applied, lower-case; None for none or identity."""
    codings = [p.lower() for value in _values(headers, "content-encoding") for p in _split(value)]
    codings = [c for c in codings if c != "identity"]
    return ", ".join(codings) or None


def version_banners(headers: Mapping[str, str], forbidden: Iterable[str]) -> list[str]:
    """Headers that give the software away: any of ``forbidden`` present, and a ``Server`` naming a version."""
    found = []
    for name in forbidden:
        for value in _values(headers, name):
            found.append(f"{name}: {value}")
    if "server" not in {n.lower() for n in forbidden}:
        for value in _values(headers, "server"):
            if _VERSION.search(value):
                found.append(f"Server: {value}")
    return found


#: A product token with its version (``nginx/1.22.1``, ``Varnish/6.0``), as in Server, User-Agent and Via comments.
_PRODUCT_VERSION = re.compile(r"[A-Za-z][\w.-]*/\d")


def via_software(headers: Mapping[str, str]) -> list[str]:
    """The ``Via`` entries that name a software version, in their received-by or comment (RFC 9110 7.6.3); the
    received protocol (``1.1``, ``HTTP/2``) leading each entry does not count."""
    found = []
    for value in _values(headers, "via"):
        for entry in value.split(","):
            _, _, rest = entry.strip().partition(" ")
            if _PRODUCT_VERSION.search(rest):
                found.append(entry.strip())
    return found


def stack_trace(text: str) -> str | None:
    """The stack-trace marker found in a body, if any: a raw error reached the client."""
    return next((marker.strip() for marker in _STACK_TRACES if marker in text), None)
