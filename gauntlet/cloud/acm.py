"""ACM probes: a certificate, in the region its ARN names."""

from __future__ import annotations

import re

from chaoslib.types import Configuration, Secrets

from gauntlet.cloud.errors import CloudConfigError
from gauntlet.cloud.session import call, client, jsonable

_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$")

#: moto 5.2 answers this for every certificate, issued by ACM or imported.
MOTO_RENEWAL_ELIGIBILITY = ("moto answers RenewalEligibility INELIGIBLE for every certificate: it does not model ACM "
                            "managed renewal, so this field proves nothing locally (type and DNS validation are checked "
                            "instead)")


def region_of_arn(certificate_arn: str) -> str:
    match = _ARN.match(certificate_arn)
    if not match:
        raise CloudConfigError(f"{certificate_arn!r}: expected an ACM certificate ARN "
                               "(arn:aws:acm:<region>:<account>:certificate/<id>)")
    return match.group(1)


def describe_certificate(certificate_arn: str, configuration: Configuration | None = None,
                         secrets: Secrets | None = None) -> dict:
    """``DescribeCertificate`` in the certificate's own region (CloudFront's are in us-east-1)."""
    acm = client("acm", configuration, secrets, region=region_of_arn(certificate_arn))
    answer = call(acm, "describe_certificate", resource=f"certificate {certificate_arn}", CertificateArn=certificate_arn)
    return jsonable(answer["Certificate"])
