"""Manifests of an install or upgrade (``helm template`` output, plain YAML): read, and named in messages.

Files are read in name order, folders recursively (``*.yaml``, ``*.yml``); a ``List`` is its items. A
document that is not a mapping with ``apiVersion`` and ``kind`` is reported, not skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from gauntlet.exceptions import ConfigError, NotChecked

#: Group versions Kubernetes stopped serving, and the release that removed them (the API deprecation guide).
REMOVED = {
    "apps/v1beta1": "1.16", "apps/v1beta2": "1.16",
    "networking.k8s.io/v1beta1": "1.22", "admissionregistration.k8s.io/v1beta1": "1.22",
    "apiextensions.k8s.io/v1beta1": "1.22", "apiregistration.k8s.io/v1beta1": "1.22",
    "authentication.k8s.io/v1beta1": "1.22", "authorization.k8s.io/v1beta1": "1.22",
    "certificates.k8s.io/v1beta1": "1.22", "coordination.k8s.io/v1beta1": "1.22",
    "rbac.authorization.k8s.io/v1beta1": "1.22", "scheduling.k8s.io/v1beta1": "1.22",
    "batch/v1beta1": "1.25", "discovery.k8s.io/v1beta1": "1.25", "events.k8s.io/v1beta1": "1.25",
    "autoscaling/v2beta1": "1.25", "policy/v1beta1": "1.25", "node.k8s.io/v1beta1": "1.25",
    "autoscaling/v2beta2": "1.26", "flowcontrol.apiserver.k8s.io/v1beta1": "1.26",
    "flowcontrol.apiserver.k8s.io/v1beta2": "1.29", "flowcontrol.apiserver.k8s.io/v1beta3": "1.32",
}
#: extensions/v1beta1 went kind by kind.
REMOVED_EXTENSIONS = {"Ingress": "1.22"}


@dataclass(frozen=True)
class Document:
    """One manifest document and where it comes from."""

    source: str
    index: int
    body: dict

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def ref(self) -> str:
        meta = self.body.get("metadata") or {}
        name = f"{meta['namespace']}/{meta.get('name', '?')}" if meta.get("namespace") else meta.get("name", "?")
        return f"{self.source} document {self.index + 1} ({self.kind} {name})"


def openapi_path(api_version: str) -> str:
    """``v1`` -> ``api/v1``, ``apps/v1`` -> ``apis/apps/v1``: where the OpenAPI v3 index serves a group version."""
    return f"apis/{api_version}" if "/" in api_version else f"api/{api_version}"


def removed_in(api_version: str, kind: str) -> str | None:
    """The Kubernetes release that removed this apiVersion (for this kind), if it is one the guide lists."""
    if api_version == "extensions/v1beta1":
        return REMOVED_EXTENSIONS.get(kind, "1.16")
    return REMOVED.get(api_version)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if path.is_file():
        return [path]
    raise NotChecked(f"{path}: no such file or folder (kubernetes.manifests): nothing to validate")


def read(paths: Iterable[str]) -> list[Document]:
    """Every document of these files and folders; unreadable YAML raises :class:`ConfigError` naming file and line,
    a path that does not exist :class:`NotChecked`."""
    docs: list[Document] = []
    for given in paths:
        for file in _files(Path(given)):
            try:
                loaded = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f":{mark.line + 1}" if mark else ""
                raise ConfigError(f"{file}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{file}: cannot read the manifest ({exc})") from None
            count = 0
            for body in loaded:
                if body is None:
                    continue
                items = body.get("items") if isinstance(body, dict) and str(body.get("kind", "")).endswith("List") else None
                for item in items if isinstance(items, list) else [body]:
                    docs.append(Document(str(file), count, item if isinstance(item, dict) else {"_": item}))
                    count += 1
    return docs


def crd_schemas(docs: Iterable[Document]) -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> ``openAPIV3Schema`` of every CustomResourceDefinition among the documents: their
    custom resources are served once the definition is applied, first, by the same install."""
    out = {}
    for doc in docs:
        if doc.kind != "CustomResourceDefinition" or not doc.api_version.startswith("apiextensions.k8s.io/"):
            continue
        spec = doc.body.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or ():
            if version.get("served", True):
                out[(spec.get("group", ""), version.get("name", ""), kind)] = \
                    ((version.get("schema") or {}).get("openAPIV3Schema") or {})
    return out
