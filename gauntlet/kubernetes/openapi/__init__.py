"""Kubernetes OpenAPI probes: the API server's own description of what it serves."""
