"""Module zips and go.mod files, read the way the go command reads them.

Rules from golang.org/x/mod ``zip`` (``CheckZip``): every entry starts with
``<module>@<version>/``; names are clean, valid file paths (``module.CheckFilePath``:
letters, digits, space and a few punctuation characters, no trailing dot, no
Windows device names), distinct under case folding; ``go.mod`` only at the root, spelled in lower case; at most 500 MiB
in all, go.mod and LICENSE at most 16 MiB each; declared sizes are true.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile

MAX_ZIP = 500 << 20
MAX_GO_MOD = 16 << 20
MAX_LICENSE = 16 << 20
_FILE_PUNCTUATION = set("!#$%&()+,-.=@[]^_{}~ ")
_WINDOWS_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))}
_MODULE_LINE = re.compile(r"""^\s*module\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+?))\s*(?://.*)?$""")
_RETRACT = re.compile(r"^retract(?:\s+|(?=\())(?P<rest>.*)$")
_INTERVAL = re.compile(r'^\[\s*"?(?P<low>[^",\s\]]+)"?\s*,\s*"?(?P<high>[^",\s\]]+)"?\s*\]$|^"?(?P<one>[^"\s]+)"?$')


def module_path(go_mod: bytes) -> str | None:
    """The path of the ``module`` directive of a go.mod file, or None when there is none."""
    for line in go_mod.decode("utf-8", errors="replace").splitlines():
        match = _MODULE_LINE.match(line)
        if match:
            return next(g for g in match.groups() if g is not None)
    return None


def retractions(go_mod: bytes) -> list[tuple[str, str]]:
    """The version intervals the ``retract`` directives of a go.mod file name, as (low, high); one version is (v, v)."""
    intervals: list[tuple[str, str]] = []
    in_block = False
    for raw in go_mod.decode("utf-8", errors="replace").splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
                continue
            spec = line
        else:
            match = _RETRACT.match(line)
            if match is None:
                continue
            spec = match["rest"].strip()
            if spec == "(":
                in_block = True
                continue
        interval = _INTERVAL.match(spec)
        if interval is not None:
            low = interval["low"] or interval["one"]
            intervals.append((low, interval["high"] or low))
    return intervals


def _file_name_ok(c: str) -> bool:
    """x/mod ``fileNameOK``: ASCII letters, digits, space and ``!#$%&()+,-.=@[]^_{}~``; beyond ASCII, letters."""
    if c.isascii():
        return c.isalnum() or c in _FILE_PUNCTUATION
    return c.isalpha()


def _file_path_problem(name: str) -> str | None:
    """x/mod ``module.CheckFilePath`` of a path inside the zip (``checkElem`` for file paths)."""
    for element in name.split("/"):
        if not element:
            return "empty path element"
        if element.count(".") == len(element):
            return f"invalid path element {element!r}"
        if element.endswith("."):
            return "trailing dot in path element"
        bad = next((c for c in element if not _file_name_ok(c)), None)
        if bad is not None:
            return f"invalid char {bad!r}"
        short = element.split(".", 1)[0]
        if short.upper() in _WINDOWS_NAMES:
            return f"{short!r} disallowed as path element component on Windows"
    return None


def _first_difference(zipped: bytes, served: bytes) -> str:
    a, b = zipped.split(b"\n"), served.split(b"\n")
    for n, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"line {n} is {x.decode(errors='replace')!r} in the zip, {y.decode(errors='replace')!r} in .mod"
    return f"{len(zipped)} bytes in the zip, {len(served)} bytes in .mod"


@functools.lru_cache(maxsize=64)
def zip_problems(data: bytes, module: str, version: str, mod: bytes | None = None) -> tuple[str, ...]:
    """Everything the go command would refuse in this module zip; empty when it is valid.

    With ``mod`` (the ``.mod`` response), also checks that the zip's go.mod is
    the same file, or that ``.mod`` is the synthesized ``module <path>`` when the zip has none.
    Remembered per zip: every endpoint serving the same bytes is judged on one reading.
    """
    if len(data) > MAX_ZIP:
        return (f"zip is {len(data)} bytes, above the 500 MiB limit",)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return (f"not a zip file ({exc}; first bytes {data[:32]!r})",)
    prefix = f"{module}@{version}/"
    problems: list[str] = []
    seen: dict[str, str] = {}
    total = 0
    go_mod: bytes | None = None
    with archive:
        for info in archive.infolist():
            if not info.filename.startswith(prefix):
                problems.append(f"{info.filename}: path does not have prefix {prefix!r}")
                continue
            name = info.filename[len(prefix):].removesuffix("/")
            if not name:
                continue
            if posixpath.normpath(name) != name:
                problems.append(f"{info.filename}: file path is not clean")
                continue
            problem = _file_path_problem(name)
            if problem:
                problems.append(f"{info.filename}: {problem}")
                continue
            folded = name.casefold()
            if folded in seen:
                problems.append(f"{info.filename}: case-insensitive file name collision with {seen[folded]!r}")
                continue
            seen[folded] = name
            if info.is_dir():
                continue
            base = posixpath.basename(name)
            if base.lower() == "go.mod" and base != name:
                problems.append(f"{info.filename}: go.mod file not in module root directory")
                continue
            if base.lower() == "go.mod" and name != "go.mod":
                problems.append(f"{info.filename}: go.mod files must have lowercase names")
                continue
            total += info.file_size
            limit = {"go.mod": MAX_GO_MOD, "LICENSE": MAX_LICENSE}.get(name)
            if limit is not None and info.file_size > limit:
                problems.append(f"{info.filename}: {info.file_size} bytes, above the {limit} byte limit")
                continue
            try:
                content = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                problems.append(f"{info.filename}: unreadable ({exc})")
                continue
            if len(content) != info.file_size:
                problems.append(f"{info.filename}: declares {info.file_size} bytes, holds {len(content)}")
            if name == "go.mod":
                go_mod = content
    if total > MAX_ZIP:
        problems.append(f"total uncompressed size {total} bytes is above the 500 MiB limit")
    if mod is not None and not problems:
        if go_mod is not None and go_mod != mod:
            problems.append(f"{prefix}go.mod differs from the .mod response: {_first_difference(go_mod, mod)}")
        if go_mod is None and module_path(mod) != module:
            problems.append(f"zip has no go.mod, and .mod does not declare module {module!r}")
    return tuple(problems)
