"""SES inventory: every identity of one (account, region) shard with its DKIM and MAIL FROM state.

SES management calls are limited to about one request per second per
account and region, and a region holds up to 10,000 identities, so this
adapter never calls ``GetEmailIdentity`` per identity. The call budget per
shard, for N identities of which D are domains:

* ``ListEmailIdentities``: ceil(N / 1000) calls (1,000 per page);
* ``GetIdentityDkimAttributes`` (v1): ceil(D / 100) calls;
* ``GetIdentityMailFromDomainAttributes`` (v1): ceil(D / 100) calls;
* ``GetEmailIdentity``: only where the batch calls cannot tell (a token set
  that is not Easy DKIM's three, or a domain v1 shows without tokens: a
  legacy domain verified by TXT, or one with its own key), at most the
  ledger's cap of new ones per run, each answer remembered across runs
  (``zone_memory.DetailLedger``); and, from the engine, to confirm a signing
  zone before a fix or a wrong target is reported from a prediction (capped
  per run, remembered across runs).

At 10,000 domains that is 10 + 100 + 100 = 210 calls, about 3.5 minutes at
1 request/s, where one GetEmailIdentity each would take 2.8 hours. The
clients it receives are paced (scan/pacer.py); botocore's adaptive retries
are the safety net. ``stream`` yields identities a batch of 100 domains at a
time, so the DNS work on the first batch starts while SES is still being
read, and stops at the deadline.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import DENIED_CODES, error_code, error_message
from ..models import IdentityType, MailFrom, SesIdentity, SesStatus
from ..partitions import ses_mail_domain
from .deadline import Deadline
from .ses_detail import SigningDetail, from_memo, signing_detail_of, with_signing_detail
from .zone_memory import DetailLedger, RememberedDetail, v1_shape

log = logging.getLogger(__name__)

IAM_ACTIONS = (
    "ses:ListEmailIdentities",
    "ses:GetIdentityDkimAttributes",
    "ses:GetIdentityMailFromDomainAttributes",
    "ses:GetEmailIdentity",
)

# Regions whose Easy DKIM CNAMEs point into a zone of their own (AWS General
# Reference, "Amazon SES endpoints and quotas"); the others use dkim.<SES's mail
# domain> of their partition (partitions.py). A prediction only: the engine
# confirms with GetEmailIdentity before it reports a wrong target or prints a
# fix built from it, and learns a region's zone from that answer.
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


def predicted_zone(region: str) -> str | None:
    """The Easy DKIM zone SES most likely uses in ``region``; None where its partition's SES domain is unknown."""
    domain = ses_mail_domain(region)
    if domain is None:
        return None
    return REGIONAL_DKIM_ZONES.get(region, f"dkim.{domain}")


class InventoryError(Exception):
    """The shard's inventory could not be read: the scan of it is incomplete."""

    def __init__(self, region: str, reason: str, *, account: str = ""):
        super().__init__(f"{region}: {reason}")
        self.region = region
        self.reason = reason
        self.account = account


class OutOfTime(Exception):
    """The deadline passed while reading the inventory.

    ``listed`` is False when even the list of identities is incomplete (the
    shard cannot be reported); otherwise ``unfinished`` holds the identities
    known from the list but not read in detail.
    """

    def __init__(self, *, listed: bool, unfinished: list[SesIdentity]):
        super().__init__("out of time")
        self.listed = listed
        self.unfinished = unfinished


def _describe(region: str, account: str, exc: Exception) -> InventoryError:
    if isinstance(exc, ClientError):
        code, message = error_code(exc), error_message(exc)
        op = exc.operation_name
        if code in DENIED_CODES:
            reason = f"access denied to SES {op} ({code}: {message})".strip()
        else:
            reason = f"SES {op} failed ({code}: {message})"
    else:
        reason = f"SES unreachable ({type(exc).__name__}: {exc})"
    return InventoryError(region, reason, account=account)


