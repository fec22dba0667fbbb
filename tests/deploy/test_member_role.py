"""templates/member-role.yaml: the role the monitor assumes in every member account.

The template is plain CloudFormation (StackSets cannot run the SAM transform). These tests
check what the linters cannot: that the role grants exactly the reads the monitor makes in a member
account (``scan.inventory.IAM_ACTIONS``, Route 53's GetChange from ``rechecks`` and the SES
recommendation reads of ``scan.recommendations``), scoped as tightly as IAM allows; that only the monitor's
execution role may assume it; and that the optional external-id and organization conditions
appear exactly when their parameters are set, evaluated as CloudFormation would. The linters
(cfn-lint, checkov) run at the end, as tests/deploy/test_template_tools.py runs them.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from cfn_flip import load_yaml

from ses_dkim_monitor.scan.inventory import IAM_ACTIONS
from tests.deploy.test_template import declared_iam_actions
from tests.deploy.test_template_tools import BIN, SAM_VENV, assert_ok, run
from tests.deploy.test_template_tools import checkov as checkov_report
from tests.support.paths import REPO
from tests.support.template import references

MEMBER_TEMPLATE = REPO / "templates" / "member-role.yaml"
ROLE = "ScanRole"
# SES reads that accept no resource ARN (list and batch calls, GetAccount) or only an optional one an
# account-wide call does not name (ListRecommendations): Resource "*" is the only choice.
SES_UNSCOPABLE = {
    "ses:ListEmailIdentities",
    "ses:GetIdentityDkimAttributes",
    "ses:GetIdentityMailFromDomainAttributes",
    "ses:GetAccount",
    "ses:ListRecommendations",
}
SES_IDENTITY_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ses:*:${AWS::AccountId}:identity/*"}
ROUTE53_CHANGE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:route53:::change/*"}
# What the monitor does with this role, by the module that declares it (its IAM_ACTIONS). Only
# Route 53's GetChange of rechecks' actions: its queue and state-table actions act in the monitor
# account, with the function's own role.
MEMBER_ACTIONS_BY_MODULE = {
    "scan.inventory": tuple(IAM_ACTIONS),
    "recheck_store": ("route53:GetChange",),
    "scan.recommendations": ("ses:GetAccount", "ses:ListRecommendations"),
}
# The role name the monitor puts into arn:aws:iam::<account>:role/<name> for every member account.
MONITOR_BUILDS_ROLE_NAME = "ses-dkim-monitor-scan"

MEMBER_ACCOUNT = "210987654321"
MONITOR_ACCOUNT = "123456789012"
MONITOR_ROLE_NAME = "ses-dkim-monitor-MonitorRole-AbCdEf123456"
REQUIRED = {"MonitorAccountId": MONITOR_ACCOUNT, "MonitorRoleName": MONITOR_ROLE_NAME}
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackName"}

needs_sam_tools = pytest.mark.skipif(
    not (BIN / "cfn-lint").exists() or not (BIN / "checkov").exists(),
    reason=f"SAM tools not installed: run scripts/install-sam-tools.sh to create {SAM_VENV} "
    "(scripts/test.sh does this before pytest)",
)


# ---------------------------------------------------------------- loading and resolving


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    # cfn-flip's loader understands !Ref, !Sub, !If ... and returns their long form.
    return load_yaml(MEMBER_TEMPLATE.read_text())


def role(template: dict[str, Any]) -> dict[str, Any]:
    res = template["Resources"][ROLE]
    assert res["Type"] == "AWS::IAM::Role"
    return res["Properties"]


NO_VALUE = object()


class Resolver:
    """Evaluates the intrinsics this template uses, as CloudFormation would for one deployment."""

    def __init__(self, template: dict[str, Any], overrides: dict[str, str], *, account: str = MEMBER_ACCOUNT):
        self.template = template
        self.params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
        self.params.update(overrides)
        missing = [name for name, p in template["Parameters"].items() if "Default" not in p and name not in overrides]
        assert not missing, f"required parameters without a value: {missing}"
        self.params.update(
            {"AWS::AccountId": account, "AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::StackName": "s"}
        )
        self.conditions = {name: self.condition(body) for name, body in template.get("Conditions", {}).items()}

    def condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            [(key, arg)] = node.items()
            if key == "Fn::Not":
                return not self.condition(arg[0])
            if key == "Fn::Equals":
                return self.condition(arg[0]) == self.condition(arg[1])
            if key == "Ref":
                return self.params[arg]
            if key == "Condition":
                return self.conditions[arg]
            raise AssertionError(f"condition function {key} not understood by this resolver")
        return node

    def __call__(self, node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                [(key, arg)] = node.items()
                if key == "Ref":
                    return NO_VALUE if arg == "AWS::NoValue" else self.params[arg]
                if key == "Fn::If":
                    name, yes, no = arg
                    return self(yes if self.conditions[name] else no)
                if key == "Fn::Sub":
                    assert isinstance(arg, str), "only the one-argument Fn::Sub is resolved here"
                    return re.sub(r"\$\{([^}!]+)\}", lambda m: self.params[m.group(1)], arg)
                if key == "Fn::GetAtt":
                    name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                    assert (name, attr) == (ROLE, "Arn"), f"GetAtt {name}.{attr} not resolved here"
                    path = role(self.template).get("Path", "/")
                    return f"arn:{self.params['AWS::Partition']}:iam::{self.params['AWS::AccountId']}:role{path}" + (
                        self(role(self.template)["RoleName"])
                    )
                assert not key.startswith("Fn::"), f"{key} not understood by this resolver"
            resolved = {k: self(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self(item) for item in node) if v is not NO_VALUE]
        return node


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(template: dict[str, Any]) -> dict[str, list[Any]]:
    """IAM action -> resources over the role's statements (unresolved, as written)."""
    out: dict[str, list[Any]] = {}
    for policy in role(template)["Policies"]:
        for stmt in policy["PolicyDocument"]["Statement"]:
            assert set(stmt) <= {"Sid", "Effect", "Action", "Resource"}, f"unexpected keys in {stmt}"
            assert stmt["Effect"] == "Allow"
            for action in as_list(stmt["Action"]):
                for res in as_list(stmt["Resource"]):
                    out.setdefault(action, []).append(res)
    return out


