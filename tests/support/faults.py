"""Faults injected into moto's server, so the code under test meets them over HTTP as it would in AWS.

moto runs inside the test process (tests/conftest.py), so its backend
methods can be replaced for the duration of a ``with`` block; the client
sees a real error response with the service's error code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from moto.core.exceptions import JsonRESTError


@contextlib.contextmanager
def dynamodb_writes_fail(code: str = "ProvisionedThroughputExceededException") -> Iterator[list[str]]:
    """Every PutItem fails with ``code`` (HTTP 400, as DynamoDB answers throttling and AccessDenied).

    Yields a list that records each refused write's table name.
    """
    from moto.dynamodb.models import DynamoDBBackend

    refused: list[str] = []
    original = DynamoDBBackend.put_item

    def put_item(self, table_name, *args, **kwargs):
        refused.append(table_name)
        raise JsonRESTError(code, f"injected fault: {code}")

    DynamoDBBackend.put_item = put_item
    try:
        yield refused
    finally:
        DynamoDBBackend.put_item = original
