"""Shards for tests: SES clients of moto's default account, as the composition roots build them (minus pacing)."""

from __future__ import annotations

from collections.abc import Sequence

import boto3

from ses_dkim_monitor.aws_clients import CLIENT_CONFIG
from ses_dkim_monitor.scan.engine import Shard
from tests.support.ses_world import ACCOUNT_ID


def shards(regions: Sequence[str] = ("us-east-1",), *, account: str = ACCOUNT_ID, session=None) -> list[Shard]:
    session = session or boto3.Session()
    return [
        Shard(
            account=account,
            region=region,
            sesv2=session.client("sesv2", region_name=region, config=CLIENT_CONFIG),
            ses=session.client("ses", region_name=region, config=CLIENT_CONFIG),
        )
        for region in regions
    ]