def trust(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    doc = Resolver(template, {**REQUIRED, **overrides})(role(template)["AssumeRolePolicyDocument"])
    assert doc["Version"] == "2012-10-17"
    [stmt] = doc["Statement"]
    return stmt


# ---------------------------------------------------------------- shape


def test_plain_cloudformation_with_one_role_and_nothing_else(template):
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert "Transform" not in template, "StackSets deploy plain CloudFormation: no SAM transform"
    assert {name: res["Type"] for name, res in template["Resources"].items()} == {ROLE: "AWS::IAM::Role"}
    props = role(template)
    assert set(props) == {
        "RoleName",
        "Description",
        "MaxSessionDuration",
        "AssumeRolePolicyDocument",
        "Policies",
        "Tags",
    }, "no managed policies, permissions boundary or path: the grants must all be visible here"
    assert props["RoleName"] == {"Ref": "RoleName"}
    assert props["MaxSessionDuration"] == 3600
    assert "ses-dkim-monitor" in props["Description"] and "ses-dkim-monitor" in template["Description"]
    assert {"Key": "application", "Value": "ses-dkim-monitor"} in props["Tags"]


def test_output_is_the_role_arn(template):
    assert template["Outputs"]["ScanRoleArn"]["Value"] == {"Fn::GetAtt": [ROLE, "Arn"]}


# ---------------------------------------------------------------- permissions


def member_actions() -> set[str]:
    """What the monitor calls in a member account, each action checked against its module's IAM_ACTIONS."""
    declared = declared_iam_actions()
    out: set[str] = set()
    for module, actions in MEMBER_ACTIONS_BY_MODULE.items():
        assert module in declared, f"{module} declares no IAM_ACTIONS (renamed or moved?)"
        missing = set(actions) - set(declared[module])
        assert not missing, f"{module} no longer declares {sorted(missing)}: update MEMBER_ACTIONS_BY_MODULE"
        out |= set(actions)
    return out


def test_role_grants_exactly_what_the_monitor_does_in_a_member_account(template):
    assert len(role(template)["Policies"]) == 1
    assert set(grants(template)) == member_actions(), "no more or less than the monitor's member-account calls"
    assert set(IAM_ACTIONS) <= set(grants(template)), "every SES read of the scan"


def test_each_read_is_scoped_as_tightly_as_iam_allows(template):
    for action, resources in grants(template).items():
        if action in SES_UNSCOPABLE:
            expected: Any = "*"
        elif action.startswith("route53:"):
            expected = ROUTE53_CHANGE_ARN
        else:
            expected = SES_IDENTITY_ARN
        assert resources == [expected], f"{action} granted on {resources}, expected only {expected}"
    resolved = Resolver(template, REQUIRED)(SES_IDENTITY_ARN)
    assert resolved == f"arn:aws:ses:*:{MEMBER_ACCOUNT}:identity/*", "scoped to the member account's own identities"
    assert Resolver(template, REQUIRED)(ROUTE53_CHANGE_ARN) == "arn:aws:route53:::change/*"


def test_no_wildcard_action_and_star_resource_only_for_unscopable_reads(template):
    for action, resources in grants(template).items():
        assert "*" not in action and "?" not in action, f"wildcard action {action!r}"
        if "*" in resources:
            assert action in SES_UNSCOPABLE, f"{action} granted on '*'"


def test_granted_actions_are_real_read_operations(template):
    # A typo in an action name deploys fine and is denied at the first scan.
    session = botocore.session.get_session()
    operations = {
        f"{session.get_service_model(s).signing_name}:{op}"
        for s in ("ses", "sesv2", "route53")
        for op in session.get_service_model(s).operation_names
    }
    unknown = set(grants(template)) - operations
    assert not unknown, f"not SES or Route 53 operations: {sorted(unknown)}"
    writes = [a for a in grants(template) if not re.match(r"^[a-z0-9]+:(Get|List)", a)]
    assert not writes, f"the member role is read only: {writes}"


# ---------------------------------------------------------------- trust


@pytest.mark.parametrize("overrides", [{}, {"ExternalId": "ext-123456", "OrganizationId": "o-a1b2c3d4e5"}])
def test_only_the_monitor_role_may_assume_the_role(template, overrides):
    stmt = trust(template, overrides)
    assert stmt["Effect"] == "Allow" and stmt["Action"] == "sts:AssumeRole"
    assert stmt["Principal"] == {"AWS": f"arn:aws:iam::{MONITOR_ACCOUNT}:role/{MONITOR_ROLE_NAME}"}
    assert set(stmt) <= {"Sid", "Effect", "Principal", "Action", "Condition"}, "no NotPrincipal/NotAction"


def test_principal_is_a_role_not_the_monitor_account(template):
    principal = role(template)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${MonitorAccountId}:role/${MonitorRoleName}"}}


def test_role_path_in_the_monitor_role_name_gives_the_right_arn(template):
    stmt = trust(template, {"MonitorRoleName": "service-role/monitor"})
    assert stmt["Principal"] == {"AWS": f"arn:aws:iam::{MONITOR_ACCOUNT}:role/service-role/monitor"}


@pytest.mark.parametrize(
    ("external_id", "org_id", "expected"),
    [
        ("", "", None),
        ("ext-123456", "", {"StringEquals": {"sts:ExternalId": "ext-123456"}}),
        ("", "o-a1b2c3d4e5", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
        (
            "ext-123456",
            "o-a1b2c3d4e5",
            {"StringEquals": {"sts:ExternalId": "ext-123456", "aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        ),
    ],
)
def test_conditions_appear_exactly_when_their_parameter_is_set(template, external_id, org_id, expected):
    stmt = trust(template, {"ExternalId": external_id, "OrganizationId": org_id})
    # Both conditions sit in the one Allow statement (trust() checks there is only one): in two
    # Allow statements either alone would let the caller in.
    assert stmt.get("Condition") == expected
    assert "Fn::" not in json.dumps(stmt) and "${" not in json.dumps(stmt), f"unresolved intrinsic in {stmt}"


def test_optional_parameters_default_to_no_condition(template):
    params = template["Parameters"]
    assert params["ExternalId"]["Default"] == "" and params["OrganizationId"]["Default"] == ""
    assert "Condition" not in trust(template, {})
    assert template["Conditions"] == {
        "HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]},
        "HasOrganizationId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationId"}, ""]}]},
    }