class SesInventory:
    """Reads one shard's identities. Receives its clients; builds none."""

    def __init__(self, *, sesv2: Any, ses: Any, region: str, account: str = "", ledger: DetailLedger | None = None):
        self._v2 = sesv2
        self._v1 = ses
        self.region = region
        self.account = account
        self.calls: Counter[str] = Counter()
        # What earlier runs read and the calls left under the cap; None reads every detail needed (no cap).
        self.ledger = ledger

    def load(self) -> list[SesIdentity]:
        """Every identity at once (no deadline). Raises InventoryError."""
        return [ident for batch in self.stream(Deadline.never()) for ident in batch]

    def stream(self, deadline: Deadline) -> Iterator[list[SesIdentity]]:
        """Identities in batches: the email addresses first, then 100 domains at a time.

        Raises InventoryError when SES cannot be read, OutOfTime when the
        deadline passes (before any further SES call).
        """
        try:
            listed = self._list(deadline)
        except (ClientError, BotoCoreError) as exc:
            raise _describe(self.region, self.account, exc) from exc
        emails: list[SesIdentity] = []
        domains: list[SesIdentity] = []
        for item in listed:
            base = self._base(item)
            if base is None:
                continue
            (emails if base.type is IdentityType.EMAIL_ADDRESS else domains).append(base)
        if emails:
            yield emails
        for start in range(0, len(domains), BATCH_SIZE):
            chunk = domains[start : start + BATCH_SIZE]
            if deadline.passed():
                raise OutOfTime(listed=True, unfinished=domains[start:])
            try:
                yield self._detail(chunk, deadline)
            except (ClientError, BotoCoreError) as exc:
                raise _describe(self.region, self.account, exc) from exc

    def targeted(self, names: Sequence[str], deadline: Deadline) -> Iterator[list[SesIdentity]]:
        """Only the named identities, for an event-driven re-check: no listing of the region.

        One ``GetEmailIdentity`` per name (the authority on type, status and
        signing), then the same two v1 batch calls as a full scan, naming only
        these domains, so a re-check and the hourly scan read MAIL FROM and
        tokens the same way and cannot disagree. A name SES does not know
        (deleted) is left out. Raises like ``stream``.
        """
        details: dict[str, tuple[SesIdentity, SigningDetail]] = {}
        for name in dict.fromkeys(names):
            if deadline.passed():
                raise OutOfTime(listed=False, unfinished=[])
            try:
                found = self._get(name)
            except (ClientError, BotoCoreError) as exc:
                raise _describe(self.region, self.account, exc) from exc
            if found is not None:
                details[found[0].name] = found
        emails = [base for base, _ in details.values() if base.type is IdentityType.EMAIL_ADDRESS]
        domains = [base for base, _ in details.values() if base.type is IdentityType.DOMAIN]
        if emails:
            yield emails
        known = {n: d for n, (_, d) in details.items()}
        for start in range(0, len(domains), BATCH_SIZE):
            try:
                yield self._detail(domains[start : start + BATCH_SIZE], Deadline.never(), known=known)
            except (ClientError, BotoCoreError) as exc:
                raise _describe(self.region, self.account, exc) from exc

    def _get(self, name: str) -> tuple[SesIdentity, SigningDetail] | None:
        """GetEmailIdentity's answer as a listed identity plus its signing detail; None when SES does not know it."""
        self.calls["GetEmailIdentity"] += 1
        try:
            response = self._v2.get_email_identity(EmailIdentity=name)
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                return None
            raise
        base = self._base(
            {
                "IdentityName": name,
                "IdentityType": response.get("IdentityType", ""),
                "VerificationStatus": response.get("VerificationStatus"),
                "SendingEnabled": response.get("VerifiedForSendingStatus", False),
            }
        )
        return None if base is None else (base, signing_detail_of(response))

    def _base(self, item: dict[str, Any]) -> SesIdentity | None:
        name = item["IdentityName"]
        try:
            kind = IdentityType(item.get("IdentityType", ""))
        except ValueError:
            # MANAGED_DOMAIN and future types carry no DKIM of the account's own.
            log.info(
                "skipping identity of unhandled type",
                extra={"identity": name, "region": self.region, "identity_type": item.get("IdentityType")},
            )
            return None
        return SesIdentity(
            name=name,
            region=self.region,
            account=self.account,
            type=kind,
            verification_status=SesStatus.parse(item.get("VerificationStatus")),
            sending_enabled=bool(item.get("SendingEnabled", False)),
        )

    def _detail(
        self, chunk: list[SesIdentity], deadline: Deadline, known: dict[str, SigningDetail] | None = None
    ) -> list[SesIdentity]:
        """The chunk with v1's DKIM and MAIL FROM attributes; ``known`` holds GetEmailIdentity answers already read."""
        known = known or {}
        names = [ident.name for ident in chunk]
        dkim = self._batch("get_identity_dkim_attributes", "DkimAttributes", names)
        mail_from = self._batch("get_identity_mail_from_domain_attributes", "MailFromDomainAttributes", names)
        found: list[SesIdentity] = []
        for base in chunk:
            attrs = dkim.get(base.name)
            identity = replace(
                base,
                dkim_enabled=bool((attrs or {}).get("DkimEnabled", False)),
                dkim_status=SesStatus.parse((attrs or {}).get("DkimVerificationStatus")),
                dkim_tokens=tuple((attrs or {}).get("DkimTokens") or ()),
                signing_hosted_zone=predicted_zone(self.region),
                mail_from=_mail_from(mail_from.get(base.name)),
            )
            needed = attrs is None or self._needs_detail(identity)
            if base.name in known:
                identity = with_signing_detail(identity, known[base.name])
                if needed:
                    self._remember(base.name, attrs, known[base.name])
            elif needed:
                if deadline.passed():
                    found.append(identity)  # the engine reports it from what the batch calls said
                    continue
                # Not in v1's answer (deleted meanwhile, or a shape v1 does not describe), or v1 and
                # the v2 list disagree: GetEmailIdentity is the authority (read now, or remembered).
                detail = self._read_detail(base.name, attrs)
                if detail is _GONE:
                    continue
                if isinstance(detail, SigningDetail):
                    identity = with_signing_detail(identity, detail)
            found.append(identity)
        return found

    def _read_detail(self, name: str, attrs: dict[str, Any] | None) -> SigningDetail | object | None:
        """GetEmailIdentity's answer: remembered, read within the cap, or None (not read: the ledger says so)."""
        ledger = self.ledger
        if ledger is None:
            return self.signing_detail(name) or _GONE
        memo = ledger.recall(name, v1_shape(attrs))
        if memo is not None and ledger.fresh(memo):
            return from_memo(memo)
        if ledger.spend():
            detail = self.signing_detail(name)
            if detail is None:
                return _GONE
            self._remember(name, attrs, detail)
            return detail
        if memo is not None:
            return from_memo(memo)  # older than a week, and no call left: still SES's last word
        ledger.unfetched[name] = "absent" if attrs is None else "partial"
        return None

    def _remember(self, name: str, attrs: dict[str, Any] | None, detail: SigningDetail) -> None:
        if self.ledger is None:
            return
        self.ledger.remember(
            RememberedDetail(
                identity=name,
                shape=v1_shape(attrs),
                origin=detail.origin,
                zone=detail.hosted_zone,
                tokens=detail.tokens,
                status=detail.status.value if detail.status else None,
                signing_enabled=detail.signing_enabled,
                read_at=self.ledger.now,
            )
        )

    @staticmethod
    def _needs_detail(identity: SesIdentity) -> bool:
        """True when the batch answer cannot be the whole story for this domain.

        Easy DKIM always has three tokens; bring-your-own DKIM may come back
        from v1 either with its selector as the one token or as NotStarted
        without tokens (v1's behaviour for it is undocumented), and a domain
        the v2 list calls verified cannot have DKIM NotStarted without tokens
        under Easy DKIM.
        """
        tokens, status = identity.dkim_tokens, identity.dkim_status
        if len(tokens) not in (0, 3):
            return True
        if not tokens and status not in (None, SesStatus.NOT_STARTED):
            return True
        return not tokens and identity.verification_status is SesStatus.SUCCESS

    def signing_detail(self, name: str) -> SigningDetail | None:
        """GetEmailIdentity for one identity; None if it was deleted meanwhile. Raises InventoryError."""
        try:
            self.calls["GetEmailIdentity"] += 1
            response = self._v2.get_email_identity(EmailIdentity=name)
        except ClientError as exc:
            if error_code(exc) == "NotFoundException":
                log.info(
                    "identity vanished between list and get; skipped", extra={"identity": name, "region": self.region}
                )
                return None
            raise _describe(self.region, self.account, exc) from exc
        except BotoCoreError as exc:
            raise _describe(self.region, self.account, exc) from exc
        return signing_detail_of(response)

    def _list(self, deadline: Deadline) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"PageSize": LIST_PAGE_SIZE}
        seen_tokens: set[str] = set()
        while True:
            if deadline.passed():
                raise OutOfTime(listed=False, unfinished=[])
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
        api = "".join(part.title() for part in method.split("_"))
        self.calls[api] += 1
        response: dict[str, dict[str, Any]] = getattr(self._v1, method)(Identities=names).get(key, {})
        return response


_GONE = object()  # GetEmailIdentity says the identity no longer exists


def _mail_from(attrs: dict[str, Any] | None) -> MailFrom | None:
    if not attrs or not attrs.get("MailFromDomain"):
        return None
    return MailFrom(
        domain=attrs["MailFromDomain"].rstrip(".").lower(),
        status=SesStatus.parse(attrs.get("MailFromDomainStatus")),
        behavior_on_mx_failure=attrs.get("BehaviorOnMXFailure"),
    )
