"""Kubernetes workload probes."""
