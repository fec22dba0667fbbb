"""What GetEmailIdentity said about an identity, remembered across runs: its signing zone, and its detail.

Before a CNAME is reported as pointing at the wrong target, SES is asked
(GetEmailIdentity) where its Easy DKIM CNAMEs must really point: new regional
zones and Deterministic Easy DKIM legitimately point elsewhere. That costs
one SES call at about 1 request/s, and anyone who controls some domains' DNS
could make every run spend one per domain. So each answer is remembered,
keyed by the identity and its tokens (new tokens mean a new answer is
needed), and a run confirms at most a bounded number of new ones.

The same holds for identities the batch calls cannot describe (a legacy
domain verified by TXT comes back from v1 as NotStarted without tokens, and
so may one that signs with its own key): GetEmailIdentity's answer is
remembered (``RememberedDetail``) for the shape v1 gave, and read again when
v1's answer changes or after ``DETAIL_MAX_AGE``; ``DetailLedger`` holds one
shard's run: what earlier runs read, the calls left under the cap, and what
could not be read.

Two adapters: in memory (the CLI, tests) and in the state table under
partitions ``zones#<account>#<region>`` and ``details#<account>#<region>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:PutItem")

# A remembered detail is read again after a week (within the cap): a domain that moved to its own key while v1
# kept showing the same shape is caught within that time, and at once by a re-check after the SES call.
DETAIL_MAX_AGE = 7 * 86_400
DETAIL_TTL = 30 * 86_400  # the state table drops a detail no run refreshed for a month (the identity is gone)


@dataclass(frozen=True, slots=True)
class ConfirmedZone:
    identity: str
    tokens: str  # fingerprint of the DKIM tokens the answer was for
    zone: str | None  # SigningHostedZone (None: SES gave none)
    origin: str  # SigningAttributesOrigin


def tokens_fingerprint(tokens: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RememberedDetail:
    """GetEmailIdentity's answer for an identity whose batch answer (``shape``) did not tell the whole story."""

    identity: str
    shape: str  # fingerprint of v1's batch answer the detail was read for (``v1_shape``)
    origin: str  # SigningAttributesOrigin
    zone: str | None  # SigningHostedZone
    tokens: tuple[str, ...]
    status: str | None  # DkimAttributes.Status
    signing_enabled: bool
    read_at: float  # epoch seconds


def v1_shape(attrs: dict[str, Any] | None) -> str:
    """A fingerprint of v1's DKIM answer for one identity: a new answer means the remembered detail is stale."""
    if attrs is None:
        return "absent"
    seen = [bool(attrs.get("DkimEnabled")), attrs.get("DkimVerificationStatus"), list(attrs.get("DkimTokens") or [])]
    return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:16]


@dataclass
class DetailLedger:
    """One shard's run: details earlier runs read, GetEmailIdentity calls left under the cap, what was not read.

    ``unfetched`` maps each identity whose detail was needed and not read to
    ``absent`` (v1 left it out: nothing is known of its DKIM) or ``partial``
    (judged from the batch answers alone).
    """

    remembered: dict[str, RememberedDetail]
    budget: int
    now: float
    keep: Callable[[RememberedDetail], None] = lambda detail: None
    unfetched: dict[str, str] = field(default_factory=dict)

    def recall(self, identity: str, shape: str) -> RememberedDetail | None:
        found = self.remembered.get(identity)
        return found if found is not None and found.shape == shape else None

    def fresh(self, detail: RememberedDetail) -> bool:
        return self.now - detail.read_at < DETAIL_MAX_AGE

    def spend(self) -> bool:
        """Take one call from the cap; False when none is left."""
        if self.budget <= 0:
            return False
        self.budget -= 1
        return True

    def remember(self, detail: RememberedDetail) -> None:
        self.remembered[detail.identity] = detail
        try:
            self.keep(detail)
        except Exception as exc:  # remembering only saves later calls: never fail the scan for it
            log.warning("could not remember an identity's detail", extra={"error": type(exc).__name__})


class ZoneMemory(Protocol):
    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]: ...

    def remember(self, account: str, region: str, zone: ConfirmedZone) -> None: ...

    def load_details(self, account: str, region: str) -> dict[str, RememberedDetail]: ...

    def remember_detail(self, account: str, region: str, detail: RememberedDetail) -> None: ...


class InMemoryZoneMemory:
    def __init__(self) -> None:
        self.zones: dict[tuple[str, str], dict[str, ConfirmedZone]] = {}
        self.details: dict[tuple[str, str], dict[str, RememberedDetail]] = {}

    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]:
        return dict(self.zones.get((account, region), {}))

    def remember(self, account: str, region: str, zone: ConfirmedZone) -> None:
        self.zones.setdefault((account, region), {})[zone.identity] = zone

    def load_details(self, account: str, region: str) -> dict[str, RememberedDetail]:
        return dict(self.details.get((account, region), {}))

    def remember_detail(self, account: str, region: str, detail: RememberedDetail) -> None:
        self.details.setdefault((account, region), {})[detail.identity] = detail


class DynamoDbZoneMemory:
    """Confirmed zones in the alert-state table, one item per identity (its own partition per shard)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def partition(account: str, region: str) -> str:
        return f"zones#{account}#{region}"

    @staticmethod
    def details_partition(account: str, region: str) -> str:
        return f"details#{account}#{region}"

    def _items(self, pk: str) -> list[dict[str, Any]]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )
        return [item for page in pages for item in page.get("Items", [])]

    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]:
        found: dict[str, ConfirmedZone] = {}
        for item in self._items(self.partition(account, region)):
            try:
                zone = ConfirmedZone(
                    identity=item["sk"]["S"],
                    tokens=item["tokens"]["S"],
                    zone=item["zone"]["S"] or None,
                    origin=item["origin"]["S"],
                )
            except (KeyError, TypeError):
                continue  # not worth a run: it will be confirmed again
            found[zone.identity] = zone
        return found

    def remember(self, account: str, region: str, zone: ConfirmedZone) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": self.partition(account, region)},
                "sk": {"S": zone.identity},
                "tokens": {"S": zone.tokens},
                "zone": {"S": zone.zone or ""},
                "origin": {"S": zone.origin},
            },
        )

    def load_details(self, account: str, region: str) -> dict[str, RememberedDetail]:
        found: dict[str, RememberedDetail] = {}
        for item in self._items(self.details_partition(account, region)):
            try:
                detail = RememberedDetail(
                    identity=item["sk"]["S"],
                    shape=item["shape"]["S"],
                    origin=item["origin"]["S"],
                    zone=item["zone"]["S"] or None,
                    tokens=tuple(json.loads(item["tokens"]["S"])),
                    status=item["status"]["S"] or None,
                    signing_enabled=bool(item["enabled"]["BOOL"]),
                    read_at=float(item["read_at"]["N"]),
                )
            except (KeyError, TypeError, ValueError):
                continue  # read again when needed
            found[detail.identity] = detail
        return found

    def remember_detail(self, account: str, region: str, detail: RememberedDetail) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": self.details_partition(account, region)},
                "sk": {"S": detail.identity},
                "shape": {"S": detail.shape},
                "origin": {"S": detail.origin},
                "zone": {"S": detail.zone or ""},
                "tokens": {"S": json.dumps(list(detail.tokens))},
                "status": {"S": detail.status or ""},
                "enabled": {"BOOL": detail.signing_enabled},
                "read_at": {"N": str(int(detail.read_at))},
                "expires_at": {"N": str(int(detail.read_at + DETAIL_TTL))},
            },
        )
