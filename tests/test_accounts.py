"""Several accounts: targets from role ARNs or the organization, a session per account.

Against moto's server over HTTP. moto maps the credentials ``sts:AssumeRole``
returns to the role's account, so a session from :func:`assumed_session` sees
that account's SES and not the caller's. moto lets anyone assume any role,
existing or not, unless its IAM enforcement is switched on
(``POST /moto-api/reset-auth``): then it checks the caller's IAM policies
(and the trust policy of a role in the caller's own account) and answers
``AccessDenied`` with HTTP 403, as STS does. Where moto cannot give the
answer needed (a ``ListAccounts`` page in the post-2026 shape with ``State``
only, Organizations errors, an expiry time under the test's control), a
botocore ``Stubber`` answers in the shape of the API reference.
"""

from __future__ import annotations

import datetime
import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ses_dkim_monitor.accounts import (
    IAM_ACTIONS,
    SESSION_NAME_PREFIX,
    AccountError,
    AccountTarget,
    assumed_session,
    organization_targets,
    parse_role_arn,
    role_credentials,
    role_session_name,
    role_targets,
    session_with_credentials,
)

ACCOUNT_ID = "123456789012"  # moto's default account: the base credentials'
MEMBER_A = "111111111111"
MEMBER_B = "222222222222"
ROLE = "SesDkimMonitorScan"
REGION = "us-east-1"


def role_arn(account: str, name: str = ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def identities(session: boto3.Session) -> list[str]:
    listed = session.client("sesv2").list_email_identities()["EmailIdentities"]
    return sorted(item["IdentityName"] for item in listed)


def caller(session: boto3.Session) -> dict[str, Any]:
    return session.client("sts").get_caller_identity()


class Clock:
    """botocore's time fetcher, set by the test."""

    def __init__(self, now: datetime.datetime):
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


class AssumeRoleCounter:
    """Counts AssumeRole calls an STS client makes (botocore's event hooks, no patching)."""

    def __init__(self, sts: Any):
        self.calls: list[dict[str, Any]] = []
        sts.meta.events.register("provide-client-params.sts.AssumeRole", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))


# --- role ARNs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:iam::111111111111:role/SesDkimMonitorScan", ("aws", MEMBER_A)),
        ("arn:aws:iam::222222222222:role/service-role/ops/Scan+Read=1,x.y@z-w", ("aws", MEMBER_B)),
        ("arn:aws-us-gov:iam::111111111111:role/Scan", ("aws-us-gov", MEMBER_A)),
        ("arn:aws-cn:iam::111111111111:role/Scan", ("aws-cn", MEMBER_A)),
    ],
)
def test_role_arn_gives_partition_and_account(arn: str, expected: tuple[str, str]) -> None:
    assert parse_role_arn(arn) == expected


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "SesDkimMonitorScan",
        "arn:aws:iam::11111111111:role/Scan",  # 11 digits
        "arn:aws:iam::1111111111111:role/Scan",  # 13 digits
        "arn:aws:iam::111111111111:user/scanner",
        "arn:aws:sts::111111111111:assumed-role/Scan/session",  # what GetCallerIdentity shows, not a role
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam:us-east-1:111111111111:role/Scan",  # IAM ARNs have no region
        "arn:aws:iam::111111111111:role/Scan With Spaces",
        "arn:aws:iam::111111111111:role/" + "x" * 65,  # role names are at most 64 characters
        "arn:gcp:iam::111111111111:role/Scan",
    ],
)
def test_malformed_role_arn_is_rejected_naming_the_value(arn: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(arn))):
        parse_role_arn(arn)
    with pytest.raises(ValueError, match=re.escape(repr(arn))):
        role_targets([role_arn(MEMBER_A), arn], own_account=ACCOUNT_ID)


def test_role_targets_keep_the_given_order_once_each() -> None:
    targets = role_targets(
        [role_arn(MEMBER_B), role_arn(MEMBER_A), f" {role_arn(MEMBER_B)} ", role_arn(ACCOUNT_ID, "Audit")],
        own_account=ACCOUNT_ID,
    )

    assert targets == [
        AccountTarget(account_id=MEMBER_B, role_arn=role_arn(MEMBER_B)),
        AccountTarget(account_id=MEMBER_A, role_arn=role_arn(MEMBER_A)),
        # A role the user named in the base account is assumed all the same.
        AccountTarget(account_id=ACCOUNT_ID, role_arn=role_arn(ACCOUNT_ID, "Audit")),
    ]


