"""Chaos experiments as evidence: the gate runs them (with their load profile), refusals are noted, and a
plain `chaos run` gets the same guard through the control."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import InterruptExecution

from gauntlet import paths, run_folder
from gauntlet.chaos import control, experiments
from gauntlet.environment import load_environment
from gauntlet.exceptions import SafetyRefusal
from gauntlet.runner import run_evidence


@pytest.fixture
def local_copy(write_env, local_env_data):
    """environments/local.yaml in the test's environments folder."""
    write_env(local_env_data, "local")
    return load_environment("local")


def test_a_load_profile_runs_during_its_chaos_experiment_and_not_alone(local_copy):
    run = run_folder.new_run(local_copy, "gate", "gauntlet gate local")
    calls = []
    run_evidence(local_copy, run, ["chaos:athens-replica-crash", "load:failover"],
                 chaos_runner=lambda env, run, name, load=None, progress=None: calls.append((name, load)),
                 load_runner=lambda *a, **kw: calls.append(("load alone", a[2])))
    assert calls == [("athens-replica-crash", "failover")]
    assert run.meta["unavailable"] == {}


def test_a_profile_of_several_fault_windows_runs_beside_each_and_is_unavailable_only_when_all_are_refused(local_copy):
    """pods-failover is evidence during the container crash, the pod loss and the node drain: the gate runs it beside
    each of them it runs; refused in one, it was still evidence in the others."""
    run = run_folder.new_run(local_copy, "gate", "gauntlet gate local")
    calls = []

    def drain_refused(env, run, name, load=None, progress=None):
        if name == "node-drain":
            raise SafetyRefusal("local: another run holds the lock")
        calls.append((name, load))

    refs = ["chaos:athens-container-crash", "chaos:node-drain", "chaos:athens-pod-loss", "load:pods-failover"]
    run_evidence(local_copy, run, refs, chaos_runner=drain_refused)
    assert calls == [("athens-container-crash", "pods-failover"), ("athens-pod-loss", "pods-failover")]
    assert set(run.meta["unavailable"]) == {"chaos:node-drain"}

    run = run_folder.new_run(local_copy, "gate", "gauntlet gate local")
    run_evidence(local_copy, run, refs[1:], chaos_runner=lambda *a, **kw: (_ for _ in ()).throw(SafetyRefusal("no")))
    assert run.meta["unavailable"]["load:pods-failover"] == ("runs only during the chaos experiments 'athens-pod-loss', "
                                                             "'node-drain', which were refused")
    run = run_folder.new_run(local_copy, "gate", "gauntlet gate local")
    run_evidence(local_copy, run, ["load:pods-failover"], chaos_runner=drain_refused)
    assert run.meta["unavailable"]["load:pods-failover"] == (
        "runs only during the chaos experiments 'athens-container-crash', 'athens-pod-loss', 'node-drain', "
        "'athens-pod-unready', not on its own")


def test_a_refused_experiment_is_noted_with_the_refusal_and_the_gate_goes_on(local_copy):
    run = run_folder.new_run(local_copy, "gate", "gauntlet gate local")

    def refuse(env, run, name, load=None, progress=None):
        raise SafetyRefusal("local: the API server https://127.0.0.1:6443 does not answer")

    run_evidence(local_copy, run, ["chaos:athens-pod-loss", "chaos:athens-replica-crash", "load:failover"],
                 chaos_runner=refuse)
    unavailable = run.meta["unavailable"]
    assert unavailable["chaos:athens-pod-loss"] == ("refused before anything was done: local: the API server "
                                                    "https://127.0.0.1:6443 does not answer")
    assert unavailable["load:failover"] == "runs only during the chaos experiment 'athens-replica-crash', which was refused"


def test_a_plain_chaos_run_is_refused_by_the_control_when_the_policy_says_no(write_env, monkeypatch, local_copy,
                                                                            local_env_data):
    data = local_env_data
    data["chaos"]["allowed"] = False
    write_env(data, "local")
    monkeypatch.delenv(control.RUN_ENV, raising=False)
    monkeypatch.setattr(control, "_state", {"phase": "hypothesis", "env": None, "lock": None})
    exp = experiments.load("athens-replica-crash")
    with pytest.raises(InterruptExecution, match=r"gauntlet refused the experiment: local: chaos is not allowed here"):
        control.before_experiment_control(exp.data, configuration={"gauntlet_env": "local"})


def test_the_control_refuses_an_aws_endpoint_that_is_not_the_environments(monkeypatch, local_copy):
    """A database failed over through the RDS API (db_failover rds): chaostoolkit-aws must call the environment's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://rds.us-east-1.amazonaws.com")
    monkeypatch.setattr(control, "_state", {"phase": "hypothesis", "env": None, "lock": None})
    exp = experiments.load("artifacthub-db-failover")
    with pytest.raises(InterruptExecution, match=r"would call the AWS API at https://rds.us-east-1.amazonaws.com, "
                                                 r"the environment names http://127.0.0.1:5000"):
        control.before_experiment_control(exp.data, configuration={"gauntlet_env": "local", "db_failover": "rds"})


def test_inside_chaos_toolkit_each_action_is_checked_again_right_before_it_runs(guarded, kube_api, monkeypatch):
    path = guarded(max_pods_per_action=1)
    monkeypatch.setenv(control.RUN_ENV, "a gauntlet run")
    monkeypatch.setattr(control, "_state", {"phase": "method", "env": None, "lock": None})
    exp = experiments.load("athens-pod-loss")
    configuration = {"gauntlet_env": "fakeprod", "kubeconfig": str(path), "kube_context": "fake",
                     "kube_api_server": kube_api.url, "athens_namespace": "athens",
                     "athens_selector": "app.kubernetes.io/name=athens"}
    control.before_activity_control(exp.method[0], configuration=configuration)  # one pod: allowed
    with pytest.raises(InterruptExecution, match=r"refused action 'terminate-all-athens-pods-but-one' before it ran: "
                                                 r".*would take down 2 pods"):
        control.before_activity_control(exp.method[2], configuration=configuration)
    assert kube_api.writes == []


def test_a_hypothesis_probe_the_sampler_cannot_pin_to_the_cluster_is_refused(tmp_path):
    import json

    from gauntlet.exceptions import ConfigError

    data = json.loads((paths.ROOT / "chaos_experiments" / "athens-pod-loss.json").read_text())
    data["steady-state-hypothesis"]["probes"][0]["provider"].update(module="chaosk8s.pod.probes", func="pods_in_phase")
    (tmp_path / "x.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"only gauntlet.chaos.probes probes are pinned to the environment's cluster"):
        experiments.parse(tmp_path / "x.json")
