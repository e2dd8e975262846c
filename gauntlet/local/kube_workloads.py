"""The cluster tier's seed workloads: ``fixtures/manifests/`` applied with the Kubernetes Python client
(an ``ApiClient`` of the cluster that :mod:`gauntlet.local.kube_cluster` starts, passed in).

- :func:`render` reads the manifests (plain YAML, one file per seed target plus the AWS Load
  Balancer Controller's parts) and applies the cluster-tier fault profiles to the documents.
- :func:`apply` server-side applies them (field manager ``gauntlet-local``, conflicts forced):
  applying twice changes nothing. Each seed namespace carries the SHA-256 of what was rendered
  for it (annotation ``gauntlet.dev/manifests-sha256``); a namespace whose rendering changed (other
  fault profiles, edited manifests) is deleted and created again, so no pod of an earlier profile
  survives, while unchanged namespaces are left as they are.
- It plays the AWS Load Balancer Controller's lookup of a TargetGroupBinding's Service: the
  Service's selector goes onto the binding (annotation ``gauntlet.dev/service-selector``) for the
  MutatingAdmissionPolicy that injects readiness gates; before any pod template is applied it
  checks, with a server-side dry run, that the policy injects what it must (or nothing).
- :func:`wait_available` waits until every Deployment is rolled out and available (HPA minimum
  reached), every Job complete, every PDB observed by the disruption controller.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from gauntlet import paths
from gauntlet.exceptions import LocalStackError
from gauntlet.kubernetes.alb import INJECT_LABEL, INJECT_VALUE, READINESS_GATE_PREFIX
from gauntlet.waiting import until

MANIFESTS_DIR = paths.ROOT / "fixtures" / "manifests"
FIELD_MANAGER = "gauntlet-local"
HASH_ANNOTATION = "gauntlet.dev/manifests-sha256"
FAULTS_ANNOTATION = "gauntlet.dev/faults"
SELECTOR_ANNOTATION = "gauntlet.dev/service-selector"
ZONE_LABEL = "topology.kubernetes.io/zone"
#: The zone ``all-pods-one-zone`` pins every seed pod to (castle's own zone).
ONE_ZONE = "us-east-1a"
_AVAILABLE_WITHIN_S = 180.0
_NAMESPACE_GONE_WITHIN_S = 120.0
_INJECTION_WITHIN_S = 30.0

#: Apply order: definitions, then cluster-wide objects, namespaces, what pods depend on, pods' owners, autoscalers.
_KIND_ORDER = {"CustomResourceDefinition": 0, "IngressClass": 1, "MutatingAdmissionPolicy": 1,
               "MutatingAdmissionPolicyBinding": 2, "Namespace": 3, "ServiceAccount": 4, "ConfigMap": 4,
               "Secret": 4, "Service": 4, "TargetGroupBinding": 5, "PodDisruptionBudget": 5, "Ingress": 5, "NetworkPolicy": 5,
               "Deployment": 6, "ReplicaSet": 6, "StatefulSet": 6, "Job": 6, "CronJob": 6,
               "HorizontalPodAutoscaler": 7}
_POD_OWNERS = ("Deployment", "ReplicaSet", "StatefulSet", "Job", "CronJob")

Progress = Callable[[str], None]
Doc = dict[str, Any]


# --------------------------------------------------------------------------- rendering


def _read(directory: Path) -> list[Doc]:
    docs: list[Doc] = []
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append(doc)
    return docs


def pod_template(doc: Doc) -> Doc | None:
    """The pod template of a workload document (a CronJob's is two levels down), else None."""
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    if doc["kind"] in _POD_OWNERS:
        return doc["spec"]["template"]
    return None


def _no_readiness_gate_label(docs: list[Doc]) -> list[Doc]:
    for doc in docs:
        if doc["kind"] == "Namespace":
            doc["metadata"].get("labels", {}).pop(INJECT_LABEL, None)
    return docs


def _rollout_max_unavailable_100(docs: list[Doc]) -> list[Doc]:
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"].get("namespace") == "castle":
            doc["spec"]["strategy"] = {"type": "RollingUpdate",
                                       "rollingUpdate": {**doc["spec"]["strategy"].get("rollingUpdate", {}),
                                                         "maxUnavailable": "100%"}}
    return docs


def _no_pdb(docs: list[Doc]) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] != "PodDisruptionBudget"]


