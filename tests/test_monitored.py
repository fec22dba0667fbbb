"""What a queue message may name: the targets the function derives from its own configuration (issue 18).

Organizations is moto's server over HTTP (an organization with member accounts, one of them closed);
the clock that decides when the organization is listed again is the test's.
"""

from __future__ import annotations

import boto3
import pytest

from ses_dkim_monitor import monitored
from ses_dkim_monitor.accounts import AccountError, AccountTarget
from ses_dkim_monitor.monitored import Monitored, Rejected
from ses_dkim_monitor.settings import Settings

OWN = "123456789012"  # moto's default account: the organization's management account here
ROLE = "ses-dkim-monitor-scan"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fresh_cache():
    monitored.clear_cache()
    yield
    monitored.clear_cache()


def settings(**env: str) -> Settings:
    return Settings.from_env({"SCAN_REGIONS": "us-east-1,eu-west-1", **env})


def rule_broken(check, *args) -> str:
    with pytest.raises(Rejected) as rejected:
        check(*args)
    return rejected.value.rule


def test_with_roles_a_shard_is_obeyed_only_for_a_configured_role_of_its_own_account_and_a_configured_region():
    a, b = "111111111111", "222222222222"
    config = settings(SCAN_ROLE_ARNS=f"arn:aws:iam::{a}:role/{ROLE},arn:aws:iam::{b}:role/{ROLE}")
    m = Monitored(config, boto3.Session(region_name="us-east-1"), own_account=OWN, partition="aws")

    target = m.shard(a, "eu-west-1", f"arn:aws:iam::{a}:role/{ROLE}")
    assert target == AccountTarget(a, f"arn:aws:iam::{a}:role/{ROLE}")
    assert rule_broken(m.shard, a, "eu-west-1", f"arn:aws:iam::{b}:role/{ROLE}") == "role-not-configured"
    assert rule_broken(m.shard, a, "eu-west-1", f"arn:aws:iam::{a}:role/other") == "role-not-configured"
    assert rule_broken(m.shard, a, "eu-west-1", None) == "role-not-configured"
    assert rule_broken(m.shard, "333333333333", "eu-west-1", None) == "account-not-monitored"
    assert rule_broken(m.shard, OWN, "eu-west-1", None) == "account-not-monitored", "only the roles' accounts"
    assert rule_broken(m.shard, a, "ap-southeast-2", f"arn:aws:iam::{a}:role/{ROLE}") == "region-not-configured"
    assert m.job(b, "us-east-1", None) == AccountTarget(b, f"arn:aws:iam::{b}:role/{ROLE}")
    assert rule_broken(m.job, b, "us-east-1", "333333333333") == "change-account-not-monitored"
    assert m.job(b, "us-east-1", a).account_id == b


def test_without_roles_only_the_functions_own_account_is_monitored_with_its_own_session():
    m = Monitored(settings(), boto3.Session(region_name="us-east-1"), own_account=OWN, partition="aws")

    assert m.shard(OWN, "us-east-1", None) == AccountTarget(OWN, None)
    assert rule_broken(m.shard, OWN, "us-east-1", f"arn:aws:iam::{OWN}:role/{ROLE}") == "role-not-configured"
    assert rule_broken(m.job, "111111111111", "us-east-1", None) == "account-not-monitored"
    assert m.target("111111111111") is None and m.target(OWN) == AccountTarget(OWN, None)


