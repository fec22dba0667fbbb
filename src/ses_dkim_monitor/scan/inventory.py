"""SES inventory: every identity of one region with its DKIM and MAIL FROM state.

SES management calls are limited to about one request per second per
account and region, and a region holds up to 10,000 identities, so this
adapter never calls ``GetEmailIdentity`` per identity. The call budget per
region, for N identities of which D are domains:

* ``ListEmailIdentities``: ceil(N / 1000) calls (1,000 per page);
* ``GetIdentityDkimAttributes`` (v1): ceil(D / 100) calls;
* ``GetIdentityMailFromDomainAttributes`` (v1): ceil(D / 100) calls;
* ``GetEmailIdentity``: only for identities whose signing origin the batch
  calls cannot tell (DKIM tokens present but not the three of Easy DKIM) and,
  from the scan engine, to confirm ``SigningHostedZone`` before a CNAME is
  reported as pointing at the wrong target.

At 10,000 domains that is 10 + 100 + 100 = 210 calls, about 3.5 minutes at
1 request/s, where one GetEmailIdentity each would take 2.8 hours.
Throttling is left to botocore's ``adaptive`` retry mode (one retry policy
per layer).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import DENIED_CODES, error_code, error_message
from ..models import IdentityType, MailFrom, SesIdentity, SesStatus, SigningOrigin

log = logging.getLogger(__name__)

IAM_ACTIONS = (
    "ses:ListEmailIdentities",
    "ses:GetIdentityDkimAttributes",
    "ses:GetIdentityMailFromDomainAttributes",
    "ses:GetEmailIdentity",
)

DEFAULT_DKIM_ZONE = "dkim.amazonses.com"
# Regions whose Easy DKIM CNAMEs point into a zone of their own (AWS General
# Reference, "Amazon SES endpoints and quotas"). A prediction only: the engine
# confirms with GetEmailIdentity before it reports a wrong target, and learns
# a region's zone from that answer when this table is out of date.
REGIONAL_DKIM_ZONES = {
    region: f"dkim.{region}.amazonses.com"
    for region in (
        "af-south-1",
        "ap-northeast-3",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-5",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "il-central-1",
        "me-central-1",
        "us-gov-east-1",
    )
}

LIST_PAGE_SIZE = 1000
BATCH_SIZE = 100


def predicted_zone(region: str) -> str:
    return REGIONAL_DKIM_ZONES.get(region, DEFAULT_DKIM_ZONE)


class InventoryError(Exception):
    """The region's inventory could not be read: the scan is incomplete."""

    def __init__(self, region: str, reason: str):
        super().__init__(f"{region}: {reason}")
        self.region = region
        self.reason = reason


@dataclass(frozen=True)
class SigningDetail:
    """What GetEmailIdentity adds to the batch calls."""

    origin: str
    hosted_zone: str | None
    tokens: tuple[str, ...]
    status: SesStatus | None
    signing_enabled: bool


def _describe(region: str, exc: Exception) -> InventoryError:
    if isinstance(exc, ClientError):
        code, message = error_code(exc), error_message(exc)
        op = exc.operation_name
        if code in DENIED_CODES:
            return InventoryError(region, f"access denied to SES {op} ({code}: {message})".strip())
        return InventoryError(region, f"SES {op} failed ({code}: {message})")
    return InventoryError(region, f"SES unreachable ({type(exc).__name__}: {exc})")


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class SesInventory:
    """Reads one region's identities. Receives its clients; builds none."""

    def __init__(self, *, sesv2: Any, ses: Any, region: str):
        self._v2 = sesv2
        self._v1 = ses
        self.region = region
        self.calls: Counter[str] = Counter()

    def load(self) -> list[SesIdentity]:
        """List every identity and merge the batch attributes. Raises InventoryError."""
        try:
            listed = self._list()
            domains = [item["IdentityName"] for item in listed if item.get("IdentityType") == IdentityType.DOMAIN.value]
            dkim = self._batch("get_identity_dkim_attributes", "DkimAttributes", domains)
            mail_from = self._batch("get_identity_mail_from_domain_attributes", "MailFromDomainAttributes", domains)
        except (ClientError, BotoCoreError) as exc:
            raise _describe(self.region, exc) from exc

        identities: list[SesIdentity] = []
        for item in listed:
            name = item["IdentityName"]
            try:
                kind = IdentityType(item.get("IdentityType", ""))
            except ValueError:
                # MANAGED_DOMAIN and future types carry no DKIM of the account's own.
                log.info(
                    "skipping identity of unhandled type",
                    extra={"identity": name, "region": self.region, "identity_type": item.get("IdentityType")},
                )
                continue
            base = dict(
                name=name,
                region=self.region,
                type=kind,
                verification_status=SesStatus.parse(item.get("VerificationStatus")),
                sending_enabled=bool(item.get("SendingEnabled", False)),
            )
            if kind is IdentityType.EMAIL_ADDRESS:
                identities.append(SesIdentity(**base))
                continue
            attrs = dkim.get(name)
            if attrs is None:
                # Listed, then gone before the batch call: deleted meanwhile.
                log.info(
                    "identity vanished between list and get; skipped", extra={"identity": name, "region": self.region}
                )
                continue
            identity = SesIdentity(
                **base,
                dkim_enabled=bool(attrs.get("DkimEnabled", False)),
                dkim_status=SesStatus.parse(attrs.get("DkimVerificationStatus")),
                dkim_tokens=tuple(attrs.get("DkimTokens") or ()),
                signing_hosted_zone=predicted_zone(self.region),
                mail_from=_mail_from(mail_from.get(name)),
            )
            if self._needs_detail(identity):
                detail = self.signing_detail(name)
                if detail is None:
                    continue
                identity = with_signing_detail(identity, detail)
            identities.append(identity)
        return identities

    @staticmethod
    def _needs_detail(identity: SesIdentity) -> bool:
        # Easy DKIM always has three tokens; anything else (a BYODKIM selector,
        # or tokens missing while DKIM is under way) needs the origin from v2.
        return len(identity.dkim_tokens) not in (0, 3) or (
            not identity.dkim_tokens and identity.dkim_status not in (None, SesStatus.NOT_STARTED)
        )

    def signing_detail(self, name: str) -> SigningDetail | None:
        """GetEmailIdentity for one identity; None if it was deleted meanwhile."""
        try:
            self.calls["GetEmailIdentity"] += 1
            response = self._v2.get_email_identity(EmailIdentity=name)
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                log.info(
                    "identity vanished between list and get; skipped", extra={"identity": name, "region": self.region}
                )
                return None
            raise _describe(self.region, exc) from exc
        except BotoCoreError as exc:
            raise _describe(self.region, exc) from exc
        attrs = response.get("DkimAttributes") or {}
        return SigningDetail(
            origin=attrs.get("SigningAttributesOrigin") or SigningOrigin.EASY_DKIM.value,
            hosted_zone=(attrs.get("SigningHostedZone") or "").rstrip(".").lower() or None,
            tokens=tuple(attrs.get("Tokens") or ()),
            status=SesStatus.parse(attrs.get("Status")),
            signing_enabled=bool(attrs.get("SigningEnabled", False)),
        )

    def _list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"PageSize": LIST_PAGE_SIZE}
        seen_tokens: set[str] = set()
        while True:
            self.calls["ListEmailIdentities"] += 1
            page = self._v2.list_email_identities(**kwargs)
            items.extend(page.get("EmailIdentities", []))
            token = page.get("NextToken")
            if not token or token in seen_tokens:
                # A repeated token would loop forever; the list is complete or broken either way.
                return items
            seen_tokens.add(token)
            kwargs["NextToken"] = token

    def _batch(self, method: str, key: str, names: list[str]) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        api = "".join(part.title() for part in method.split("_"))
        for chunk in _chunks(names, BATCH_SIZE):
            self.calls[api] += 1
            merged.update(getattr(self._v1, method)(Identities=chunk).get(key, {}))
        return merged


def _mail_from(attrs: dict[str, Any] | None) -> MailFrom | None:
    if not attrs or not attrs.get("MailFromDomain"):
        return None
    return MailFrom(
        domain=attrs["MailFromDomain"].rstrip(".").lower(),
        status=SesStatus.parse(attrs.get("MailFromDomainStatus")),
        behavior_on_mx_failure=attrs.get("BehaviorOnMXFailure"),
    )


def with_signing_detail(identity: SesIdentity, detail: SigningDetail) -> SesIdentity:
    """Merge GetEmailIdentity's answer; v2 is the authority where both speak."""
    from dataclasses import replace

    return replace(
        identity,
        signing_origin=detail.origin,
        signing_hosted_zone=detail.hosted_zone or identity.signing_hosted_zone,
        zone_confirmed=detail.hosted_zone is not None,
        dkim_tokens=detail.tokens or identity.dkim_tokens,
        dkim_status=detail.status or identity.dkim_status,
        dkim_enabled=detail.signing_enabled,
    )