def test_session_name_is_what_sts_accepts() -> None:
    assert role_session_name("run-1") == f"{SESSION_NAME_PREFIX}-run-1"
    odd = role_session_name("2026-11-29T00:28:11Z/abc def#é")
    assert odd == f"{SESSION_NAME_PREFIX}-2026-11-29T00-28-11Z-abc-def--"
    long = role_session_name("9" * 100)
    assert len(long) == 64
    assert long.startswith(f"{SESSION_NAME_PREFIX}-999")
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", long, re.ASCII)


def test_iam_actions_name_what_the_module_calls() -> None:
    assert IAM_ACTIONS == ("sts:AssumeRole", "organizations:ListAccounts")


# --- sessions in member accounts ---------------------------------------------------


def test_each_member_account_is_scanned_through_its_own_role(moto: str) -> None:
    base = boto3.Session(region_name=REGION)
    targets = role_targets([role_arn(MEMBER_A), role_arn(MEMBER_B)], own_account=ACCOUNT_ID)

    sessions = {t.account_id: assumed_session(base, t, run_id="run-1", external_id="ext-1") for t in targets}

    for account, session in sessions.items():
        identity = caller(session)
        assert identity["Account"] == account
        assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/{ROLE}/{SESSION_NAME_PREFIX}-run-1"
        assert session.region_name == REGION
        credentials = session.get_credentials()
        assert isinstance(credentials, RefreshableCredentials)
        assert credentials.method == "assume-role"

    sessions[MEMBER_A].client("sesv2").create_email_identity(EmailIdentity="a.example.com")
    sessions[MEMBER_B].client("sesv2").create_email_identity(EmailIdentity="b.example.com")
    base.client("sesv2").create_email_identity(EmailIdentity="base.example.com")

    # Three separate accounts: each session sees its own identities only.
    assert identities(sessions[MEMBER_A]) == ["a.example.com"]
    assert identities(sessions[MEMBER_B]) == ["b.example.com"]
    assert identities(base) == ["base.example.com"]


def test_seeded_member_state_is_read_through_the_member_session(moto: str) -> None:
    from moto.sesv2.models import sesv2_backends

    sesv2_backends[MEMBER_A][REGION].create_email_identity(
        email_identity="seeded.example.com", tags=None, dkim_signing_attributes=None, configuration_set_name=None
    )
    base = boto3.Session(region_name=REGION)
    member = assumed_session(base, AccountTarget(MEMBER_A, role_arn(MEMBER_A)), run_id="r")

    assert identities(member) == ["seeded.example.com"]
    assert identities(base) == []


def test_target_without_role_is_scanned_with_the_base_session(moto: str) -> None:
    base = boto3.Session(region_name=REGION)

    session = assumed_session(base, AccountTarget(ACCOUNT_ID, None, name="management"), run_id="r")

    assert session is base
    assert caller(session)["Account"] == ACCOUNT_ID


def test_assume_role_asks_for_the_session_name_external_id_and_duration(moto: str) -> None:
    sts = boto3.Session(region_name=REGION).client("sts")
    counter = AssumeRoleCounter(sts)

    role_credentials(
        sts,
        AccountTarget(MEMBER_A, role_arn(MEMBER_A)),
        run_id="2026-11-29T00:00Z",
        external_id="x-1",
        duration_seconds=900,
    )
    role_credentials(sts, AccountTarget(MEMBER_B, role_arn(MEMBER_B)), run_id="r2")

    assert counter.calls == [
        {
            "RoleArn": role_arn(MEMBER_A),
            "RoleSessionName": f"{SESSION_NAME_PREFIX}-2026-11-29T00-00Z",
            "DurationSeconds": 900,
            "ExternalId": "x-1",
        },
        {"RoleArn": role_arn(MEMBER_B), "RoleSessionName": f"{SESSION_NAME_PREFIX}-r2", "DurationSeconds": 3600},
    ]


@pytest.mark.parametrize("duration", [899, 43_201])
def test_duration_outside_what_sts_allows_is_refused_before_any_call(duration: int) -> None:
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(sts), pytest.raises(ValueError, match=str(duration)):
        role_credentials(sts, AccountTarget(MEMBER_A, role_arn(MEMBER_A)), run_id="r", duration_seconds=duration)


