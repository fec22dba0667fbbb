"""The fan-out path's surroundings in moto: the shard queue with its dead-letter queue, Lambda's SQS
event source played by the test, IAM enforcement for a role that cannot be assumed, and metric counts.

Lambda's SQS event source mapping (``FunctionResponseTypes: [ReportBatchItemFailures]``) receives a
batch, invokes the function with it, deletes the records the function did not list in
``batchItemFailures`` and leaves the others to come back once their visibility timeout ends; an
invocation that raises leaves every record of its batch. ``EventSource`` does exactly that against
moto's queue, receiving with ``VisibilityTimeout=0`` so a failed record is visible again at once:
the test drives every receive itself and never sleeps. SQS moves a message to the dead-letter
queue on the receive after its ``maxReceiveCount``-th, which moto does too.

moto lets anyone assume any role, existing or not, and never evaluates a trust policy of another
account. With its IAM enforcement on (``POST /moto-api/reset-auth``) it does evaluate the caller's
own identity policy, so a function identity whose policy does not allow ``sts:AssumeRole`` on one
role gets STS's ``AccessDenied`` for it: the same answer a member role with a missing or wrong trust
policy gives in AWS.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.support.lambda_runtime import emf_documents


@dataclass(frozen=True)
class ShardQueue:
    """A fan-out queue whose redrive policy sends a message to ``dlq_url`` after ``max_receive_count`` receives."""

    url: str
    arn: str
    dlq_url: str
    max_receive_count: int


def shard_queue(sqs: Any, name: str, *, max_receive_count: int = 2) -> ShardQueue:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    return ShardQueue(url=url, arn=_queue_arn(sqs, url), dlq_url=dlq_url, max_receive_count=max_receive_count)


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def lambda_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS event source hands the function (Lambda developer guide's shape)."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class Delivery:
    """One invocation by the event source: what it was given and what became of each record."""

    message_ids: list[str]
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    failed: set[str] = field(default_factory=set)

    @property
    def succeeded(self) -> set[str]:
        return set(self.message_ids) - self.failed


class EventSource:
    """Lambda's SQS event source mapping with ReportBatchItemFailures, driven by the test."""

    def __init__(self, sqs: Any, queue: ShardQueue, *, region: str = "us-east-1") -> None:
        self.sqs = sqs
        self.queue = queue
        self.region = region

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        """Up to ``max_messages`` visible messages; they are visible again at once (VisibilityTimeout=0)."""
        return self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])

    def deliver(self, messages: Sequence[dict[str, Any]], invoke: Callable[[dict[str, Any]], Any]) -> Delivery:
        """Invoke with one event of these messages; delete what succeeded, as the event source does."""
        event = {"Records": [lambda_record(m, queue_arn=self.queue.arn, region=self.region) for m in messages]}
        delivery = Delivery(message_ids=[m["MessageId"] for m in messages])
        try:
            delivery.result = invoke(event)
        except Exception as exc:  # a function error: Lambda returns the whole batch to the queue
            delivery.error = exc
            delivery.failed = set(delivery.message_ids)
        else:
            reported = (delivery.result or {}).get("batchItemFailures", [])
            delivery.failed = {item["itemIdentifier"] for item in reported}
        for message in messages:
            if message["MessageId"] not in delivery.failed:
                self.sqs.delete_message(QueueUrl=self.queue.url, ReceiptHandle=message["ReceiptHandle"])
        return delivery

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message in the dead-letter queue (left there: received with a long visibility timeout)."""
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue.dlq_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=600,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)


def metric_writes(stdout: str, name: str) -> int:
    """How many values of metric ``name`` the Embedded Metric Format documents in ``stdout`` carry."""
    count = 0
    for doc in emf_documents(stdout):
        names = {m["Name"] for directive in doc["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]}
        if name in names:
            value = doc[name]
            count += len(value) if isinstance(value, list) else 1
    return count


# -- IAM enforcement ------------------------------------------------------------------


def _reset_auth(endpoint: str, initial_no_auth_actions: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=initial_no_auth_actions.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@contextlib.contextmanager
def iam_enforced(endpoint: str) -> Iterator[None]:
    """Every request to moto is authenticated and authorised by IAM while the block runs."""
    _reset_auth(endpoint, "0")
    try:
        yield
    finally:
        _reset_auth(endpoint, "inf")  # the server is shared by the whole test session


def function_identity(iam: Any, *, name: str, assumable_roles: Sequence[str]) -> dict[str, str]:
    """An IAM user standing in for the function's execution role: the monitor's own services, and
    ``sts:AssumeRole`` on exactly ``assumable_roles``. Returns its access key (AccessKeyId, SecretAccessKey)."""
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sqs:*", "dynamodb:*", "sns:*", "ses:*", "organizations:ListAccounts"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": list(assumable_roles)},
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="monitor", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def member_role(session: boto3.Session, *, name: str, trusted_account: str) -> str:
    """The scan role in the account of ``session``, allowed the SES reads (templates/member-role.yaml's four).

    moto needs the role to exist once IAM is enforced: it reads the role's policies to authorise the
    calls made with its credentials. Returns the role ARN.
    """
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{trusted_account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    reads = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ses:ListEmailIdentities",
                    "ses:GetIdentityDkimAttributes",
                    "ses:GetIdentityMailFromDomainAttributes",
                    "ses:GetEmailIdentity",
                ],
                "Resource": "*",
            }
        ],
    }
    iam.put_role_policy(RoleName=name, PolicyName="ses-reads", PolicyDocument=json.dumps(reads))
    return str(arn)
