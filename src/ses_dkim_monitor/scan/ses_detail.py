"""What GetEmailIdentity adds to SES's batch calls, and how it is merged into an identity and remembered.

The batch calls (v1 ``GetIdentityDkimAttributes`` for 100 identities at a time)
do not say how an identity signs (Easy DKIM, its own key, a replica of
another region's), into which zone its CNAMEs point, or what SES last saw.
``GetEmailIdentity`` does, one identity per call: its answer is a
``SigningDetail``, merged with ``with_signing_detail`` (v2 is the authority
where both speak), and kept across runs as a ``zone_memory.RememberedDetail``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..models import SesIdentity, SesStatus, SigningOrigin
from .zone_memory import RememberedDetail


@dataclass(frozen=True)
class SigningDetail:
    """What GetEmailIdentity adds to the batch calls."""

    origin: str
    hosted_zone: str | None
    tokens: tuple[str, ...]
    status: SesStatus | None
    signing_enabled: bool
    verification_error: str | None = None
    verification_checked_at: str | None = None


def from_memo(memo: RememberedDetail) -> SigningDetail:
    """A remembered answer as the detail it was read as (what SES last saw when verifying is not kept)."""
    return SigningDetail(
        origin=memo.origin,
        hosted_zone=memo.zone,
        tokens=memo.tokens,
        status=SesStatus.parse(memo.status),
        signing_enabled=memo.signing_enabled,
    )


def signing_detail_of(response: dict[str, Any]) -> SigningDetail:
    """What GetEmailIdentity says about an identity's signing and verification."""
    attrs = response.get("DkimAttributes") or {}
    info = response.get("VerificationInfo") or {}
    checked = info.get("LastCheckedTimestamp")  # a datetime, parsed by botocore
    return SigningDetail(
        origin=attrs.get("SigningAttributesOrigin") or SigningOrigin.EASY_DKIM.value,
        hosted_zone=(attrs.get("SigningHostedZone") or "").rstrip(".").lower() or None,
        tokens=tuple(attrs.get("Tokens") or ()),
        status=SesStatus.parse(attrs.get("Status")),
        signing_enabled=bool(attrs.get("SigningEnabled", False)),
        verification_error=info.get("ErrorType") or None,
        verification_checked_at=checked.isoformat(timespec="seconds") if isinstance(checked, datetime) else None,
    )


def with_signing_detail(identity: SesIdentity, detail: SigningDetail) -> SesIdentity:
    """Merge GetEmailIdentity's answer; v2 is the authority where both speak."""
    return replace(
        identity,
        signing_origin=detail.origin,
        signing_hosted_zone=detail.hosted_zone or identity.signing_hosted_zone,
        zone_confirmed=detail.hosted_zone is not None,
        dkim_tokens=detail.tokens or identity.dkim_tokens,
        dkim_status=detail.status or identity.dkim_status,
        dkim_enabled=detail.signing_enabled,
        verification_error=detail.verification_error,
        verification_checked_at=detail.verification_checked_at,
    )
