"""Strict validation against schemas shaped like the API server's OpenAPI v3 (``$ref`` in ``allOf``, ``oneOf``)."""

from __future__ import annotations

from gauntlet.kubernetes.schema import MAX_PROBLEMS, kind_schema, validate

REF = "#/components/schemas/"
SCHEMAS = {
    "io.k8s.api.apps.v1.Deployment": {
        "type": "object", "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                       "metadata": {"allOf": [{"$ref": REF + "ObjectMeta"}], "default": {}},
                       "spec": {"allOf": [{"$ref": REF + "DeploymentSpec"}], "default": {}}},
    },
    "ObjectMeta": {"type": "object", "properties": {
        "name": {"type": "string"}, "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "DeploymentSpec": {"type": "object", "required": ["selector"], "properties": {
        "replicas": {"type": "integer"}, "selector": {"type": "object"},
        "maxUnavailable": {"allOf": [{"$ref": REF + "IntOrString"}]},
        "containers": {"type": "array", "items": {"allOf": [{"$ref": REF + "Container"}], "default": {}}}}},
    "IntOrString": {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
    "Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "Container": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "resources": {"type": "object", "properties": {
            "limits": {"type": "object", "additionalProperties": {"allOf": [{"$ref": REF + "Quantity"}]}}}}}},
}
DEPLOYMENT = kind_schema(SCHEMAS, "apps", "v1", "Deployment")


def deployment(**spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "www", "labels": {"app": "www"}},
            "spec": {"selector": {"matchLabels": {"app": "www"}}, **spec}}


def test_a_valid_document_has_no_problem():
    body = deployment(replicas=3, maxUnavailable="25%", containers=[{"name": "www", "resources": {"limits": {"cpu": 1,
                                                                                                          "memory": "1Gi"}}}])
    assert validate(body, DEPLOYMENT, SCHEMAS) == []
    assert validate(deployment(maxUnavailable=1, replicas=None), DEPLOYMENT, SCHEMAS) == [], "null is an unset field"


def test_kinds_are_found_by_their_group_version_kind():
    assert kind_schema(SCHEMAS, "apps", "v1", "Deployment") is SCHEMAS["io.k8s.api.apps.v1.Deployment"]
    assert kind_schema(SCHEMAS, "apps", "v1beta1", "Deployment") is None


def test_unknown_fields_types_and_required_fields_are_named_with_their_path():
    body = deployment(replicas="3", maxUnavailable=[1], containers=[{"resource": {}}, {"name": "x", "resources": {
        "limits": {"memory": ["1Gi"]}}}])
    del body["spec"]["selector"]
    assert validate(body, DEPLOYMENT, SCHEMAS) == [
        "spec.selector: required field is missing",
        "spec.replicas: expected integer, found string '3'",
        "spec.maxUnavailable: expected integer or string, found array [1]",
        "spec.containers[0].name: required field is missing",
        "spec.containers[0].resource: unknown field (did you mean resources?)",
    ][:MAX_PROBLEMS]


def test_free_form_and_preserved_objects_take_any_field():
    assert validate(deployment(selector={"anything": {"goes": 1}}), DEPLOYMENT, SCHEMAS) == []
    crd = {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                                     "properties": {"size": {"type": "integer"}}},
                                            "port": {"x-kubernetes-int-or-string": True}}}
    assert validate({"spec": {"size": 1, "extra": True}, "port": "http"}, crd, {}) == []
    assert validate({"spec": {"size": "big"}, "port": 1.5}, crd, {}) == [
        "spec.size: expected integer, found string 'big'", "port: expected integer or string, found number 1.5"]
