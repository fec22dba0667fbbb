"""The state stores: one contract, two adapters.

The contract tests run against the DynamoDB store (moto's server over HTTP)
and the in-memory store the decision tests use, so a test passing on the
fake means the same of the table. DynamoDB-only behaviour (item layout,
TTL, paging, errors) is tested on its own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from ses_dkim_monitor.alerts.dynamodb_store import IAM_ACTIONS, partition_key, sort_key
from ses_dkim_monitor.alerts.dynamodb_store import DynamoDbStateStore as StateStore
from ses_dkim_monitor.alerts.memory_store import InMemoryStateStore
from ses_dkim_monitor.alerts.model import AlertState, AlertStatus, Event
from ses_dkim_monitor.models import DnsRecord, Severity
from tests.support.alert_builders import ACCOUNT, REGION, T0, create_state_table


@pytest.fixture()
def dynamodb(moto):
    return boto3.client("dynamodb")


@pytest.fixture()
def dynamo_store(dynamodb) -> StateStore:
    return StateStore(dynamodb, create_state_table(dynamodb))


@pytest.fixture(params=["dynamodb", "memory"])
def store(request):
    """Each contract test runs once per adapter of the StateStore port."""
    if request.param == "memory":
        return InMemoryStateStore()
    return request.getfixturevalue("dynamo_store")


def a_state(**changes) -> AlertState:
    base = AlertState(
        account=ACCOUNT,
        region=REGION,
        identity="example.com",
        key="dkim-record-missing#abc",
        check="dkim-record-missing",
        severity=Severity.CRITICAL,
        message="abc._domainkey.example.com does not exist (NXDOMAIN)",
        fix="Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com",
        record=DnsRecord("abc._domainkey.example.com", "CNAME", "abc.dkim.amazonses.com"),
        first_seen=T0,
        last_seen=T0,
        version=1,
    )
    return replace(base, **changes)


def test_state_round_trips_with_every_field(store):
    state = a_state(
        last_notified=T0 + timedelta(minutes=1),
        reason="severity raised",
        unknown_runs=2,
        pending_event=Event.REMINDER,
        pending_since=T0,
        pending_channels=("slack",),
        delivered_channels=("sns",),
        announced_channels=("sns",),
        lease_owner="run-1",
        lease_until=T0 + timedelta(minutes=30),
    )
    assert store.write(state)

    assert store.load(ACCOUNT, REGION).states == [state]


def test_items_use_the_contract_keys(dynamo_store, dynamodb):
    store = dynamo_store
    store.write(a_state())

    item = dynamodb.get_item(
        TableName="alert-state",
        Key={"pk": {"S": f"{ACCOUNT}#{REGION}"}, "sk": {"S": "example.com#dkim-record-missing#abc"}},
    )["Item"]
    assert item["version"] == {"N": "1"} and "expires_at" not in item
    assert partition_key(ACCOUNT, REGION) == item["pk"]["S"]
    assert sort_key("example.com", "dkim-record-missing#abc") == item["sk"]["S"]


def test_resolved_item_expires_after_the_retention(dynamodb):
    store = StateStore(dynamodb, create_state_table(dynamodb), retention=timedelta(days=7))
    resolved_at = T0 + timedelta(hours=3)
    store.write(a_state(status=AlertStatus.RESOLVED, resolved_at=resolved_at, reason="identity deleted"))

    [item] = dynamodb.scan(TableName="alert-state")["Items"]
    assert int(item["expires_at"]["N"]) == int((resolved_at + timedelta(days=7)).timestamp())


def test_creating_the_same_state_twice_loses_the_second_time(store):
    assert store.write(a_state(message="first run"))
    assert not store.write(a_state(message="second run"))

    [kept] = store.load(ACCOUNT, REGION).states
    assert kept.message == "first run"


def test_write_from_a_stale_version_is_refused(store):
    store.write(a_state())
    assert store.write(a_state(version=2, message="run A"))

    assert not store.write(a_state(version=2, message="run B, decided from version 1"))
    assert not store.write(a_state(version=4, message="skipping a version"))
    [kept] = store.load(ACCOUNT, REGION).states
    assert (kept.version, kept.message) == (2, "run A")


def test_load_reads_only_the_account_and_region_asked_for(store):
    store.write(a_state())
    store.write(a_state(region="eu-west-1"))
    store.write(a_state(account="999999999999"))

    assert [(s.account, s.region) for s in store.load(ACCOUNT, REGION).states] == [(ACCOUNT, REGION)]
    assert store.load(ACCOUNT, "ap-south-1").states == []


def test_load_follows_every_page(dynamo_store, dynamodb):
    store = dynamo_store
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.Query", lambda **kw: calls.append("Query"))
    big = "x" * 40_000  # 30 items of ~40 kB exceed the 1 MB a Query page returns
    for n in range(30):
        assert store.write(a_state(identity=f"id{n:02d}.example.com", message=big))

    loaded = store.load(ACCOUNT, REGION).states

    assert len(loaded) == 30 and len(calls) >= 2


def test_errors_other_than_a_lost_race_are_raised(dynamodb):
    store = StateStore(dynamodb, "no-such-table")
    with pytest.raises(ClientError) as caught:
        store.write(a_state())
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_version_zero_is_not_a_writable_state(store):
    with pytest.raises(ValueError):
        store.write(a_state(version=0))


def test_iam_actions_are_exactly_the_calls_made(dynamo_store, dynamodb):
    store = dynamo_store
    seen: set[str] = set()
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **kw: seen.add(f"dynamodb:{model.name}"))

    store.write(a_state())
    store.write(a_state(version=2))
    store.load(ACCOUNT, REGION)

    assert seen == set(IAM_ACTIONS)