# ---------------------------------------------------------------- parameters


def test_required_parameters_have_no_default(template):
    params = template["Parameters"]
    assert set(params) == {"MonitorAccountId", "MonitorRoleName", "RoleName", "ExternalId", "OrganizationId"}
    assert "Default" not in params["MonitorAccountId"] and "Default" not in params["MonitorRoleName"]


def test_role_name_the_monitor_builds_matches_the_template_default(template):
    default = template["Parameters"]["RoleName"]["Default"]
    assert default == MONITOR_BUILDS_ROLE_NAME
    built = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/{MONITOR_BUILDS_ROLE_NAME}"
    assert Resolver(template, REQUIRED)(template["Outputs"]["ScanRoleArn"]["Value"]) == built


class _OneAccountOrganization:
    """Just enough of an Organizations client for ``organization_targets``."""

    def get_paginator(self, name: str) -> Any:
        assert name == "list_accounts"
        return self

    def paginate(self) -> Iterator[dict[str, Any]]:
        yield {"Accounts": [{"Id": MEMBER_ACCOUNT, "Name": "member", "Status": "ACTIVE"}]}


def test_monitor_assumes_the_role_this_template_creates(template):
    # The monitor's own ARN builder and session defaults, against the deployed role.
    accounts = pytest.importorskip("ses_dkim_monitor.accounts")
    default = template["Parameters"]["RoleName"]["Default"]
    [target] = accounts.organization_targets(_OneAccountOrganization(), role_name=default, own_account=MONITOR_ACCOUNT)
    assert target.role_arn == Resolver(template, REQUIRED)(template["Outputs"]["ScanRoleArn"]["Value"])
    assert accounts.parse_role_arn(target.role_arn) == ("aws", MEMBER_ACCOUNT)
    # STS refuses a DurationSeconds above the role's MaxSessionDuration.
    duration = inspect.signature(accounts.assumed_session).parameters["duration_seconds"].default
    assert duration <= role(template)["MaxSessionDuration"]
    # The role grants what the scan needs in the member account; the monitor's own grants
    # (sts:AssumeRole, organizations:ListAccounts) belong in template.yaml, not here.
    assert not set(accounts.IAM_ACTIONS) & set(grants(template))


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("MonitorAccountId", "123456789012", True),
        ("MonitorAccountId", "12345678901", False),
        ("MonitorAccountId", "arn:aws:iam::123456789012:root", False),
        ("MonitorRoleName", "ses-dkim-monitor-MonitorRole-AbCdEf123456", True),
        ("MonitorRoleName", "service-role/my_role+x=y,z.w@v", True),
        ("MonitorRoleName", "", False),
        ("MonitorRoleName", "arn:aws:iam::123456789012:role/x", False),
        ("MonitorRoleName", "a" * 65, False),
        ("MonitorRoleName", "has space", False),
        ("RoleName", "ses-dkim-monitor-scan", True),
        ("RoleName", "path/name", False),
        ("RoleName", "a" * 65, False),
        ("ExternalId", "", True),
        ("ExternalId", "ses-dkim-monitor:4f1c/2e", True),
        ("ExternalId", "x", False),
        ("ExternalId", "has space", False),
        ("OrganizationId", "", True),
        ("OrganizationId", "o-a1b2c3d4e5", True),
        ("OrganizationId", "o-abc", False),
        ("OrganizationId", "r-a1b2", False),
    ],
)
def test_parameter_patterns(template, name, value, ok):
    assert bool(re.fullmatch(template["Parameters"][name]["AllowedPattern"], value)) is ok


