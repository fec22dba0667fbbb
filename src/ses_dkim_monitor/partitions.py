"""AWS partitions as botocore knows them, and the host names that differ from one partition to another.

botocore's partition data (``partitions.json``) says which partition a region
belongs to (``aws``, ``aws-us-gov``, ``aws-cn``, ``aws-eusc``, the isolated
ones) and each partition's DNS suffix for API endpoints (``amazonaws.com``,
``amazonaws.com.cn``, ``amazonaws.eu``, ...). It does not name SES's mail
domain: ``amazonses.com`` is not an API endpoint, so no endpoint or partition
file of botocore holds it. AWS documents it (the MAIL FROM MX
``feedback-smtp.<region>.amazonses.com``, the Easy DKIM zones
``dkim[.<region>].amazonses.com``) for the partitions whose endpoints are
under ``amazonaws.com``: ``aws`` and ``aws-us-gov`` (``dkim.us-gov-east-1
.amazonses.com`` is in the General Reference's DKIM table). For the others
neither AWS's SES documentation nor botocore names it, so ``ses_mail_domain``
answers None there and the checks say they cannot verify, instead of holding a
MAIL FROM MX or a DKIM CNAME against a guessed host.

The console origins are not in botocore either. Sources: ``aws``, the AWS
General Reference, "AWS Management Console endpoints" (``<region>.console.aws
.amazon.com``); ``aws-us-gov``, the AWS GovCloud (US) User Guide
(``console.amazonaws-us-gov.com``); ``aws-cn``, the Amazon Web Services in
China documentation (``<region>.console.amazonaws.cn``); ``aws-eusc``, the AWS
European Sovereign Cloud endpoints reference as the AWS CLI's own ``aws
console`` command spells it (``<region>.console.amazonaws-eusc.eu``). A
partition with no public console (the isolated ones) gets no link.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Partitions whose API endpoints live under this suffix send and sign mail as amazonses.com.
_SES_MAIL_DOMAINS = {"amazonaws.com": "amazonses.com"}

_CONSOLE_ORIGINS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
    "aws-cn": "https://{region}.console.amazonaws.cn",
    "aws-eusc": "https://{region}.console.amazonaws-eusc.eu",
}


@cache
def _partitions() -> tuple[dict[str, Any], ...]:
    import botocore.session  # at first use, never at import: nothing here runs before a composition root

    data = botocore.session.get_session().get_data("partitions")
    return tuple(data.get("partitions", ()))


def partition_of(region: str) -> str | None:
    """The partition ``region`` belongs to (``aws``, ``aws-eusc``, ...), or None when botocore does not know it."""
    parts = _partitions()
    for part in parts:
        if region in part.get("regions", {}):
            return str(part["id"])
    for part in parts:
        pattern = part.get("regionRegex")
        if pattern and re.fullmatch(pattern, region):
            return str(part["id"])
    return None


def dns_suffix(region: str) -> str | None:
    """The DNS suffix of the region's partition for API endpoints (``amazonaws.com``, ``amazonaws.eu``...)."""
    name = partition_of(region)
    for part in _partitions():
        if part["id"] == name:
            return str(part.get("outputs", {}).get("dnsSuffix") or "") or None
    return None


def ses_mail_domain(region: str) -> str | None:
    """SES's own mail domain in the region's partition (``amazonses.com``), or None where it is not known."""
    suffix = dns_suffix(region)
    return _SES_MAIL_DOMAINS.get(suffix) if suffix else None


def feedback_host(region: str) -> str | None:
    """The MX host a custom MAIL FROM domain must name in ``region``; None where SES's mail domain is not known."""
    domain = ses_mail_domain(region)
    return f"feedback-smtp.{region}.{domain}" if domain else None


_FEEDBACK_EXCHANGE = re.compile(r"feedback-smtp\.([a-z0-9-]+)\.amazonses\.com")


def feedback_region(exchange: str) -> str | None:
    """The region whose SES feedback host ``exchange`` is (``feedback-smtp.<region>.amazonses.com``, any case,
    with or without its dot); None for any other host: a name that receives mail."""
    match = _FEEDBACK_EXCHANGE.fullmatch(exchange.strip().rstrip(".").lower())
    return match.group(1) if match else None


def console_origin(region: str) -> str | None:
    """The AWS console's origin for ``region`` (scheme and host), or None for a partition without a public console."""
    template = _CONSOLE_ORIGINS.get(partition_of(region) or "")
    return template.format(region=region) if template else None
