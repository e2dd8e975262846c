"""Errors of the Kubernetes probes and actions, placed in gauntlet's hierarchy (:mod:`gauntlet.exceptions`)::

    GauntletError
    ├── SafetyRefusal
    │   └── ActionRefused       an action the environment's chaos policy does not allow here
    └── TargetError
        ├── ResourceMissing     the object the environment names is not there (404)
        ├── KubeCallFailed      the API answered with an error that is none of the others
        ├── Deviation           a probe's expectation is not met (raised unless its raise_on_* is False)
        └── TargetUnreachable
            └── NotChecked      the question could not be asked: API server unreachable or timing out,
                                kubeconfig or context missing, credentials refused (401), Forbidden (403, RBAC)

Checks turn :class:`NotChecked` into a skip (the claim says ``not-checked``, with the reason)
and every other error into a failure with its message.
"""

from __future__ import annotations

from gauntlet.exceptions import SafetyRefusal, TargetError, TargetUnreachable


class ActionRefused(SafetyRefusal):
    """Refused before acting: the chaos policy does not allow this action on this object."""


class ResourceMissing(TargetError):
    """The named object does not exist (in that namespace)."""


class KubeCallFailed(TargetError):
    """The API answered with an unexpected error."""


class Deviation(TargetError):
    """The cluster answered, and what it said does not meet the probe's expectation."""


class NotChecked(TargetUnreachable):
    """The question could not be asked or was not answered; the message says why and what to do."""
