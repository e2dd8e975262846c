"""NetworkPolicy probes: which policies select a workload's pods, and what their ingress rules admit."""

from __future__ import annotations

from gauntlet.kubernetes.networkpolicy.probes import ingress_sources, isolates_ingress, policies_selecting


def policy(name: str, spec: dict) -> dict:
    return {"metadata": {"name": name, "namespace": "castle"}, "spec": spec}


BACKEND = policy("backend", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "backend"}}, "policyTypes": ["Ingress"],
                             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "www"}}}],
                                          "ports": [{"port": "http"}]}]})


def test_policies_selecting_the_pods(fake_api, fake_config, object_list):
    egress = policy("egress", {"podSelector": {}, "policyTypes": ["Egress"]})
    other = policy("other", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "www"}}})
    fake_api.answer("/apis/networking.k8s.io/v1/namespaces/castle/networkpolicies",
                    object_list("NetworkPolicy", [other, egress, BACKEND]))
    found = policies_selecting({"app.kubernetes.io/name": "backend"}, "castle", fake_config)
    assert [p["metadata"]["name"] for p in found] == ["backend", "egress"]
    assert [isolates_ingress(p) for p in found] == [True, False]
    assert isolates_ingress(policy("implied", {"podSelector": {}})), "no policyTypes: Ingress is implied"


def test_what_the_ingress_rules_admit():
    assert ingress_sources([BACKEND]) == [{"policy": "backend", "rule": "spec.ingress[0]", "ports": "TCP/http",
                                           "source": "pods app.kubernetes.io/name=www in namespace castle", "public": False}]
    wide = policy("wide", {"podSelector": {}, "ingress": [
        {},
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}, {"ipBlock": {"cidr": "10.1.0.0/16"}},
                  {"namespaceSelector": {}}, {"namespaceSelector": {"matchLabels": {"team": "mon"}}, "podSelector": {}}],
         "ports": [{"protocol": "TCP", "port": 9090, "endPort": 9091}]}]})
    assert [(s["source"], s["ports"], s["public"]) for s in ingress_sources([wide])] == [
        ("every source (no from)", "every port", True),
        ("addresses 0.0.0.0/0 except 10.0.0.0/8", "TCP/9090-9091", True),
        ("addresses 10.1.0.0/16", "TCP/9090-9091", False),
        ("every pod in every namespace", "TCP/9090-9091", False),
        ("every pod in namespaces team=mon", "TCP/9090-9091", False),
    ]
    assert ingress_sources([policy("deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})]) == []
