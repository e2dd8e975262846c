"""Kubernetes node probes."""
