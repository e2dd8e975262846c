"""Keeps secrets out of reports, logs and terminals.

Everything gauntlet writes or prints passes through :func:`redact` (text) or
:func:`redact_data` (JSON-like data); files other programs wrote into a run folder
(Locust's report, Chaos Toolkit's journal and log) through :func:`scrub_tree`, and the
log records of libraries through :class:`LogFilter`. Masked:

- credentials in URLs: ``https://user:***@host``, and ``https://***@host`` for a token
  given as the user name;
- the values of ``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie`` and
  ``X-Api-Key`` headers and of ``password``/``token``/``secret`` fields, also inside a body
  stored as a repr (right after a literal ``\\n``) or as JSON (``"authorization": "Basic …"``),
  and in data under a key whose name says it holds a secret;
- bearer tokens and AWS access key ids;
- known secrets, wherever and however they appear: the values of environment variables
  whose names say they hold a secret, and the values given to :func:`register` (an endpoint
  URL's password and its basic-auth form, a kubeconfig's tokens, a webhook URL). A child
  process learns its parent's through :data:`KNOWN_ENV` (:func:`child_env`).

Known values shorter than :data:`MIN_LENGTH` characters are masked only where a pattern
finds them: masking every "pass" would mangle "passed".
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import re
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

MASK = "***"
MIN_LENGTH = 6
#: Environment variable through which a child process gets the secrets its parent knows.
KNOWN_ENV = "GAUNTLET_MASK_VALUES"

_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|APIKEY|API_KEY|ACCESS_KEY|SESSION_KEY|HASHKEY|AUTHKEY)", re.I)
_SECRET_KEY = re.compile(r"^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$|" + _SECRET_NAME.pattern, re.I)
# A name starts a word, or follows a literal \n, \r or \t of a body stored as a repr.
_START = r"(?:(?<=\\[nrt])|\b)"
_VALUE_END = r"(?:(?!\\[nrt])[^\r\n,}\"'])+"
_PATTERNS = (
    (re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]+:)[^@\s/\"'<>]+(?=@)", re.I), r"\g<keep>" + MASK),
    (re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://)[^/\s:@\"'<>]+(?=@[^\s@])", re.I), r"\g<keep>" + MASK),
    (re.compile(_START + r"(?P<keep>(?:authorization|proxy-authorization|x-api-key|cookie|set-cookie)[\"']?\s*[:=]\s*[\"']?)"
                + _VALUE_END, re.I), r"\g<keep>" + MASK),
    (re.compile(_START + r"(?P<keep>bearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<keep>" + MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(_START + r"(?P<keep>(?:aws_secret_access_key|secret_?key|password|passwd|token|client_?secret)\b[\"']?\s*[:=]\s*"
                r"[\"']?)[^\s\"',}]+", re.I), r"\g<keep>" + MASK),
)

_known: set[str] = set()


def _from_parent() -> None:
    try:
        values = json.loads(os.environ.get(KNOWN_ENV) or "[]")
    except ValueError:
        return
    register(*(v for v in values if isinstance(v, str)))


def register(*values: str | None) -> None:
    """Remember secret values to mask from now on (and their URL-encoded forms); short ones are ignored."""
    for value in values:
        if value and len(value) >= MIN_LENGTH:
            _known.update({value, quote(value, safe=""), unquote(value)})


def register_basic(user: str | None, password: str | None) -> None:
    """An HTTP basic-auth credential: its password and the ``Authorization: Basic`` value made of it."""
    if not password:
        return
    register(password, unquote(password))
    for pair in {f"{user or ''}:{password}", f"{unquote(user or '')}:{unquote(password)}"}:
        register(base64.b64encode(pair.encode("utf-8", "surrogateescape")).decode("ascii"))


def register_url(url: str | None) -> None:
    """The credentials in a URL's userinfo, if any."""
    from urllib.parse import urlsplit

    if not url:
        return
    parts = urlsplit(str(url))
    if parts.password:
        register_basic(parts.username, parts.password)
    elif parts.username:
        register(parts.username)


