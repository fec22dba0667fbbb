"""Building boto3 clients: only the composition roots call this.

Endpoint, credentials and region come from the standard AWS environment
(``AWS_ENDPOINT_URL``, ``AWS_PROFILE``, ...), which boto3 reads itself, so
the monitor has no endpoint option of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# SES management calls are limited to about 1 request/s per region: the
# adaptive mode slows the client down when SES throttles instead of failing
# the scan. Timeouts keep an unreachable endpoint from eating the Lambda's
# whole budget.
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="ses-dkim-monitor",
)


def caller_account(session: boto3.Session) -> str:
    """The account the credentials belong to (STS needs no IAM permission for this)."""
    return caller_identity(session)[0]


def caller_identity(session: boto3.Session) -> tuple[str, str]:
    """(account, partition) of the credentials, from STS GetCallerIdentity."""
    identity = session.client("sts", config=CLIENT_CONFIG).get_caller_identity()
    arn = str(identity.get("Arn", ""))
    partition = arn.split(":")[1] if arn.count(":") >= 5 else "aws"
    return str(identity["Account"]), partition


def client_factory(session: boto3.Session) -> Callable[[str, str], Any]:
    """(service, region) -> client, one client per pair for the session's life."""

    @cache
    def client(service: str, region: str) -> Any:
        return session.client(service, region_name=region, config=CLIENT_CONFIG)

    return client
