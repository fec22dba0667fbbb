"""Record parsers shared by the DNS probe and the checks (checkdmarc's split).

Pure functions over record text: no DNS, no SES. The probe uses them to know
when a walk has found what it looks for; the checks use them to judge what
was found.
"""

from __future__ import annotations

import base64
import binascii


def dkim_tags(txt: str) -> dict[str, str]:
    """The tag list of RFC 6376 section 3.6.1, whitespace removed from values; first of a repeated tag wins."""
    tags: dict[str, str] = {}
    for part in txt.split(";"):
        tag, sep, value = part.partition("=")
        if sep:
            tags.setdefault(tag.strip().lower(), "".join(value.split()))
    return tags


def parse_dkim_key(txt: str) -> str | None:
    """Return the ``p=`` value of a DKIM key record if it holds a usable key.

    ``v=``, when present, must be ``DKIM1``. An empty ``p=`` (a revoked key or
    a rotation placeholder) and a value that is not base64 return None.
    """
    tags = dkim_tags(txt)
    if "v" in tags and tags["v"] != "DKIM1":
        return None
    key = tags.get("p", "")
    if not key:
        return None
    try:
        decoded = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if decoded else None


def is_dmarc_record(txt: str) -> bool:
    return txt.lower().startswith("v=dmarc1")


def spf_records(txts: tuple[str, ...] | list[str]) -> list[str]:
    return [v for v in txts if v.lower().startswith("v=spf1")]


def spf_authorises_ses(spf: str) -> bool:
    return "include:amazonses.com" in spf.lower()
