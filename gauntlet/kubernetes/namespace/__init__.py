"""Kubernetes namespace probes."""