def _all_pods_one_zone(docs: list[Doc]) -> list[Doc]:
    for doc in docs:
        template = pod_template(doc)
        if template is None:
            continue
        spec = template["spec"]
        spec["nodeSelector"] = {**spec.get("nodeSelector", {}), ZONE_LABEL: ONE_ZONE}
        spread = [c for c in spec.get("topologySpreadConstraints", []) if c["topologyKey"] != ZONE_LABEL]
        if spread:
            spec["topologySpreadConstraints"] = spread
        else:
            spec.pop("topologySpreadConstraints", None)
    return docs


def _hpa_min_1(docs: list[Doc]) -> list[Doc]:
    for doc in docs:
        if doc["kind"] == "HorizontalPodAutoscaler":
            doc["spec"]["minReplicas"] = 1
    return docs


def _find(docs: list[Doc], kind: str, namespace: str, name: str) -> Doc:
    return next(d for d in docs if d["kind"] == kind and d["metadata"].get("namespace") == namespace
                and d["metadata"]["name"] == name)


def _readiness_is_liveness(docs: list[Doc]) -> list[Doc]:
    for container in _find(docs, "Deployment", "castle", "www")["spec"]["template"]["spec"]["containers"]:
        container["livenessProbe"] = {**copy.deepcopy(container["readinessProbe"]),
                                      "initialDelaySeconds": container["livenessProbe"].get("initialDelaySeconds", 0),
                                      "periodSeconds": container["livenessProbe"].get("periodSeconds", 10)}
    return docs


def _backend_one_replica_set(docs: list[Doc]) -> list[Doc]:
    """castle's backend in one replica-set: backend-a holds both replicas, backend-b is scaled to 0."""
    _find(docs, "Deployment", "castle", "backend-a")["spec"]["replicas"] = 2
    _find(docs, "Deployment", "castle", "backend-b")["spec"]["replicas"] = 0
    return docs


def _athens_readiness_is_liveness(docs: list[Doc]) -> list[Doc]:
    for container in _find(docs, "Deployment", "athens", "athens")["spec"]["template"]["spec"]["containers"]:
        container["readinessProbe"]["httpGet"] = copy.deepcopy(container["livenessProbe"]["httpGet"])
    return docs


def _pdb_blocks_unhealthy_eviction(docs: list[Doc]) -> list[Doc]:
    _find(docs, "PodDisruptionBudget", "athens", "athens")["spec"].pop("unhealthyPodEvictionPolicy", None)
    return docs


def _athens_disk_unbounded(docs: list[Doc]) -> list[Doc]:
    for container in _find(docs, "Deployment", "athens", "athens")["spec"]["template"]["spec"]["containers"]:
        for bound in container.get("resources", {}).values():
            bound.pop("ephemeral-storage", None)
    return docs


def _athens_memory_storage(docs: list[Doc]) -> list[Doc]:
    for container in _find(docs, "Deployment", "athens", "athens")["spec"]["template"]["spec"]["containers"]:
        for var in container["env"]:
            if var["name"] == "ATHENS_STORAGE_TYPE":
                var["value"] = "memory"
    return docs


def _backend_ingress_open(docs: list[Doc]) -> list[Doc]:
    _find(docs, "NetworkPolicy", "castle", "backend")["spec"]["ingress"] = [{}]
    return docs


