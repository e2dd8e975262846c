"""Kubernetes service probes."""
