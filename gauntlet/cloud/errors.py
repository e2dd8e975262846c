"""Errors of the cloud probes, placed in gauntlet's hierarchy (:mod:`gauntlet.exceptions`)::

    GauntletError
    ├── ConfigError
    │   └── CloudConfigError     the environment's AWS identifiers are malformed (a bad ARN)
    ├── SafetyRefusal
    │   └── ReadOnlyViolation    a probe tried an AWS operation that is not Describe*/List*/Get*,
    │                            or a loopback-only client tried to leave loopback
    └── TargetError
        ├── ResourceMissing      the resource the environment names is not there (in that region)
        ├── CloudCallFailed      the API answered with an error that is none of the others
        └── TargetUnreachable
            └── NotChecked       the API could not answer the question: no credentials, access denied,
                                 throttled after retries, endpoint unreachable, operation not implemented

Checks turn :class:`NotChecked` into a skip (the claim's verdict says ``not-checked``
with the reason) and every other error into a failure with its message.
"""

from __future__ import annotations

from gauntlet.exceptions import ConfigError, SafetyRefusal, TargetError, TargetUnreachable


class CloudConfigError(ConfigError):
    """An AWS identifier of the environment cannot be used as given."""


class ReadOnlyViolation(SafetyRefusal):
    """Refused before sending: the probes may only describe, list and get, on loopback when told so."""


class ResourceMissing(TargetError):
    """The named resource does not exist where the environment says it is; ``code`` is the API's error code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class CloudCallFailed(TargetError):
    """The API answered with an unexpected error."""


class NotChecked(TargetUnreachable):
    """The question could not be asked or was not answered; the message says why."""