#: Cluster-tier fault profile -> how it changes the documents (descriptions: gauntlet.local.faults).
RENDERERS: dict[str, Callable[[list[Doc]], list[Doc]]] = {
    "no-readiness-gate-label": _no_readiness_gate_label,
    "rollout-max-unavailable-100": _rollout_max_unavailable_100,
    "no-pdb": _no_pdb,
    "all-pods-one-zone": _all_pods_one_zone,
    "hpa-min-1": _hpa_min_1,
    "readiness-is-liveness": _readiness_is_liveness,
    "athens-readiness-is-liveness": _athens_readiness_is_liveness,
    "pdb-blocks-unhealthy-eviction": _pdb_blocks_unhealthy_eviction,
    "athens-disk-unbounded": _athens_disk_unbounded,
    "athens-memory-storage": _athens_memory_storage,
    "backend-ingress-open": _backend_ingress_open,
    "backend-one-replica-set": _backend_one_replica_set,
}


def render(faults: Iterable[str] = (), directory: Path = MANIFESTS_DIR) -> list[Doc]:
    """The documents to apply, fault profiles applied, in apply order."""
    docs = copy.deepcopy(_read(directory))
    for fault in sorted(set(faults)):
        if fault not in RENDERERS:
            raise LocalStackError(f"not a cluster fault profile: {fault!r}: the cluster tier's are {', '.join(RENDERERS)}")
        docs = RENDERERS[fault](docs)
    for doc in docs:
        if doc["kind"] not in _KIND_ORDER:
            raise LocalStackError(f"{directory}: kind {doc['kind']} ({doc['metadata']['name']}) has no place in the "
                                  "apply order: add it to gauntlet/local/kube_workloads.py _KIND_ORDER")
    return sorted(docs, key=lambda d: _KIND_ORDER[d["kind"]])


def _namespace_of(doc: Doc) -> str | None:
    if doc["kind"] == "Namespace":
        return doc["metadata"]["name"]
    return doc["metadata"].get("namespace")


def namespaces(docs: Sequence[Doc]) -> list[str]:
    return [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]


def digest(docs: Sequence[Doc], namespace: str) -> str:
    """What a namespace was rendered from: the cluster-wide documents and its own."""
    mine = [d for d in docs if _namespace_of(d) in (None, namespace)]
    return hashlib.sha256(json.dumps(mine, sort_keys=True).encode()).hexdigest()


def _ref(doc: Doc) -> str:
    namespace = doc["metadata"].get("namespace")
    return f"{doc['kind']} {namespace + '/' if namespace else ''}{doc['metadata']['name']}"


# --------------------------------------------------------------------------- applying


def _dynamic(api: Any, discovery_cache: Path) -> Any:
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(api, cache_file=str(discovery_cache))


def _resource(dyn: Any, doc: Doc) -> Any:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        return dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
    except ResourceNotFoundError:
        dyn.resources.invalidate_cache()  # a CRD applied a moment ago
        return dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])


def _apply_one(dyn: Any, doc: Doc) -> None:
    from kubernetes.client.rest import ApiException

    try:
        _resource(dyn, doc).server_side_apply(body=doc, namespace=doc["metadata"].get("namespace"),
                                              field_manager=FIELD_MANAGER, force_conflicts=True)
    except ApiException as exc:
        raise LocalStackError(f"server-side apply of {_ref(doc)} failed: {exc.status} {exc.reason}: "
                              f"{_message(exc)}") from exc


def _message(exc: Any) -> str:
    try:
        return json.loads(exc.body).get("message", exc.body)
    except (TypeError, ValueError):
        return str(exc.body)