# --- refresh -----------------------------------------------------------------------


def _assume_role_response(access_key: str, expiration: datetime.datetime, account: str) -> dict[str, Any]:
    # Shaped like the AssumeRole API reference; the Stubber checks it against botocore's model.
    return {
        "Credentials": {
            "AccessKeyId": access_key,
            "SecretAccessKey": "secret-" + access_key,
            "SessionToken": "token-" + access_key,
            "Expiration": expiration,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": f"AROAEXAMPLE:{SESSION_NAME_PREFIX}-r",
            "Arn": f"arn:aws:sts::{account}:assumed-role/{ROLE}/{SESSION_NAME_PREFIX}-r",
        },
        "PackedPolicySize": 6,
    }


def test_expired_credentials_are_fetched_again_through_assume_role() -> None:
    start = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    clock = Clock(start)
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    expected = {
        "RoleArn": role_arn(MEMBER_A),
        "RoleSessionName": f"{SESSION_NAME_PREFIX}-r",
        "DurationSeconds": 900,
        "ExternalId": "ext",
    }
    with Stubber(sts) as stub:
        stub.add_response(
            "assume_role",
            _assume_role_response("ASIAEXAMPLEFIRST0001", start + datetime.timedelta(minutes=15), MEMBER_A),
            expected,
        )
        credentials = role_credentials(
            sts,
            AccountTarget(MEMBER_A, role_arn(MEMBER_A)),
            run_id="r",
            external_id="ext",
            duration_seconds=900,
            clock=clock,
        )
        assert credentials.get_frozen_credentials().access_key == "ASIAEXAMPLEFIRST0001"

        # Ten minutes into a 15-minute session: still good, no call.
        clock.now = start + datetime.timedelta(minutes=10)
        assert credentials.get_frozen_credentials().access_key == "ASIAEXAMPLEFIRST0001"

        # The scan outlived the session: the next request signs with fresh
        # credentials from the same AssumeRole request.
        clock.now = start + datetime.timedelta(minutes=16)
        stub.add_response(
            "assume_role",
            _assume_role_response("ASIAEXAMPLESECOND002", clock.now + datetime.timedelta(minutes=15), MEMBER_A),
            expected,
        )
        frozen = credentials.get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (
            "ASIAEXAMPLESECOND002",
            "secret-ASIAEXAMPLESECOND002",
            "token-ASIAEXAMPLESECOND002",
        )
        stub.assert_no_pending_responses()


def test_short_sessions_are_not_renewed_before_every_request() -> None:
    # botocore renews 15 minutes before expiry by default: a 15-minute session
    # would cost an AssumeRole per request.
    start = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    clock = Clock(start)
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(sts) as stub:
        stub.add_response(
            "assume_role",
            _assume_role_response("ASIAEXAMPLEFIRST0001", start + datetime.timedelta(minutes=15), MEMBER_A),
        )
        credentials = role_credentials(
            sts, AccountTarget(MEMBER_A, role_arn(MEMBER_A)), run_id="r", duration_seconds=900, clock=clock
        )
        clock.now = start + datetime.timedelta(minutes=5)
        assert not credentials.refresh_needed()
        assert credentials.get_frozen_credentials().access_key == "ASIAEXAMPLEFIRST0001"
        stub.assert_no_pending_responses()


def test_session_renews_its_role_credentials_mid_run(moto: str) -> None:
    # moto dates Expiration by the real clock, so the test clock runs ahead of
    # it by a settable offset instead of jumping to a fixed time.
    offset = datetime.timedelta(0)

    def clock() -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + offset

    base = boto3.Session(region_name=REGION)
    sts = base.client("sts")
    counter = AssumeRoleCounter(sts)
    credentials = role_credentials(
        sts, AccountTarget(MEMBER_A, role_arn(MEMBER_A)), run_id="long", duration_seconds=900, clock=clock
    )
    session = session_with_credentials(base, credentials)
    first_key = session.get_credentials().get_frozen_credentials().access_key

    assert caller(session)["Account"] == MEMBER_A
    assert len(counter.calls) == 1

    # 14 minutes later, one minute before expiry: the next request renews.
    offset = datetime.timedelta(minutes=14)
    assert caller(session)["Account"] == MEMBER_A  # signed with the renewed credentials
    assert len(counter.calls) == 2

    # Back to a fresh session's time (the clock stays 14 minutes ahead of
    # moto's otherwise): the renewed credentials serve without more calls.
    offset = datetime.timedelta(0)
    assert session.get_credentials().get_frozen_credentials().access_key != first_key
    session.client("sesv2").create_email_identity(EmailIdentity="late.example.com")
    assert identities(session) == ["late.example.com"]
    assert len(counter.calls) == 2
    assert counter.calls[1] == counter.calls[0]


