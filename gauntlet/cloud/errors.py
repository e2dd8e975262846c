"""Errors of the cloud probes, beside the ones every probe shares (:mod:`gauntlet.exceptions`:
``ResourceMissing``, ``NotChecked``)::

    GauntletError
    ├── ConfigError
    │   └── CloudConfigError     the environment's AWS identifiers are malformed (a bad ARN)
    ├── SafetyRefusal
    │   └── ReadOnlyViolation    a probe tried an AWS operation that is not Describe*/List*/Get*,
    │                            or a loopback-only client tried to leave loopback
    └── TargetError
        └── CloudCallFailed      the API answered with an error that is none of the others

A cloud probe raises ``NotChecked`` when the API could not answer the question: no credentials,
access denied, throttled after retries, endpoint unreachable, operation not implemented.
"""

from __future__ import annotations

from gauntlet.exceptions import ConfigError, SafetyRefusal, TargetError


class CloudConfigError(ConfigError):
    """An AWS identifier of the environment cannot be used as given."""


class ReadOnlyViolation(SafetyRefusal):
    """Refused before sending: the probes may only describe, list and get, on loopback when told so."""


class CloudCallFailed(TargetError):
    """The API answered with an unexpected error."""