def apply(api: Any, discovery_cache: Path, faults: Iterable[str] = (), progress: Progress = print) -> list[Doc]:
    """Server-side apply the seed workloads with these fault profiles through ``api`` (the API discovery
    cached in ``discovery_cache``); return what was applied.

    Namespaces whose rendering changed are recreated (pods of the previous profile must not survive).
    Does not wait for the workloads to become available: :func:`wait_available` does.
    """
    from kubernetes import client

    faults = sorted(set(faults))
    docs = render(faults)
    wanted = {ns: digest(docs, ns) for ns in namespaces(docs)}
    dyn, core = _dynamic(api, discovery_cache), client.CoreV1Api(api)
    for doc in (d for d in docs if _namespace_of(d) is None):
        _apply_one(dyn, doc)
        if doc["kind"] == "CustomResourceDefinition":
            _wait_established(api, doc["metadata"]["name"])
    _delete_changed_namespaces(api, wanted, progress)
    injection_checked = False
    for doc in (d for d in docs if _namespace_of(d) is not None):
        if doc["kind"] == "Namespace":
            doc = copy.deepcopy(doc)
            doc["metadata"].setdefault("annotations", {}).update(
                {HASH_ANNOTATION: wanted[doc["metadata"]["name"]], FAULTS_ANNOTATION: ",".join(faults)})
        elif doc["kind"] == "TargetGroupBinding":
            doc = _with_service_selector(core, doc)
        elif _KIND_ORDER[doc["kind"]] >= _KIND_ORDER["Deployment"] and not injection_checked:
            wait_injection(core, docs)
            injection_checked = True
        _apply_one(dyn, doc)
    return docs


def _with_service_selector(core: Any, binding: Doc) -> Doc:
    """The binding with its Service's selector as ``k=v,k=v`` (what the controller's webhook looks up)."""
    from kubernetes.client.rest import ApiException

    namespace, service = binding["metadata"]["namespace"], binding["spec"]["serviceRef"]["name"]
    try:
        selector = core.read_namespaced_service(service, namespace).spec.selector or {}
    except ApiException as exc:
        raise LocalStackError(f"TargetGroupBinding {namespace}/{binding['metadata']['name']}: its Service "
                              f"{namespace}/{service} cannot be read: {exc.status} {exc.reason}") from exc
    binding = copy.deepcopy(binding)
    binding["metadata"].setdefault("annotations", {})[SELECTOR_ANNOTATION] = ",".join(
        f"{k}={v}" for k, v in sorted(selector.items()))
    return binding


def expected_gates(docs: Sequence[Doc], template_doc: Doc) -> set[str]:
    """The readiness gates the controller would inject into a pod of this workload."""
    namespace = template_doc["metadata"]["namespace"]
    labels = (pod_template(template_doc) or {}).get("metadata", {}).get("labels", {})
    ns_doc = next((d for d in docs if d["kind"] == "Namespace" and d["metadata"]["name"] == namespace), None)
    if ns_doc is None or ns_doc["metadata"].get("labels", {}).get(INJECT_LABEL) != INJECT_VALUE:
        return set()
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service" and _namespace_of(d) == namespace}
    gates = set()
    for binding in (d for d in docs if d["kind"] == "TargetGroupBinding" and _namespace_of(d) == namespace):
        service = services.get(binding["spec"]["serviceRef"]["name"])
        selector = (service or {}).get("spec", {}).get("selector") or {}
        if binding["spec"].get("targetType") == "ip" and selector and selector.items() <= labels.items():
            gates.add(READINESS_GATE_PREFIX + binding["metadata"]["name"])
    return gates


def wait_injection(core: Any, docs: Sequence[Doc], within_s: float = _INJECTION_WITHIN_S) -> None:
    """Dry-run a pod of each workload where injection matters until it gets exactly the gates expected.

    The policy, its binding, the TargetGroupBindings and the namespace label reach the admission
    plugin through informers: a moment passes between applying them and their taking effect. Just
    after kube-apiserver starts, the policy may also refuse pods ("failed to find resource referenced
    by paramKind") until the apiserver has discovered the TargetGroupBinding CRD: retried too.
    """
    relevant = {_namespace_of(d) for d in docs if d["kind"] == "TargetGroupBinding"}
    relevant |= {d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"
                 and INJECT_LABEL in d["metadata"].get("labels", {})}
    pending = [d for d in docs if pod_template(d) is not None and _namespace_of(d) in relevant]
    found, want = "", set[str]()

    def injected() -> bool:
        """The workloads in turn, each until its pod gets the gates expected (one deadline for them all)."""
        nonlocal found, want
        while pending:
            doc = pending[0]
            want = expected_gates(docs, doc)
            try:
                got: set[str] | str = injected_gates(core, doc)
            except LocalStackError as exc:
                got = str(exc)
            if got != want:
                found = got if isinstance(got, str) else f"a pod of {_ref(doc)} gets {sorted(got) or 'no gates'}"
                return False
            pending.pop(0)
        return True

    until(injected, within_s, 0.2, lambda: f"readiness-gate injection: {found}, expected {sorted(want) or 'no gates'} "
          "(MutatingAdmissionPolicy elbv2-pod-readiness-gate-inject; see fixtures/manifests/00-aws-load-balancer-controller.yaml)",
          error=LocalStackError)


