"""Kubernetes pdb probes."""
