"""A manifest against an OpenAPI v3 schema of the Kubernetes API, strictly, as ``kubeconform -strict`` does.

The schemas are the API server's own (``components.schemas`` of ``/openapi/v3/apis/<group>/<version>``,
or a CustomResourceDefinition's ``openAPIV3Schema``). Rules: the type of every value (``oneOf`` of
IntOrString and Quantity, ``x-kubernetes-int-or-string``), ``enum``, ``required``, and no field the schema
does not know where it lists its ``properties`` (unless ``x-kubernetes-preserve-unknown-fields``): a
misspelt field is an error here, where the API server would drop it or refuse the whole upgrade. A
``null`` is accepted anywhere, as the API does for an unset optional field.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping

#: At most this many problems are reported per document: the first ones tell what is wrong.
MAX_PROBLEMS = 5
_REF = "#/components/schemas/"


def kind_schema(schemas: Mapping[str, dict], group: str, version: str, kind: str) -> dict | None:
    """The schema of ``kind`` in one group version's ``components.schemas`` (by ``x-kubernetes-group-version-kind``)."""
    for schema in schemas.values():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return schema
    return None


def _resolved(schema: Mapping, schemas: Mapping[str, dict]) -> list[Mapping]:
    """The schema and what its ``$ref`` and ``allOf`` entries stand for: every one of them applies."""
    out: list[Mapping] = []
    pending = [schema]
    while pending:
        current = pending.pop()
        ref = current.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            pending.append(schemas.get(ref[len(_REF):], {}))
        pending.extend(current.get("allOf") or ())
        out.append(current)
    return out


def _type_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, (str, dt.date, dt.datetime)):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fits(value: object, wanted: str) -> bool:
    found = _type_of(value)
    return found == wanted or (wanted == "number" and found == "integer")


def _field(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(value: object, schema: Mapping, schemas: Mapping[str, dict], path: str = "") -> list[str]:
    """What is wrong with ``value`` against ``schema`` (``path: expectation, found ...``), at most :data:`MAX_PROBLEMS`."""
    problems: list[str] = []
    _check(value, schema, schemas, path, problems)
    return problems[:MAX_PROBLEMS]


def _check(value: object, schema: Mapping, schemas: Mapping[str, dict], path: str, problems: list[str]) -> None:
    if value is None or len(problems) >= MAX_PROBLEMS:
        return
    parts = _resolved(schema, schemas)
    where = path or "(document)"
    for part in parts:
        choices = part.get("oneOf") or part.get("anyOf")
        if choices and not any(_fits(value, c.get("type", "")) for c in choices if "type" in c):
            if all("type" in c for c in choices):
                wanted = " or ".join(c["type"] for c in choices)
                problems.append(f"{where}: expected {wanted}, found {_type_of(value)} {value!r}")
                return
    if any(p.get("x-kubernetes-int-or-string") for p in parts):
        if _type_of(value) not in ("integer", "string"):
            problems.append(f"{where}: expected integer or string, found {_type_of(value)} {value!r}")
        return
    declared = next((p["type"] for p in parts if "type" in p), None)
    if declared is not None and not _fits(value, declared):
        problems.append(f"{where}: expected {declared}, found {_type_of(value)} {_short(value)}")
        return
    enum = next((p["enum"] for p in parts if "enum" in p), None)
    if enum is not None and value not in enum:
        problems.append(f"{where}: expected one of {', '.join(map(str, enum))}, found {value!r}")
    if isinstance(value, list):
        items = next((p["items"] for p in parts if "items" in p), None)
        if items is not None:
            for i, item in enumerate(value):
                _check(item, items, schemas, f"{path}[{i}]", problems)
    if isinstance(value, dict):
        _object(value, parts, schemas, path, problems)


def _object(value: dict, parts: list[Mapping], schemas: Mapping[str, dict], path: str, problems: list[str]) -> None:
    properties: dict[str, Mapping] = {}
    for part in parts:
        properties.update(part.get("properties") or {})
    extra = next((p["additionalProperties"] for p in parts if "additionalProperties" in p), None)
    open_ended = any(p.get("x-kubernetes-preserve-unknown-fields") for p in parts)
    if any(p.get("x-kubernetes-embedded-resource") for p in parts):
        properties = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                      **properties}
    for part in parts:
        for key in part.get("required") or ():
            if key not in value:
                problems.append(f"{_field(path, key)}: required field is missing")
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], schemas, _field(path, key), problems)
        elif isinstance(extra, dict):
            _check(item, extra, schemas, _field(path, key), problems)
        elif properties and not open_ended and extra is not True:
            near = difflib.get_close_matches(str(key), list(properties), n=1, cutoff=0.6)
            problems.append(f"{_field(path, str(key))}: unknown field{f' (did you mean {near[0]}?)' if near else ''}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