def register_kubeconfig(data: Any) -> None:
    """The credentials of every user of a kubeconfig's data: tokens, passwords, client keys, auth-provider tokens."""
    users = data.get("users") if isinstance(data, dict) else None
    for entry in users if isinstance(users, list) else ():
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        register(*(v for k, v in user.items() if k in ("token", "password", "client-key-data") and isinstance(v, str)))
        if isinstance(user.get("password"), str):
            register_basic(user.get("username") if isinstance(user.get("username"), str) else "", user["password"])
        config = (user.get("auth-provider") or {}).get("config") if isinstance(user.get("auth-provider"), dict) else None
        if isinstance(config, dict):
            register(*(v for k, v in config.items() if "token" in k and isinstance(v, str)))


def child_env() -> dict[str, str]:
    """The variable that hands the secrets this process knows to a child process."""
    return {KNOWN_ENV: json.dumps(sorted(_known))} if _known else {}


def _values() -> tuple[str, ...]:
    from_env = {v for k, v in os.environ.items() if k != KNOWN_ENV and _SECRET_NAME.search(k) and len(v) >= MIN_LENGTH}
    return tuple(sorted(_known | from_env, key=len, reverse=True))


_compiled: dict[tuple[str, ...], re.Pattern[str] | None] = {}


def _matcher() -> re.Pattern[str] | None:
    values = _values()
    if values not in _compiled:
        _compiled.clear()
        _compiled[values] = re.compile("|".join(re.escape(v) for v in values)) if values else None
    return _compiled[values]


def redact(text: str) -> str:
    """Mask anything in ``text`` that looks like, or is, a secret."""
    matcher = _matcher()
    if matcher is not None:
        text = matcher.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(data: Any) -> Any:
    """A copy of JSON-like ``data`` with every string redacted and the value under a secret-named key masked."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {k: (MASK if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str) and v else redact_data(v))
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(redact_data(v) for v in data) if isinstance(data, list) else tuple(redact_data(v) for v in data)
    return data


def redact_fields(obj: Any) -> Any:
    """Redact, in place, every text of a tree of dataclasses (pytest's failure representations): strings in
    fields, lists and tuples. Returns ``obj``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            new = _redact_value(value)
            if new is not value:
                object.__setattr__(obj, f.name, new)
    return obj


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        value[:] = [_redact_value(v) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    return redact_fields(value)


class LogFilter(logging.Filter):
    """Masks secrets in a log record's message and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        return True


def install_log_filter(*logger_names: str) -> None:
    """Add a :class:`LogFilter` to every handler of the root logger and of ``logger_names`` (filters on
    handlers also see the records that propagate to them)."""
    for name in ("", *logger_names):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, LogFilter) for f in handler.filters):
                handler.addFilter(LogFilter())


def scrub_file(path: Path) -> bool:
    """Redact a file another program wrote, in place (JSON as data, other text line by line); True if it changed."""
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    text = raw.decode("utf-8", "surrogateescape")
    if path.suffix in (".json", ".jsonl"):
        new = "".join(_scrub_json(line) for line in (text.splitlines(keepends=True) if path.suffix == ".jsonl" else [text]))
    else:
        new = redact(text)
    if new == text:
        return False
    tmp = path.with_name(f".{path.name}.scrub")
    tmp.write_bytes(new.encode("utf-8", "surrogateescape"))
    os.replace(tmp, path)
    return True


def _scrub_json(text: str) -> str:
    """One JSON document (a file, or a line of a .jsonl file) redacted as data; unchanged when nothing is masked."""
    try:
        data = json.loads(text)
    except ValueError:
        return redact(text)
    clean = redact_data(data)
    if clean == data:
        return text
    return json.dumps(clean, indent=None if text.count("\n") <= 1 else 2) + ("\n" if text.endswith("\n") else "")


def scrub_tree(folder: Path) -> list[Path]:
    """:func:`scrub_file` every regular file under ``folder`` (symbolic links not followed); the files changed."""
    changed = []
    for path in sorted(_files(folder)):
        if scrub_file(path):
            changed.append(path)
    return changed


def _files(folder: Path) -> Iterable[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


_from_parent()