# --- roles that cannot be assumed ---------------------------------------------------


def _set_moto_auth(endpoint: str, initial_no_auth_actions: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=initial_no_auth_actions.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture()
def scanner(moto: str) -> Iterator[boto3.Session]:
    """A base session of an IAM user who may assume the scan role in MEMBER_A only, with moto enforcing IAM.

    The user may also assume ``ExternalIdRole`` in its own account, whose
    trust policy asks for the external id ``expected``.
    """
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="scanner")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [role_arn(MEMBER_A), role_arn(ACCOUNT_ID, "ExternalIdRole")],
            }
        ],
    }
    iam.put_user_policy(UserName="scanner", PolicyName="scan", PolicyDocument=json.dumps(policy))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/scanner"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "expected"}},
            }
        ],
    }
    iam.create_role(RoleName="ExternalIdRole", AssumeRolePolicyDocument=json.dumps(trust))
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    _set_moto_auth(moto, "0")  # every request from now on is authenticated and authorised
    try:
        yield boto3.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
        )
    finally:
        _set_moto_auth(moto, "inf")  # the server is shared by the whole test session


def test_denied_role_names_its_account_and_does_not_stop_the_others(scanner: boto3.Session) -> None:
    targets = role_targets([role_arn(MEMBER_B), role_arn(MEMBER_A)], own_account=ACCOUNT_ID)
    sessions: dict[str, boto3.Session] = {}
    failed: list[AccountError] = []

    for target in targets:
        try:
            sessions[target.account_id] = assumed_session(scanner, target, run_id="r")
        except AccountError as exc:
            failed.append(exc)

    assert [exc.account_id for exc in failed] == [MEMBER_B]
    error = failed[0]
    assert error.reason.startswith(f"cannot assume {role_arn(MEMBER_B)} (AccessDenied: ")
    assert "not authorized to perform: sts:AssumeRole" in error.reason
    assert "\n" not in error.reason
    assert str(error) == f"{MEMBER_B}: {error.reason}"
    assert isinstance(error.__cause__, ClientError)
    assert error.__cause__.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    assert list(sessions) == [MEMBER_A]
    assert caller(sessions[MEMBER_A])["Account"] == MEMBER_A


def test_wrong_external_id_is_denied(scanner: boto3.Session) -> None:
    target = role_targets([role_arn(ACCOUNT_ID, "ExternalIdRole")], own_account=ACCOUNT_ID)[0]

    with pytest.raises(
        AccountError, match=rf"^{ACCOUNT_ID}: cannot assume .*ExternalIdRole \(AccessDenied: "
    ) as denied:
        assumed_session(scanner, target, run_id="r", external_id="wrong")
    assert denied.value.account_id == ACCOUNT_ID

    session = assumed_session(scanner, target, run_id="r", external_id="expected")
    assert caller(session)["Arn"].endswith(f":assumed-role/ExternalIdRole/{SESSION_NAME_PREFIX}-r")


# --- organization mode ---------------------------------------------------------------


def test_organization_mode_scans_active_accounts_and_the_management_account_itself(moto: str) -> None:
    base = boto3.Session(region_name=REGION)
    organizations = base.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = {
        name: organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for name in ("prod", "staging", "closed")
    }
    organizations.close_account(AccountId=created["closed"])
    statuses = {a["Id"]: a["Status"] for a in organizations.list_accounts()["Accounts"]}
    assert statuses[created["closed"]] == "SUSPENDED"

    targets = organization_targets(organizations, role_name=ROLE, own_account=ACCOUNT_ID)

    expected = [
        AccountTarget(ACCOUNT_ID, None, name="master"),
        AccountTarget(created["prod"], role_arn(created["prod"]), name="prod"),
        AccountTarget(created["staging"], role_arn(created["staging"]), name="staging"),
    ]
    assert targets == sorted(expected, key=lambda t: t.account_id)

    for target in targets:
        session = assumed_session(base, target, run_id="org")
        assert caller(session)["Account"] == target.account_id
        assert (session is base) == (target.account_id == ACCOUNT_ID)


