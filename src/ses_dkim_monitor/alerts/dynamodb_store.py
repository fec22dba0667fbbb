"""Alert state in DynamoDB, written only with optimistic locking.

Layout (see docs/architecture.md, "State table"): partition key ``pk`` = ``<account>#<region>``,
sort key ``sk`` = ``<identity>#<finding key>``, TTL attribute ``expires_at``
(epoch seconds) on resolved items only. One Query per region loads
everything a run needs.

Every write is a whole-item PutItem conditional on the version the writer
read (``attribute_not_exists(pk)`` for a new item). A write that loses the
race returns False instead of raising: the caller then knows another run got
there first and must not send the notification that write was claiming.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..aws_errors import error_code
from ..models import DnsRecord, Severity
from .model import AlertState, AlertStatus, Event

IAM_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:PutItem")

DEFAULT_RETENTION = timedelta(days=30)


class DynamoDbStateStore:
    """Loads and conditionally writes ``AlertState`` items (the ``StateStore`` port).

    ``retention`` is how long a resolved item is kept (through the table's
    TTL) so that a finding that comes back soon is recognised as a new
    episode with its history, and the table does not grow forever.
    """

    def __init__(self, client: Any, table_name: str, *, retention: timedelta = DEFAULT_RETENTION):
        self._client = client
        self._table = table_name
        self._retention = retention

    def load(self, account: str, region: str) -> list[AlertState]:
        """Every state of one account and region (strongly consistent, all pages)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition_key(account, region)}},
            ConsistentRead=True,
        )
        return [from_item(item) for page in pages for item in page.get("Items", [])]

    def write(self, state: AlertState) -> bool:
        """Store ``state`` if the item is still at ``state.version - 1``.

        Returns False when another writer changed (or created) the item first.
        """
        if state.version < 1:
            raise ValueError("a state to write must carry its new version (>= 1)")
        request: dict[str, Any] = {"TableName": self._table, "Item": to_item(state, retention=self._retention)}
        if state.version == 1:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "#version = :expected"
            request["ExpressionAttributeNames"] = {"#version": "version"}
            request["ExpressionAttributeValues"] = {":expected": {"N": str(state.version - 1)}}
        try:
            self._client.put_item(**request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def partition_key(account: str, region: str) -> str:
    return f"{account}#{region}"


def sort_key(identity: str, key: str) -> str:
    return f"{identity}#{key}"


def to_item(state: AlertState, *, retention: timedelta = DEFAULT_RETENTION) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) for a state."""
    item: dict[str, Any] = {
        "pk": _s(partition_key(state.account, state.region)),
        "sk": _s(sort_key(state.identity, state.key)),
        "account": _s(state.account),
        "region": _s(state.region),
        "identity": _s(state.identity),
        "finding_key": _s(state.key),
        "check": _s(state.check),
        "severity": _s(state.severity.value),
        "message": _s(state.message),
        "fix": _s(state.fix),
        "status": _s(state.status.value),
        "first_seen": _s(_iso(state.first_seen)),
        "last_seen": _s(_iso(state.last_seen)),
        "unknown_runs": {"N": str(state.unknown_runs)},
        "pending_channels": _list(state.pending_channels),
        "delivered_channels": _list(state.delivered_channels),
        "announced_channels": _list(state.announced_channels),
        "version": {"N": str(state.version)},
    }
    optional = {
        "last_notified": _iso(state.last_notified) if state.last_notified else "",
        "resolved_at": _iso(state.resolved_at) if state.resolved_at else "",
        "reason": state.reason,
        "pending_event": state.pending_event.value if state.pending_event else "",
        "pending_since": _iso(state.pending_since) if state.pending_since else "",
        "lease_owner": state.lease_owner,
        "lease_until": _iso(state.lease_until) if state.lease_until else "",
    }
    item.update({name: _s(value) for name, value in optional.items() if value})
    if state.record is not None:
        item["record"] = {
            "M": {"name": _s(state.record.name), "type": _s(state.record.type), "value": _s(state.record.value)}
        }
    if state.status is AlertStatus.RESOLVED:
        ended = state.resolved_at or state.last_seen
        item["expires_at"] = {"N": str(int((ended + retention).timestamp()))}
    return item


def from_item(item: dict[str, Any]) -> AlertState:
    def s(name: str) -> str:
        return item[name]["S"] if name in item else ""

    def moment(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]["S"]) if name in item else None

    def names(name: str) -> tuple[str, ...]:
        return tuple(v["S"] for v in item.get(name, {}).get("L", []))

    record = None
    if "record" in item:
        fields = item["record"]["M"]
        record = DnsRecord(fields["name"]["S"], fields["type"]["S"], fields["value"]["S"])
    first_seen = moment("first_seen")
    last_seen = moment("last_seen")
    if first_seen is None or last_seen is None:
        raise ValueError(f"state item {s('pk')}/{s('sk')} has no first_seen/last_seen")
    return AlertState(
        account=s("account"),
        region=s("region"),
        identity=s("identity"),
        key=s("finding_key"),
        check=s("check"),
        severity=Severity(s("severity")),
        message=s("message"),
        fix=s("fix"),
        record=record,
        status=AlertStatus(s("status")),
        first_seen=first_seen,
        last_seen=last_seen,
        last_notified=moment("last_notified"),
        resolved_at=moment("resolved_at"),
        reason=s("reason"),
        unknown_runs=int(item.get("unknown_runs", {"N": "0"})["N"]),
        pending_event=Event(s("pending_event")) if s("pending_event") else None,
        pending_since=moment("pending_since"),
        pending_channels=names("pending_channels"),
        delivered_channels=names("delivered_channels"),
        announced_channels=names("announced_channels"),
        lease_owner=s("lease_owner"),
        lease_until=moment("lease_until"),
        version=int(item["version"]["N"]),
    )


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _list(values: tuple[str, ...]) -> dict[str, Any]:
    # A list, not a string set: DynamoDB rejects empty sets and order is kept.
    return {"L": [_s(v) for v in values]}


def _iso(moment: datetime) -> str:
    return moment.isoformat()
