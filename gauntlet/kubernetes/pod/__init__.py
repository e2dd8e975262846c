"""Kubernetes pod probes."""