def test_from_a_delegated_administrator_the_management_account_is_reached_through_the_member_role(moto: str) -> None:
    """Only the credentials' own account is scanned with them; run from a delegated administrator, the
    management account is another account, reached through the member role like any other."""
    organizations = boto3.Session(region_name=REGION).client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    admin = organizations.create_account(AccountName="admin", Email="admin@example.com")["CreateAccountStatus"][
        "AccountId"
    ]

    targets = {t.account_id: t for t in organization_targets(organizations, role_name=ROLE, own_account=admin)}

    assert targets[admin].role_arn is None
    assert targets[ACCOUNT_ID].role_arn == role_arn(ACCOUNT_ID)  # moto's management account


def _account(account_id: str, name: str, **status: str) -> dict[str, Any]:
    # An Account as ListAccounts returns it (Organizations API reference).
    return {
        "Id": account_id,
        "Arn": f"arn:aws-us-gov:organizations::{ACCOUNT_ID}:account/o-exampleorgid/{account_id}",
        "Email": f"{name}@example.com",
        "Name": name,
        **status,
        "JoinedMethod": "CREATED",
        "JoinedTimestamp": datetime.datetime(2025, 1, 2, tzinfo=datetime.UTC),
    }


def _organizations_client() -> Any:
    return boto3.client("organizations", region_name="us-gov-west-1", aws_access_key_id="k", aws_secret_access_key="s")


def test_organization_pages_are_all_read_and_state_alone_is_understood() -> None:
    organizations = _organizations_client()
    with Stubber(organizations) as stub:
        stub.add_response(
            "list_accounts",
            {
                "Accounts": [
                    _account("333333333333", "gone", Status="SUSPENDED", State="CLOSED"),
                    _account(ACCOUNT_ID, "management", Status="ACTIVE", State="ACTIVE"),
                    _account("444444444444", "leaving", Status="PENDING_CLOSURE", State="PENDING_CLOSURE"),
                ],
                "NextToken": "page-2",
            },
            {},
        )
        # After September 2026 the response may carry State only.
        stub.add_response(
            "list_accounts",
            {
                "Accounts": [
                    _account(MEMBER_B, "b", State="ACTIVE"),
                    _account(MEMBER_A, "a", State="ACTIVE"),
                    _account("555555555555", "suspended", State="SUSPENDED"),
                ]
            },
            {"NextToken": "page-2"},
        )

        targets = organization_targets(
            organizations, role_name="ops/Scan", own_account=ACCOUNT_ID, partition="aws-us-gov"
        )
        stub.assert_no_pending_responses()

    assert targets == [
        AccountTarget(MEMBER_A, f"arn:aws-us-gov:iam::{MEMBER_A}:role/ops/Scan", name="a"),
        AccountTarget(ACCOUNT_ID, None, name="management"),
        AccountTarget(MEMBER_B, f"arn:aws-us-gov:iam::{MEMBER_B}:role/ops/Scan", name="b"),
    ]


@pytest.mark.parametrize(
    ("code", "status"),
    [("AWSOrganizationsNotInUseException", 400), ("AccessDeniedException", 403)],
)
def test_unreadable_organization_is_an_error_of_the_base_account(code: str, status: int) -> None:
    organizations = _organizations_client()
    with Stubber(organizations) as stub:
        stub.add_client_error(
            "list_accounts",
            service_error_code=code,
            service_message="Your account is not\na member.",
            http_status_code=status,
        )
        with pytest.raises(AccountError) as raised:
            organization_targets(organizations, role_name=ROLE, own_account=ACCOUNT_ID)

    assert raised.value.account_id == ACCOUNT_ID
    assert raised.value.reason == f"cannot list the organization's accounts ({code}: Your account is not a member.)"


def test_bad_role_name_is_refused_before_listing_accounts() -> None:
    organizations = _organizations_client()
    with Stubber(organizations), pytest.raises(ValueError, match="not an IAM role ARN"):
        organization_targets(organizations, role_name="has space", own_account=ACCOUNT_ID)
