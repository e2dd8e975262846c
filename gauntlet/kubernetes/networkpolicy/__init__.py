"""Kubernetes NetworkPolicy probes."""
