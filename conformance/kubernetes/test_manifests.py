"""The manifests of the next install or upgrade, validated offline against the cluster's own API.

Seed 004: "The installation and upgrades are done using the official Helm chart provided by the project."
An upgrade whose manifests name an apiVersion the cluster no longer serves (``policy/v1beta1`` since
Kubernetes 1.25) fails half-way; a field the schema does not know (a misspelt ``resource:``) is dropped or
refused. The manifests are the environment's ``kubernetes.manifests`` (``helm template`` output); the API
server's OpenAPI v3 is read once, and nothing is sent to it (kubeconform's checks, against the real API).

PYTEST_DONT_REWRITE: each assertion's message is the evidence, verbatim.
"""

from __future__ import annotations

import pytest

from gauntlet.kubernetes import manifests
from gauntlet.kubernetes.client import server_version
from gauntlet.kubernetes.manifests import Document, openapi_path, removed_in
from gauntlet.kubernetes.openapi.probes import group_versions, schemas_of
from gauntlet.kubernetes.schema import kind_schema, validate

#: Problems listed in one message; the rest are counted.
SHOWN = 8


def _gvk(doc: Document) -> tuple[str, str, str]:
    group, _, version = doc.api_version.rpartition("/")
    return group, version, doc.kind


def _cluster_schema(doc: Document, kube: dict) -> tuple[dict, dict] | None:
    """(the kind's schema, the group version's schemas) as the cluster serves them, None when it does not."""
    schemas = schemas_of(openapi_path(doc.api_version), kube)
    found = kind_schema(schemas, *_gvk(doc))
    return (found, schemas) if found is not None else None


def _served_as(doc: Document, kube: dict) -> list[str]:
    """The apiVersions of the same group under which the cluster serves this kind."""
    group = _gvk(doc)[0]
    prefix = f"apis/{group}/" if group else "api/"
    out = []
    for path in group_versions(kube):
        if path.startswith(prefix) and kind_schema(schemas_of(path, kube), group, path.rsplit("/", 1)[1], doc.kind):
            out.append(path.split("/", 1)[1])
    return out


def _listed(problems: list[str]) -> str:
    return "; ".join(problems[:SHOWN]) + (f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else "")


@pytest.mark.check("kubernetes.manifests.served-versions")
def test_every_api_version_is_served_by_the_cluster(manifest_documents: list[Document], kube: dict) -> None:
    """Every document's apiVersion and kind is one the cluster serves (its OpenAPI v3 index), or a custom resource
    the same manifests define: an upgrade with a removed version fails half-way (kubeconform, kube-score's
    stable-version)."""
    crds = manifests.crd_schemas(manifest_documents)
    release = server_version(kube).get("gitVersion", "?")
    problems = []
    for doc in manifest_documents:
        if not doc.api_version or not doc.kind:
            problems.append(f"{doc.ref}: expected apiVersion and kind, found {doc.api_version or 'no apiVersion'} and "
                            f"{doc.kind or 'no kind'}")
        elif _gvk(doc) not in crds and _cluster_schema(doc, kube) is None:
            removed, served = removed_in(doc.api_version, doc.kind), _served_as(doc, kube)
            problems.append(f"{doc.ref}: apiVersion {doc.api_version} kind {doc.kind}: expected a version the cluster "
                            f"({release}) serves, found "
                            + (f"one removed in Kubernetes {removed}" if removed else "none that serves it")
                            + (f"; it serves {doc.kind} as {', '.join(served)}" if served else ""))
    assert not problems, (f"{len(problems)} of {len(manifest_documents)} documents of kubernetes.manifests cannot be "
                          f"applied: {_listed(problems)}")


@pytest.mark.check("kubernetes.manifests.schema-valid")
def test_every_document_validates_against_the_clusters_schema(manifest_documents: list[Document], kube: dict,
                                                              record_property) -> None:
    """Every document validates, strictly, against its kind's schema in the cluster's OpenAPI (or its
    CustomResourceDefinition among the manifests): types, required fields, no unknown field (kubeconform -strict).
    Documents of a version the cluster does not serve are the other check's."""
    crds = manifests.crd_schemas(manifest_documents)
    problems, validated = [], 0
    for doc in manifest_documents:
        served = _cluster_schema(doc, kube) if doc.api_version and doc.kind else None
        schema, schemas = served or (crds.get(_gvk(doc)), {})
        if schema is None:
            continue
        validated += 1
        problems += [f"{doc.ref}: {problem}" for problem in validate(doc.body, schema, schemas)]
    record_property("validated", validated)
    assert not problems, (f"kubernetes.manifests against the cluster's OpenAPI: expected every document valid, found "
                          f"{len(problems)} problems: {_listed(problems)}")