def test_every_reference_points_at_something_that_exists(template):
    known = set(template["Parameters"]) | set(template["Resources"]) | PSEUDO_PARAMETERS

    for section in ("Resources", "Outputs", "Conditions"):
        for ref in references(template[section], template["Conditions"]):
            assert ref in known, f"{section} refer to unknown {ref}"


# ---------------------------------------------------------------- the tools


def test_every_skipped_rule_is_justified(template):
    skips = []
    for name, res in template["Resources"].items():
        meta = res.get("Metadata", {})
        for skip in meta.get("checkov", {}).get("skip", []):
            skips.append((name, skip["id"]))
            assert len(skip.get("comment", "").split()) >= 8, f"{name}: checkov {skip['id']} skipped without a reason"
        ignored = meta.get("cfn-lint", {}).get("config", {}).get("ignore_checks", [])
        assert not ignored, f"{name}: cfn-lint rules ignored ({ignored}); fix them or justify and update this test"
    # The skips are a reviewed list: a new one is a decision, not a side effect.
    assert skips == []


@pytest.mark.sam
@needs_sam_tools
def test_cfn_lint_clean_including_informational_rules():
    result = run(BIN / "cfn-lint", "--include-checks", "I", "--", MEMBER_TEMPLATE)
    assert_ok(result)
    assert result.stdout.strip() == "", result.stdout


@pytest.mark.sam
@needs_sam_tools
def test_checkov_clean_and_ran_the_iam_checks():
    report = checkov_report(MEMBER_TEMPLATE)
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    # The IAM checks must have run on the role, or a clean report proves nothing.
    assert {"CKV_AWS_60", "CKV_AWS_61", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_111"} <= passed, sorted(passed)
