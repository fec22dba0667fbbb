"""The command line across accounts: ``--role-arn``, ``--organization --role-name``, a role that cannot be assumed.

SES, STS, IAM and Organizations are moto's server over HTTP (an assumed role's credentials land in
that role's account); DNS is knotd. moto lets anyone assume any role unless its IAM enforcement is
on, and even then evaluates only the caller's own policy, never another account's trust policy:
the role that cannot be assumed is refused by the caller's policy (tests/support/fanout.py), which
STS answers with the same ``AccessDenied`` as a member role that does not trust the caller.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from ses_dkim_monitor.cli import EXIT_INCOMPLETE, EXIT_OK, main
from tests.support.fanout import function_identity, iam_enforced, member_role
from tests.support.ses_world import (
    ACCOUNT_ID,
    account_session,
    customer_cname_records,
    easy_dkim_zone_records,
)

MEMBER_A, MEMBER_B = "111111111111", "222222222222"
ROLE = "ses-dkim-monitor-scan"
REGION = "us-east-1"
DMARC = '\n_dmarc TXT "v=DMARC1; p=none"'


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{ROLE}"


def publish_healthy(ses, knot, domains: dict[str, str]) -> None:
    """A healthy Easy DKIM domain in each account (domain -> account), its CNAMEs and SES's zone in knotd."""
    zone = []
    for name, account in domains.items():
        tokens = ses(REGION, account=account).add_domain(name)
        knot.set_zone(name, customer_cname_records(tokens) + DMARC)
        zone.append(easy_dkim_zone_records(tokens))
    knot.set_zone("dkim.amazonses.com", "\n".join(zone))


def check_json(capsys, knot, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    code = main(["check", "--region", REGION, "--nameserver", knot.address, "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def scanned(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(i["account"], i["name"], i["status"]) for i in report["identities"]}


def test_role_arns_scan_exactly_those_accounts_each_as_itself(capsys, ses, knot):
    publish_healthy(
        ses,
        knot,
        {"a-cli-roles.test": MEMBER_A, "b-cli-roles.test": MEMBER_B, "own-cli-roles.test": ACCOUNT_ID},
    )

    code, report, err = check_json(capsys, knot, "--role-arn", role_arn(MEMBER_A), "--role-arn", role_arn(MEMBER_B))

    assert code == EXIT_OK, err
    assert report is not None
    assert report["summary"]["accounts"] == [MEMBER_A, MEMBER_B]
    assert scanned(report) == {(MEMBER_A, "a-cli-roles.test", "ok"), (MEMBER_B, "b-cli-roles.test", "ok")}, (
        "the credentials' own account is not scanned when roles are named"
    )
    assert report["summary"]["complete"] is True and report["summary"]["shards_failed"] == []


def test_organization_mode_scans_every_active_account_and_skips_a_suspended_one(capsys, ses, knot):
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = {
        name: organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for name in ("prod", "staging", "closed")
    }
    organizations.close_account(AccountId=created["closed"])
    statuses = {a["Id"]: a["Status"] for a in organizations.list_accounts()["Accounts"]}
    assert statuses[created["closed"]] == "SUSPENDED" and statuses[created["prod"]] == "ACTIVE"
    publish_healthy(
        ses,
        knot,
        {
            "prod-cli-org.test": created["prod"],
            "staging-cli-org.test": created["staging"],
            "closed-cli-org.test": created["closed"],
            "mgmt-cli-org.test": ACCOUNT_ID,  # the management account: scanned with the credentials themselves
        },
    )

    code, report, err = check_json(capsys, knot, "--organization", "--role-name", ROLE)

    assert code == EXIT_OK, err
    assert report is not None
    active = {ACCOUNT_ID, created["prod"], created["staging"]}
    assert set(report["summary"]["accounts"]) == active
    assert created["closed"] not in report["summary"]["accounts"]
    assert scanned(report) == {
        (created["prod"], "prod-cli-org.test", "ok"),
        (created["staging"], "staging-cli-org.test", "ok"),
        (ACCOUNT_ID, "mgmt-cli-org.test", "ok"),
    }


@pytest.fixture()
def monitor_user(moto, monkeypatch) -> dict[str, str]:
    """The CLI's credentials: an IAM user allowed to assume MEMBER_A's scan role and not MEMBER_B's."""
    key = function_identity(boto3.client("iam"), name="cli-user", assumable_roles=[role_arn(MEMBER_A)])
    for account in (MEMBER_A, MEMBER_B):
        member_role(account_session(account), name=ROLE, trusted_account=ACCOUNT_ID)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3.client() keeps its credentials: start afresh
    return key


def test_a_role_that_cannot_be_assumed_exits_three_naming_the_account_and_still_reports_the_other(
    capsys, ses, knot, moto, monitor_user
):
    publish_healthy(ses, knot, {"a-cli-denied.test": MEMBER_A, "b-cli-denied.test": MEMBER_B})

    with iam_enforced(moto):
        code, report, err = check_json(capsys, knot, "--role-arn", role_arn(MEMBER_A), "--role-arn", role_arn(MEMBER_B))

    assert code == EXIT_INCOMPLETE
    assert report is not None, "the account that could be read is still reported"
    assert scanned(report) == {(MEMBER_A, "a-cli-denied.test", "ok")}
    assert report["summary"]["complete"] is False
    [failed] = report["summary"]["shards_failed"]
    assert (failed["account"], failed["region"]) == (MEMBER_B, REGION)

    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(
        f"ses-dkim-monitor: scan incomplete: {MEMBER_B}/{REGION}: cannot assume {role_arn(MEMBER_B)} (AccessDenied: "
    )
    assert "not authorized to perform: sts:AssumeRole" in lines[0] and "Traceback" not in err


def test_the_monitor_itself_logs_which_account_it_could_not_reach(capsys, ses, knot, moto, monitor_user):
    """With -v the log names the account at ERROR, not only the final one-line error (the Lambda's logs too)."""
    publish_healthy(ses, knot, {"a-cli-logged.test": MEMBER_A, "b-cli-logged.test": MEMBER_B})

    with iam_enforced(moto):
        code, _report, err = check_json(
            capsys, knot, "-v", "--role-arn", role_arn(MEMBER_A), "--role-arn", role_arn(MEMBER_B)
        )

    assert code == EXIT_INCOMPLETE
    [logged] = [line for line in err.splitlines() if line.startswith("ERROR account cannot be scanned")]
    assert logged  # the structured fields (account, reason) go to the Lambda's JSON logs
