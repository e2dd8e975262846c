"""The environment model's Kubernetes fields: the workloads claims name, parts, the capacity floor, the opt-in live rollout."""

from __future__ import annotations

import pytest

from gauntlet import environment, paths
from gauntlet.catalogue import matches_any
from gauntlet.environment import Workload, load_all, load_environment
from gauntlet.exceptions import ConfigError


@pytest.fixture
def kube_env(env_data: dict) -> dict:
    env_data["claims"].append({"id": "sample-rollout", "statement": "rolls without interruption", "evidence": ["kubernetes.rollout.*"],
                               "workloads": ["castle/www"],
                               "source": {"document": "003_c38d70fb8338328e.txt", "quote": "without service interruption"}})
    env_data["kubernetes"] = {
        "context": "gauntlet-local", "api_server": "https://127.0.0.1:6443",
        "workloads": [{"namespace": "castle", "name": "www", "hpa": {"min": 5, "max": 10}},
                      {"namespace": "castle", "name": "backend", "parts": ["backend-a", "backend-b"], "replicas": 2}],
    }
    return env_data


def test_capacity_floor_defaults_to_one_less_than_claimed():
    assert Workload(namespace="castle", name="www", hpa={"min": 5, "max": 10}).capacity_floor == 4
    assert Workload(namespace="athens", name="athens", replicas=1).capacity_floor == 1
    assert Workload(namespace="castle", name="www", hpa={"min": 5, "max": 10}, min_ready=5).capacity_floor == 5
    assert Workload(namespace="artifacthub", name="tracker", kind="CronJob").capacity_floor is None


def test_objects_are_the_parts_or_the_name():
    assert Workload(namespace="castle", name="backend", parts=["backend-a", "backend-b"]).objects == ("backend-a", "backend-b")
    assert Workload(namespace="castle", name="www").objects == ("www",)


def test_valid_kubernetes_section_loads(write_env, kube_env):
    kube_env["kubernetes"]["live_rollout"] = {"workload": "castle/www", "timeout_s": 120}
    write_env(kube_env)
    env = load_environment("sample")
    assert env.kubernetes.live_rollout.interval_s == 1.0
    assert [w.ref for w in env.workloads_of(env.claim("sample-rollout"))] == ["castle/www"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda k: k["workloads"][0].update(claims=["sample-rollout"]), "kubernetes.workloads[0].claims: unknown field"),
    (lambda k: k["workloads"].pop(0), "claims[3].workloads[0]: expected a workload of kubernetes.workloads ['castle/backend'], "
                                     "got 'castle/www'"),
    (lambda k: k.update(live_rollout={"workload": "castle/backend-a"}),
     "kubernetes.live_rollout.workload: expected a Deployment of kubernetes.workloads ['castle/backend', 'castle/www'], "
     "got 'castle/backend-a'"),
    (lambda k: k.update(live_rollout={"workload": "castle/www", "endpoint": "nowhere"}),
     "kubernetes.live_rollout.endpoint: expected one of the endpoints ['edge'], got 'nowhere'"),
    (lambda k: k["workloads"][0].update(min_ready=6),
     "kubernetes.workloads[0]: min_ready (6) must not exceed the claimed replicas (5)"),
    (lambda k: k["workloads"][1].update(hpa={"min": 1, "max": 2}),
     "kubernetes.workloads[1]: an HPA scales one object: a workload made of parts cannot claim hpa bounds"),
    (lambda k: k["workloads"].append({"namespace": "castle", "name": "www"}),
     "kubernetes.workloads[2]: duplicate workload castle/www (Deployment)"),
    (lambda k: k.update(live_rollout={"workload": "castle/www", "interval_s": 0.01}),
     "kubernetes.live_rollout.interval_s"),
])
def test_bad_kubernetes_fields_name_the_field(write_env, kube_env, change, message):
    change(kube_env["kubernetes"])
    write_env(kube_env)
    with pytest.raises(ConfigError) as caught:
        load_environment("sample")
    assert message in str(caught.value), str(caught.value)


def test_bundled_claims_with_per_workload_kinds_name_their_workloads():
    """Every shipped claim whose kinds are checked per workload says which workloads it speaks about."""
    from gauntlet.catalogue import catalogue

    for env in load_all(environment.paths.ROOT / "environments"):
        for claim in env.claims:
            per_workload = [k.id for p in claim.evidence for k in catalogue().matching(p) if k.per_workload]
            assert not per_workload or claim.workloads, f"{env.name}: {claim.id} names {per_workload} but no workload"


def test_every_claimed_disruption_budget_is_judged():
    """``pdb: true`` of a shipped environment is judged: some claim about that workload names the PDB checks."""
    for env in load_all(paths.ROOT / "environments"):
        for workload in (env.kubernetes.workloads if env.kubernetes else ()):
            if workload.pdb:
                judging = [c.id for c in env.claims if workload.ref in c.workloads
                           and matches_any(c.evidence, ["kubernetes.pdb.exists"])]
                assert judging, f"{env.name}: {workload.ref} says pdb: true, no claim names kubernetes.pdb.*"