@pytest.fixture()
def organization(moto):
    """An organization managed from OWN with two ACTIVE members and one closed (SUSPENDED) member."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(AccountName=f"member{i}", Email=f"m{i}@example.com")["CreateAccountStatus"]["AccountId"]
        for i in range(3)
    ]
    org.close_account(AccountId=ids[2])
    return ids


def test_in_organization_mode_only_active_accounts_under_the_configured_role_name_are_obeyed(organization):
    member, other, closed = organization
    m = Monitored(
        settings(SCAN_ORGANIZATION_ROLE_NAME=ROLE),
        boto3.Session(region_name="us-east-1"),
        own_account=OWN,
        partition="aws",
    )

    assert m.shard(member, "us-east-1", f"arn:aws:iam::{member}:role/{ROLE}").role_arn == (
        f"arn:aws:iam::{member}:role/{ROLE}"
    )
    assert m.shard(OWN, "us-east-1", None) == AccountTarget(OWN, None, name=m.target(OWN).name), "no role at home"
    assert rule_broken(m.shard, OWN, "us-east-1", f"arn:aws:iam::{OWN}:role/{ROLE}") == "role-not-configured"
    assert rule_broken(m.shard, member, "us-east-1", f"arn:aws:iam::{other}:role/{ROLE}") == "role-not-configured"
    assert rule_broken(m.shard, member, "us-east-1", f"arn:aws-cn:iam::{member}:role/{ROLE}") == "role-not-configured"
    assert rule_broken(m.shard, member, "us-east-1", f"arn:aws:iam::{member}:role/Admin") == "role-not-configured"
    assert rule_broken(m.shard, closed, "us-east-1", f"arn:aws:iam::{closed}:role/{ROLE}") == "account-not-monitored"
    # A role of that name in an account outside the organization is never a target.
    outside = "999999999999"
    assert rule_broken(m.shard, outside, "us-east-1", f"arn:aws:iam::{outside}:role/{ROLE}") == "account-not-monitored"
    assert rule_broken(m.job, outside, "us-east-1", None) == "account-not-monitored"
    assert m.job(other, "eu-west-1", member).account_id == other


def test_the_organization_is_listed_once_per_cold_start_and_again_at_most_once_a_minute_for_an_unknown_account(
    organization,
):
    member = organization[0]
    session = boto3.Session(region_name="us-east-1")
    listed: list[str] = []
    session.events.register("before-call.organizations.ListAccounts", lambda **_: listed.append("ListAccounts"))
    clock = Clock()
    config = settings(SCAN_ORGANIZATION_ROLE_NAME=ROLE)

    def fresh() -> Monitored:  # each invocation builds its own; the listing is kept per process
        return Monitored(config, session, own_account=OWN, partition="aws", clock=clock)

    for _ in range(5):
        assert fresh().target(member) is not None
    assert len(listed) == 1

    # A forged account is not in the list: it may cause one more listing a minute, no more.
    for _ in range(5):
        assert fresh().target("999999999999") is None
    assert len(listed) == 1, "the list is fresh: no listing for an account not in it"
    clock.now += monitored.RELIST_AFTER_SECONDS
    for _ in range(5):
        assert fresh().target("999999999999") is None
    assert len(listed) == 2

    # An account added since the last listing is found once the list is that old.
    added = boto3.client("organizations", region_name="us-east-1").create_account(
        AccountName="new", Email="new@example.com"
    )["CreateAccountStatus"]["AccountId"]
    clock.now += monitored.RELIST_AFTER_SECONDS
    assert fresh().target(added) is not None
    # And a list older than its maximum age is read again even for a known account.
    clock.now += monitored.MAX_AGE_SECONDS
    assert fresh().target(member) is not None
    assert len(listed) == 4


def test_an_organization_that_cannot_be_listed_is_an_error_to_retry_not_a_forged_message(moto, httpserver, monkeypatch):
    # Organizations answers AccessDeniedException (its JSON 1.1 error shape): a role without ListAccounts.
    httpserver.expect_request("/").respond_with_json(
        {"__type": "AccessDeniedException", "Message": "not allowed"}, status=400
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", httpserver.url_for("/").rstrip("/"))
    m = Monitored(
        settings(SCAN_ORGANIZATION_ROLE_NAME=ROLE),
        boto3.Session(region_name="us-east-1"),
        own_account=OWN,
        partition="aws",
    )
    with pytest.raises(AccountError):
        m.shard("111111111111", "us-east-1", f"arn:aws:iam::111111111111:role/{ROLE}")
