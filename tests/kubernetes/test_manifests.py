"""Reading the manifests of an install or upgrade: files and folders, Lists, CRDs, removed API versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from gauntlet import paths
from gauntlet.exceptions import ConfigError, NotChecked
from gauntlet.kubernetes import manifests

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.test}
spec:
  group: example.test
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object}}
    - name: v0
      served: false
      storage: false
"""


def test_folders_files_and_lists(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\n")
    (tmp_path / "b.yml").write_text("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Service, metadata: {name: s}}\n"
                                    "  - {apiVersion: v1, kind: Secret, metadata: {name: t}}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    docs = manifests.read([str(tmp_path)])
    assert [d.ref for d in docs] == [f"{tmp_path}/b.yml document 1 (Service s)", f"{tmp_path}/b.yml document 2 (Secret t)",
                                     f"{tmp_path}/sub/a.yaml document 1 (ConfigMap ns/a)"]


def test_bad_yaml_names_the_line_and_a_missing_path_is_not_checked(tmp_path: Path):
    (tmp_path / "x.yaml").write_text("a: 1\nb: [\n")
    with pytest.raises(ConfigError, match=r"x.yaml:3: not valid YAML"):
        manifests.read([str(tmp_path / "x.yaml")])
    with pytest.raises(NotChecked, match="no such file or folder"):
        manifests.read([str(tmp_path / "gone")])


def test_crds_define_the_versions_they_serve(tmp_path: Path):
    (tmp_path / "crd.yaml").write_text(CRD)
    assert manifests.crd_schemas(manifests.read([str(tmp_path)])) == {("example.test", "v1", "Widget"): {"type": "object"}}


def test_removed_versions_and_where_they_are_served():
    assert manifests.removed_in("policy/v1beta1", "PodDisruptionBudget") == "1.25"
    assert manifests.removed_in("extensions/v1beta1", "Ingress") == "1.22"
    assert manifests.removed_in("extensions/v1beta1", "Deployment") == "1.16"
    assert manifests.removed_in("apps/v1", "Deployment") is None
    assert manifests.openapi_path("v1") == "api/v1" and manifests.openapi_path("apps/v1") == "apis/apps/v1"


def test_the_seed_manifests_are_read_whole():
    docs = manifests.read([str(paths.ROOT / "fixtures" / "manifests")])
    assert all(d.api_version and d.kind for d in docs)
    assert ("elbv2.k8s.aws", "v1beta1", "TargetGroupBinding") in manifests.crd_schemas(docs)
