"""What the Lambda runtime gives a handler, and how to read back what it printed.

A small fake context (the fields Powertools and the handler read) and the
Embedded Metric Format documents Powertools prints to stdout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"

SCHEDULED = {
    "version": "0",
    "id": "1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": ACCOUNT_ID,
    "time": "2026-11-27T20:00:00Z",
    "region": "us-east-1",
    "resources": [f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/hourly"],
    "detail": {},
}


@dataclass
class FakeContext:
    function_name: str = "ses-dkim-monitor-MonitorFunction-1A2B3C"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:ses-dkim-monitor-MonitorFunction-1A2B3C"
    )
    aws_request_id: str = "0e7f5a52-0000-4000-8000-000000000000"
    remaining_ms: list[int] = field(default_factory=lambda: [900_000])

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms[0]


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The Embedded Metric Format documents Powertools printed."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{") and '"_aws"' in line]


def metric_values(stdout: str) -> dict[str, float]:
    """Metric name -> value over every EMF document in ``stdout`` (the last one wins)."""
    values: dict[str, float] = {}
    for doc in emf_documents(stdout):
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


def metric_sums(stdout: str) -> dict[str, float]:
    """Metric name -> the sum of every value in every EMF document in ``stdout`` (many invocations)."""
    sums: dict[str, float] = {}
    for doc in emf_documents(stdout):
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                sums[metric["Name"]] = sums.get(metric["Name"], 0) + sum(value if isinstance(value, list) else [value])
    return sums


def sqs_event(messages: list[dict[str, Any]], *, queue_arn: str = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:queue") -> dict:
    """The event Lambda's SQS poller hands the function for these received messages (ReceiveMessage shape)."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }
