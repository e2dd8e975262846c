"""Errors raised by gauntlet.

The hierarchy keeps "you configured it wrong" apart from "the target deviated"
(Chaos Toolkit's ``InvalidExperiment`` vs ``ActivityFailed``)::

    GauntletError
    ├── ConfigError            invalid input: environment file, CLI argument (exit 2)
    ├── SafetyRefusal          an action the environment's policy forbids (exit 2)
    ├── RunError               a run could not gather its evidence: pytest ended without running the checks
    │                          (internal error, collection error, nothing collected); the run is marked error (exit 2)
    ├── LocalStackError        the local stack could not be set up or started
    ├── WaitTimeout            a wait of :func:`gauntlet.waiting.until` ran out of time
    ├── NotChecked             the question could not be asked or answered: no credentials,
    │                          access denied (RBAC, IAM), a control API that does not answer,
    │                          not implemented by an emulator
    └── TargetError            the target deviated from what was expected
        ├── ResourceMissing    the object the environment names is not there
        └── TargetUnreachable  the target itself gave no answer at all: refused, timed out, DNS

Checks turn :class:`NotChecked` into a skip (the claim says ``not-checked``, with the
reason), and so does a chaos run that meets one (:func:`gauntlet.chaos.verdict.not_checked`);
every :class:`TargetError` is a failure with its message; a
:class:`TargetUnreachable` also marks the result ``cause: unreachable``, which makes a
component that is down a finding rather than a violation of the service (:mod:`gauntlet.ledger`).
The cloud and Kubernetes probes add their own kinds (:mod:`gauntlet.cloud.errors`,
:mod:`gauntlet.kubernetes.errors`).
"""

from __future__ import annotations


class GauntletError(Exception):
    """Base class of every error gauntlet raises on purpose."""


class ConfigError(GauntletError):
    """Invalid configuration; the message names the file, the field and the expectation."""


class SafetyRefusal(GauntletError):
    """Refused before acting: the environment's policy does not allow it."""


class RunError(GauntletError):
    """A runner ended without running its checks; the message says which, why, and where the run folder is."""


class LocalStackError(GauntletError):
    """The local stack could not be installed, started or stopped."""


class WaitTimeout(GauntletError):
    """:func:`gauntlet.waiting.until` ran out of time; the message says what it waited for and how long."""


class TargetError(GauntletError):
    """The target answered, but not as the claim requires."""


class TargetUnreachable(TargetError):
    """The target did not answer: connection refused, timeout, name resolution."""


class ResourceMissing(TargetError):
    """The named resource does not exist where the environment says it is; ``code`` is the API's error code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class NotChecked(GauntletError):
    """The question could not be asked or was not answered; the message says why and what to do."""
