"""Kubernetes hpa probes."""
