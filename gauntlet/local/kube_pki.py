"""The cluster tier's PKI: its CA, the API server's serving certificate, one client certificate per
identity (CN the user, O the group) and the kubeconfigs, in ``cache_dir()/kube/``. Idempotent: what
exists is kept, so a restarted tier keeps trusting the same CA."""

from __future__ import annotations

import base64
from pathlib import Path

import trustme
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gauntlet.paths import cache_dir

HOST = "127.0.0.1"
CONTEXT = "gauntlet-local"
API_PORT = 6443
API_SERVER = f"https://{HOST}:{API_PORT}"


def kube_dir() -> Path:
    """PKI and the user's kubeconfig (``{cache}/kube``)."""
    return cache_dir() / "kube"


def kubeconfig_path() -> Path:
    """The admin kubeconfig with the ``gauntlet-local`` context (``{cache}/kube/kubeconfig``)."""
    return kube_dir() / "kubeconfig"


def pki_dir() -> Path:
    return kube_dir() / "pki"


#: client identity -> (common name, organisation); system:masters for the admin and kwok.
_CLIENTS: dict[str, tuple[str, str]] = {
    "admin": ("gauntlet-admin", "system:masters"),
    "kube-controller-manager": ("system:kube-controller-manager", "gauntlet-local"),
    "kube-scheduler": ("system:kube-scheduler", "gauntlet-local"),
    "kwok": ("system:kwok-controller", "system:masters"),
    # The real nodes' kube-proxy (bound to system:node-proxier by default) and the API server's client
    # for the kubelets (logs, exec, port-forward).
    "kube-proxy": ("system:kube-proxy", "gauntlet-local"),
    "kube-apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
}
_APISERVER_NAMES = ("localhost", HOST, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local", "10.96.0.1")


def load_ca(name: str = "ca", organization: str = "gauntlet local cluster CA") -> trustme.CA:
    ca_pem, ca_key = pki_dir() / f"{name}.pem", pki_dir() / f"{name}.key"
    if ca_pem.is_file() and ca_key.is_file():
        return trustme.CA.from_pem(ca_pem.read_bytes(), ca_key.read_bytes())
    ca = trustme.CA(organization_name=organization)
    pki_dir().mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_pem))
    ca.private_key_pem.write_to_path(str(ca_key))
    ca_key.chmod(0o600)
    return ca


def issue(ca: trustme.CA, name: str, *identities: str, cn: str, org: str | None = None) -> None:
    cert, key = pki_dir() / f"{name}.pem", pki_dir() / f"{name}.key"
    if cert.is_file() and key.is_file():
        return
    leaf = ca.issue_cert(*identities, common_name=cn, organization_name=org)
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)


def ensure_pki() -> None:
    """CA, serving certificate, one client certificate per identity, service-account keys. Idempotent."""
    ca = load_ca()
    issue(ca, "kube-apiserver", *_APISERVER_NAMES, cn="kube-apiserver")
    for name, (cn, org) in _CLIENTS.items():  # the SAN is a DNS name; the identity is CN and O
        issue(ca, name, f"{name}.gauntlet.localhost", cn=cn, org=org)
    # The aggregation layer's own CA and client (kubeadm's front-proxy-ca), for aggregated APIs such as metrics.
    front_proxy = load_ca("front-proxy-ca", "gauntlet local front-proxy CA")
    issue(front_proxy, "front-proxy-client", "front-proxy-client.gauntlet.localhost", cn="front-proxy-client")
    sa_key, sa_pub = pki_dir() / "sa.key", pki_dir() / "sa.pub"
    if not (sa_key.is_file() and sa_pub.is_file()):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        sa_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
        sa_key.chmod(0o600)
        sa_pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))


def kubeconfig(user: str, embed: bool) -> dict:
    ca, cert, key = pki_dir() / "ca.pem", pki_dir() / f"{user}.pem", pki_dir() / f"{user}.key"

    def ref(field: str, path: Path) -> dict:
        if embed:
            return {f"{field}-data": base64.b64encode(path.read_bytes()).decode()}
        return {field: str(path)}

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": API_SERVER, **ref("certificate-authority", ca)}}],
        "users": [{"name": f"{CONTEXT}-{user}",
                   "user": {**ref("client-certificate", cert), **ref("client-key", key)}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": f"{CONTEXT}-{user}"}}],
        "current-context": CONTEXT,
    }


def write_kubeconfigs(conf_dir: Path) -> Path:
    """The user's kubeconfig (certificates embedded) and one per control-plane component in ``conf_dir``; the user's."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    for user in ("kube-controller-manager", "kube-scheduler", "kwok"):
        (conf_dir / f"{user}.kubeconfig").write_text(yaml.safe_dump(kubeconfig(user, embed=False)))
    path = kubeconfig_path()
    path.write_text(yaml.safe_dump(kubeconfig("admin", embed=True)))
    path.chmod(0o600)
    return path
