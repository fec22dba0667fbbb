"""What GetEmailIdentity confirmed about an identity's signing zone, remembered across runs.

Before a CNAME is reported as pointing at the wrong target, SES is asked
(GetEmailIdentity) where its Easy DKIM CNAMEs must really point: new regional
zones and Deterministic Easy DKIM legitimately point elsewhere. That costs
one SES call at about 1 request/s, and anyone who controls some domains' DNS
could make every run spend one per domain. So each answer is remembered,
keyed by the identity and its tokens (new tokens mean a new answer is
needed), and a run confirms at most a bounded number of new ones.

Two adapters: in memory (the CLI, tests) and in the state table under
partition ``zones#<account>#<region>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

IAM_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:PutItem")


@dataclass(frozen=True, slots=True)
class ConfirmedZone:
    identity: str
    tokens: str  # fingerprint of the DKIM tokens the answer was for
    zone: str | None  # SigningHostedZone (None: SES gave none)
    origin: str  # SigningAttributesOrigin


def tokens_fingerprint(tokens: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]


class ZoneMemory(Protocol):
    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]: ...

    def remember(self, account: str, region: str, zone: ConfirmedZone) -> None: ...


class InMemoryZoneMemory:
    def __init__(self) -> None:
        self.zones: dict[tuple[str, str], dict[str, ConfirmedZone]] = {}

    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]:
        return dict(self.zones.get((account, region), {}))

    def remember(self, account: str, region: str, zone: ConfirmedZone) -> None:
        self.zones.setdefault((account, region), {})[zone.identity] = zone


class DynamoDbZoneMemory:
    """Confirmed zones in the alert-state table, one item per identity (its own partition per shard)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def partition(account: str, region: str) -> str:
        return f"zones#{account}#{region}"

    def load(self, account: str, region: str) -> dict[str, ConfirmedZone]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.partition(account, region)}},
        )
        found: dict[str, ConfirmedZone] = {}
        for page in pages:
            for item in page.get("Items", []):
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