def injected_gates(core: Any, doc: Doc) -> set[str]:
    """The ``target-health.elbv2.k8s.aws/*`` gates admission gives a pod of this workload (server-side dry run)."""
    from kubernetes.client.rest import ApiException

    template = copy.deepcopy(pod_template(doc) or {})
    namespace = doc["metadata"]["namespace"]
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "gauntlet-injection-probe-", "namespace": namespace,
                         "labels": template.get("metadata", {}).get("labels", {})},
            "spec": template["spec"]}
    try:
        pod = core.create_namespaced_pod(namespace, body, dry_run="All")
    except ApiException as exc:
        raise LocalStackError(f"dry-run pod of {_ref(doc)} refused: {exc.status} {exc.reason}: {_message(exc)}") from exc
    return {g.condition_type for g in pod.spec.readiness_gates or [] if g.condition_type.startswith(READINESS_GATE_PREFIX)}


def _wait_established(api: Any, name: str, within_s: float = 30.0) -> None:
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(api)

    def established() -> bool:
        crd = extensions.read_custom_resource_definition(name)
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    until(established, within_s, 0.2, lambda: f"CustomResourceDefinition {name} not Established within {within_s:.0f} s",
          error=LocalStackError)


def _delete_changed_namespaces(api: Any, wanted: dict[str, str], progress: Progress) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api)
    doomed = []
    for name, sha in wanted.items():
        try:
            namespace = core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        if namespace.metadata.deletion_timestamp is not None:
            doomed.append(name)
            continue
        if (namespace.metadata.annotations or {}).get(HASH_ANNOTATION) != sha:
            progress(f"recreating namespace {name}: its manifests or fault profiles changed")
            _stop_pods(api, name)
            core.delete_namespace(name)
            doomed.append(name)

    def gone(name: str) -> bool:
        try:
            core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    def all_gone() -> bool:
        doomed[:] = [name for name in doomed if not gone(name)]
        return not doomed

    until(all_gone, _NAMESPACE_GONE_WITHIN_S, 0.25,
          lambda: f"namespace {doomed[0]} still terminating after {_NAMESPACE_GONE_WITHIN_S:.0f} s", error=LocalStackError)


def _stop_pods(api: Any, namespace: str) -> None:
    """Delete the namespace's workloads, then its pods without grace (the kubelets stop their containers on
    their own), until none is left.

    The namespace controller, finding pods, waits their whole terminationGracePeriodSeconds (30 s by
    default) before it looks again, however fast they stop: a namespace emptied of pods first goes at once.
    """
    from kubernetes import client

    apps, batch, core = client.AppsV1Api(api), client.BatchV1Api(api), client.CoreV1Api(api)
    for delete in (apps.delete_collection_namespaced_deployment, apps.delete_collection_namespaced_stateful_set,
                   apps.delete_collection_namespaced_daemon_set, apps.delete_collection_namespaced_replica_set,
                   batch.delete_collection_namespaced_job):
        delete(namespace, propagation_policy="Background")

    def no_pods() -> bool:
        if not core.list_namespaced_pod(namespace, limit=1).items:
            return True
        core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
        return False

    until(no_pods, _NAMESPACE_GONE_WITHIN_S, 0.25,
          lambda: f"pods of namespace {namespace} still there after {_NAMESPACE_GONE_WITHIN_S:.0f} s", error=LocalStackError)


