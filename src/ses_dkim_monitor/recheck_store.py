"""The state-table and queue adapters of event-driven re-checks (``rechecks`` composes them).

* ``IdentityIndex``: which identities each monitored (account, region) holds, as
  the last scheduled scan saw them: how a Route 53 change finds its identities.
* ``Debouncer``: one pending re-check per identity.
* ``RecheckBudget``: identity re-checks per source account and hour, so that no
  stream of events, however it was made, spends more of SES's quota than that;
  and identity looks per account looked at and hour, so that no job sent
  straight to the queue does either.
* ``RecheckQueue`` and ``change_in_sync``: the delayed jobs, and Route 53's
  ``GetChange``.

Each receives its client; nothing here builds one.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from .aws_errors import error_code
from .models import SesIdentity
from .triggers import jobs
from .triggers.affected import KnownIdentity

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = (
    "sqs:SendMessage",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
    "route53:GetChange",
)

INDEX_PARTITION = "index"
INDEX_PART_SIZE = 2000  # identities per index item: well under DynamoDB's 400 KB once compressed
INDEX_TTL = timedelta(days=7)  # an index no scheduled run has refreshed for a week is gone
DEBOUNCE_TTL = timedelta(days=1)
BUDGET_TTL = timedelta(days=1)  # an hour's counter is kept a day after its hour, then expires
LOOKS_PARTITION = "looks"  # the identity looks charged to the account a job looks at (rechecks.on_job)


class IdentityIndex:
    """Which identities each monitored (account, region) holds, as the last scheduled scan saw them.

    In the state table, partition ``index``, one item per (account, region)
    and part, its identities as compressed JSON. A Route 53 event names
    records, not identities: this is how it finds them without listing SES.
    """

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def write(self, account: str, region: str, identities: Sequence[SesIdentity], *, now: datetime) -> None:
        rows = [[i.name, i.domain, i.mail_from.domain if i.mail_from else None] for i in identities]
        generation = now.isoformat()
        parts = [rows[start : start + INDEX_PART_SIZE] for start in range(0, len(rows), INDEX_PART_SIZE)] or [[]]
        for number, part in enumerate(parts):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": INDEX_PARTITION},
                    "sk": {"S": f"{account}#{region}#{number:04d}"},
                    "generation": {"S": generation},
                    "parts": {"N": str(len(parts))},
                    "identities": {"B": zlib.compress(json.dumps(part).encode())},
                    "expires_at": {"N": str(int((now + INDEX_TTL).timestamp()))},
                },
            )

    def load(self) -> list[KnownIdentity]:
        """Every indexed identity; parts left over from a larger, older index are ignored."""
        items: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": INDEX_PARTITION}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                account, region, number = item["sk"]["S"].split("#")
                items.setdefault((account, region), {})[int(number)] = item
        known: list[KnownIdentity] = []
        for (account, region), parts in sorted(items.items()):
            head = parts.get(0)
            if head is None:
                continue
            for number in range(int(head["parts"]["N"])):
                part = parts.get(number)
                if part is None or part["generation"]["S"] != head["generation"]["S"]:
                    log.warning("identity index incomplete", extra={"account": account, "region": region})
                    break
                for name, domain, mail_from in json.loads(zlib.decompress(part["identities"]["B"])):
                    known.append(KnownIdentity(account, region, name, domain, mail_from))
        return known


class Debouncer:
    """One pending re-check per identity: a conditional write that only the first event of a burst wins."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    @staticmethod
    def _key(account: str, region: str, name: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"recheck#{account}#{region}"}, "sk": {"S": name.lower()}}

    def claim(self, account: str, region: str, name: str, *, now: datetime, until: datetime) -> bool:
        """True when no re-check of ``name`` is pending (this caller queues one); False: one already is."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **self._key(account, region, name),
                    "pending_until": {"N": str(int(until.timestamp()))},
                    "expires_at": {"N": str(int((until + DEBOUNCE_TTL).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR pending_until <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, account: str, region: str, name: str, *, now: datetime) -> None:
        """The look is starting: an event from now on needs a look of its own."""
        self._db.put_item(
            TableName=self._table,
            Item={
                **self._key(account, region, name),
                "pending_until": {"N": "0"},
                "expires_at": {"N": str(int((now + DEBOUNCE_TTL).timestamp()))},
            },
        )


class RecheckBudget:
    """Identity re-checks granted per source account and hour: one atomic counter per (account, hour).

    In the state table, partition ``budget#<account>`` (``looks#<account>`` for
    the looks a job's own account is charged, ``LOOKS_PARTITION``), sort key the
    UTC hour (``2026-11-28T10``). ``take`` adds what is asked to the hour's counter in
    one ``UpdateItem ... ADD`` (atomic, so concurrent invocations each see
    their own share) and grants what was left below ``per_hour`` before it. The
    counter keeps counting past the limit: it says how much was asked for.
    """

    def __init__(self, dynamodb: Any, table: str, *, per_hour: int, partition: str = "budget") -> None:
        self._db = dynamodb
        self._table = table
        self._per_hour = per_hour
        self._partition = partition

    @property
    def per_hour(self) -> int:
        return self._per_hour

    def take(self, account: str, cost: int, *, now: datetime) -> int:
        """How much of ``cost`` this hour still grants ``account`` (0 to ``cost``)."""
        if cost <= 0:
            return 0
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        response = self._db.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{self._partition}#{account}"}, "sk": {"S": hour.strftime("%Y-%m-%dT%H")}},
            UpdateExpression="ADD asked :cost SET expires_at = if_not_exists(expires_at, :expires)",
            ExpressionAttributeValues={
                ":cost": {"N": str(cost)},
                ":expires": {"N": str(int((hour + timedelta(hours=1) + BUDGET_TTL).timestamp()))},
            },
            ReturnValues="UPDATED_NEW",
        )
        before = int(response["Attributes"]["asked"]["N"]) - cost
        return max(0, min(cost, self._per_hour - before))


class RecheckQueue:
    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, job: jobs.RecheckJob, *, delay: int) -> None:
        self._sqs.send_message(
            QueueUrl=self._url, MessageBody=jobs.encode(job), DelaySeconds=max(0, min(delay, jobs.SQS_MAX_DELAY))
        )


def change_in_sync(route53: Any, change_id: str) -> bool:
    """True when every Route 53 server has the change (``INSYNC``)."""
    return bool(route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC")
