"""Alert state in DynamoDB, written only with optimistic locking.

Layout (see docs/architecture.md, "State table"): partition key ``pk`` = ``<account>#<region>``,
sort key ``sk`` = ``<identity>#<finding key>``, TTL attribute ``expires_at``
(epoch seconds) on resolved items only. One Query per region loads
everything a run needs.

Every write is a whole-item PutItem conditional on the version the writer
read (``attribute_not_exists(pk)`` for a new item). A write that loses the
race returns False instead of raising: the caller then knows another run got
there first and must not send the notification that write was claiming.

Items carry their layout's version in ``schema`` (items written before the
attribute existed have the layout of schema 1). ``load`` parses each item on
its own: one that cannot be read (corrupted, edited by hand, an old layout
without a migration) is logged, counted and skipped, and the next write of
that key replaces it, so one bad item never stops alerting for the rest.
An item of a newer schema (written by a newer version of the monitor) is
skipped but never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..aws_errors import error_code
from ..models import DnsRecord, Severity
from .model import AlertState, AlertStatus, Event
from .ports import Loaded

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("dynamodb:Query", "dynamodb:PutItem")

DEFAULT_RETENTION = timedelta(days=30)

SCHEMA = 1  # the item layout this code writes


class UnreadableItem(ValueError):
    """A stored item that is not a state this code can read."""


class NewerSchema(UnreadableItem):
    """An item written by a newer version of the monitor: left alone."""


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
        # (pk, sk) of unreadable items seen by load -> their raw "version" attribute (None if absent):
        # the next write of that key replaces the item on that condition.
        self._replaceable: dict[tuple[str, str], dict[str, Any] | None] = {}

    def load(self, account: str, region: str) -> Loaded:
        """Every readable state of one account and region (strongly consistent, all pages)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition_key(account, region)}},
            ConsistentRead=True,
        )
        states: list[AlertState] = []
        unreadable = 0
        for page in pages:
            for item in page.get("Items", []):
                try:
                    states.append(from_item(item))
                except UnreadableItem as error:
                    unreadable += 1
                    key = (_str(item, "pk"), _str(item, "sk"))
                    if not isinstance(error, NewerSchema):
                        self._replaceable[key] = item.get("version")
                    log.error(
                        "Unreadable alert state item skipped",
                        extra={
                            "pk": key[0],
                            "sk": key[1],
                            "error": str(error),
                            "replaced_on_next_write": key in self._replaceable,
                        },
                    )
        return Loaded(states, unreadable)

    def write(self, state: AlertState) -> bool:
        """Store ``state`` if the item is still at ``state.version - 1``.

        Returns False when another writer changed (or created) the item first.
        """
        if state.version < 1:
            raise ValueError("a state to write must carry its new version (>= 1)")
        item = to_item(state, retention=self._retention)
        request: dict[str, Any] = {"TableName": self._table, "Item": item}
        key = (item["pk"]["S"], item["sk"]["S"])
        if state.version == 1 and key in self._replaceable:
            # Replace the unreadable item load skipped, unless someone changed it since.
            old = self._replaceable[key]
            request["ExpressionAttributeNames"] = {"#version": "version"}
            if old is None:
                request["ConditionExpression"] = "attribute_exists(pk) AND attribute_not_exists(#version)"
            else:
                request["ConditionExpression"] = "#version = :old"
                request["ExpressionAttributeValues"] = {":old": old}
        elif state.version == 1:
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
        self._replaceable.pop(key, None)
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
        "schema": {"N": str(SCHEMA)},
    }
    optional = {
        "last_notified": _iso(state.last_notified) if state.last_notified else "",
        "resolved_at": _iso(state.resolved_at) if state.resolved_at else "",
        "reason": state.reason,
        "cause": state.cause,
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
    """The state an item holds, migrated from an older schema if need be. Raises UnreadableItem."""
    try:
        schema = int(item.get("schema", {"N": "1"})["N"])
    except (KeyError, TypeError, ValueError):
        raise UnreadableItem("schema attribute is not a number") from None
    if schema > SCHEMA:
        raise NewerSchema(f"item has schema {schema}; this version reads up to {SCHEMA}")
    reader = READERS.get(schema)
    if reader is None:
        raise UnreadableItem(f"no reader for schema {schema}")
    try:
        return reader(item)
    except UnreadableItem:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnreadableItem(f"{type(error).__name__}: {error}") from None


def _from_schema_1(item: dict[str, Any]) -> AlertState:
    def s(name: str) -> str:
        return item[name]["S"] if name in item else ""

    def moment(name: str) -> datetime | None:
        if name not in item:
            return None
        value = datetime.fromisoformat(item[name]["S"])
        if value.tzinfo is None:
            raise UnreadableItem(f"{name} has no time zone")
        return value

    def names(name: str) -> tuple[str, ...]:
        return tuple(v["S"] for v in item.get(name, {}).get("L", []))

    record = None
    if "record" in item:
        fields = item["record"]["M"]
        record = DnsRecord(fields["name"]["S"], fields["type"]["S"], fields["value"]["S"])
    first_seen = moment("first_seen")
    last_seen = moment("last_seen")
    if first_seen is None or last_seen is None:
        raise UnreadableItem("no first_seen/last_seen")
    for required in ("account", "region", "identity", "finding_key", "check"):
        if not s(required):
            raise UnreadableItem(f"no {required}")
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
        cause=s("cause"),
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


# Schema -> reader. A layout change adds a reader for the new schema and keeps
# the old ones (each returning today's AlertState), so old items migrate on read
# and are rewritten in the new layout by the next write.
READERS: dict[int, Callable[[dict[str, Any]], AlertState]] = {1: _from_schema_1}


def _str(item: dict[str, Any], name: str) -> str:
    value = item.get(name, {})
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _list(values: tuple[str, ...]) -> dict[str, Any]:
    # A list, not a string set: DynamoDB rejects empty sets and order is kept.
    return {"L": [_s(v) for v in values]}


def _iso(moment: datetime) -> str:
    return moment.isoformat()