# --------------------------------------------------------------------------- waiting and reading


def _hpa_minimums(docs: Sequence[Doc]) -> dict[tuple[str, str], int]:
    return {(d["metadata"]["namespace"], d["spec"]["scaleTargetRef"]["name"]): d["spec"].get("minReplicas", 1)
            for d in docs if d["kind"] == "HorizontalPodAutoscaler"}


def deployment_pending(deployment: Any, hpa_min: int | None = None) -> str | None:
    """Why a Deployment is not rolled out and available yet (None when it is)."""
    spec, status = deployment.spec, deployment.status
    want = spec.replicas or 0
    if (status.observed_generation or 0) < deployment.metadata.generation:
        return "not yet observed by the deployment controller"
    if hpa_min is not None and want < hpa_min:
        return f"{want} replicas, below its HPA minimum {hpa_min}"
    counts = {"updated": status.updated_replicas or 0, "ready": status.ready_replicas or 0,
              "available": status.available_replicas or 0}
    if any(n != want for n in counts.values()) or (status.replicas or 0) != want:
        return f"{counts['available']}/{want} available, {counts['ready']} ready, {counts['updated']} updated, " \
               f"{status.replicas or 0} in total"
    return None


def _pending(api: Any, docs: Sequence[Doc]) -> dict[str, str]:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    apps, batch, policy = client.AppsV1Api(api), client.BatchV1Api(api), client.PolicyV1Api(api)
    minimums = _hpa_minimums(docs)
    pending: dict[str, str] = {}
    for doc in docs:
        namespace, name, kind = doc["metadata"].get("namespace"), doc["metadata"]["name"], doc["kind"]
        ref = f"{kind} {namespace}/{name}"
        try:
            if kind == "Deployment":
                why = deployment_pending(apps.read_namespaced_deployment(name, namespace), minimums.get((namespace, name)))
            elif kind == "Job":
                job = batch.read_namespaced_job(name, namespace)
                done = any(c.type == "Complete" and c.status == "True" for c in job.status.conditions or [])
                why = None if done else f"not complete ({job.status.succeeded or 0} succeeded, {job.status.active or 0} active)"
            elif kind == "CronJob":
                batch.read_namespaced_cron_job(name, namespace)
                why = None
            elif kind == "PodDisruptionBudget":
                pdb = policy.read_namespaced_pod_disruption_budget(name, namespace)
                status = pdb.status
                if (status.observed_generation or 0) < pdb.metadata.generation:
                    why = "not yet observed by the disruption controller"
                elif (status.current_healthy or 0) < (status.desired_healthy or 0) or (status.expected_pods or 0) == 0:
                    why = f"{status.current_healthy or 0} healthy of {status.expected_pods or 0}, needs {status.desired_healthy}"
                else:
                    why = None
            else:
                continue
        except ApiException as exc:
            why = f"{exc.status} {exc.reason}"
        if why:
            pending[ref] = why
    return pending


def wait_available(api: Any, docs: Sequence[Doc], within_s: float = _AVAILABLE_WITHIN_S, progress: Progress = print) -> None:
    """Wait until every Deployment is rolled out and available (HPA minimum reached), every Job complete,
    every CronJob present and every PDB observed with its pods healthy."""
    pending: dict[str, str] = {}
    said = time.monotonic()

    def available() -> bool:
        nonlocal pending, said
        pending = _pending(api, docs)
        if pending and time.monotonic() - said > 5:
            progress(f"waiting for {len(pending)} seed workload(s): " + "; ".join(
                f"{ref}: {why}" for ref, why in list(pending.items())[:3]))
            said = time.monotonic()
        return not pending

    until(available, within_s, 0.5, lambda: f"seed workloads not available within {within_s:.0f} s: "
          + "; ".join(f"{ref}: {why}" for ref, why in pending.items()), error=LocalStackError)
