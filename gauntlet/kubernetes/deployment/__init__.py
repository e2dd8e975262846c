"""Kubernetes deployment probes and actions."""
