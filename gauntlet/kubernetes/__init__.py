"""Kubernetes probes and actions by resource, shared by the kubernetes conformance suite and chaos experiments.

Layout (chaostoolkit-kubernetes style: resource, then verb)::

    workload/probes.py     read a Deployment, StatefulSet, Job or CronJob; its pod template and selector
    deployment/probes.py   rollout status, Ready replicas          deployment/actions.py  rollout restart
    pod/probes.py          pods by selector, readiness gates; in the pod (testinfra over kubectl exec)
    pdb/probes.py  hpa/probes.py  service/probes.py  namespace/probes.py  node/probes.py
    alb.py                 the AWS Load Balancer Controller's label and readiness-gate names

Each activity takes its domain arguments, then ``configuration=None, secrets=None`` (Chaos
Toolkit's activity signature; configuration keys in :mod:`gauntlet.kubernetes.client`), returns
the API's JSON or data made of it, and raises :mod:`gauntlet.kubernetes.errors` or
``NotChecked``/``ResourceMissing`` of :mod:`gauntlet.exceptions`: probes that judge raise
:class:`Deviation` unless their ``raise_on_*`` argument is False.
"""

from gauntlet.kubernetes.client import Cluster, call, cluster, configuration_for, server_version
from gauntlet.kubernetes.errors import ActionRefused, Deviation, KubeCallFailed

__all__ = [
    "ActionRefused",
    "Cluster",
    "Deviation",
    "KubeCallFailed",
    "call",
    "cluster",
    "configuration_for",
    "server_version",
]
