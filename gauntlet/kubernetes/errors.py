"""Errors of the Kubernetes probes and actions, beside the ones every probe shares
(:mod:`gauntlet.exceptions`: ``ResourceMissing`` for a 404, ``NotChecked``)::

    GauntletError
    ├── SafetyRefusal
    │   └── ActionRefused       an action the environment's chaos policy does not allow here
    └── TargetError
        ├── KubeCallFailed      the API answered with an error that is none of the others
        └── Deviation           a probe's expectation is not met (raised unless its raise_on_* is False)

A Kubernetes probe raises ``NotChecked`` when the question could not be asked: API server
unreachable or timing out, kubeconfig or context missing, credentials refused (401), Forbidden (403, RBAC).
"""

from __future__ import annotations

from gauntlet.exceptions import SafetyRefusal, TargetError


class ActionRefused(SafetyRefusal):
    """Refused before acting: the chaos policy does not allow this action on this object."""


class KubeCallFailed(TargetError):
    """The API answered with an unexpected error."""


class Deviation(TargetError):
    """The cluster answered, and what it said does not meet the probe's expectation."""
