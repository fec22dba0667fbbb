"""templates/event-forwarder.yaml: forwards SES (and in us-east-1, Route 53) events to the monitor's bus.

Checks what the linters cannot: that its rules carry exactly the monitor's patterns
(``triggers.patterns.PATTERNS``), that which rules exist follows from where it is deployed
(Route 53 only in us-east-1, nothing on the monitor's own bus, which would loop), evaluated as
CloudFormation would; that the role may only put events on the one bus; and that the bus it
targets is the one template.yaml's EventBusPolicy opens. cfn-lint and checkov run at the end, as
tests/deploy/test_template_tools.py runs them.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest
from cfn_flip import load_yaml

from ses_dkim_monitor.triggers.patterns import PATTERNS
from tests.deploy.test_member_role import needs_sam_tools
from tests.deploy.test_template_tools import BIN, assert_ok, run
from tests.deploy.test_template_tools import checkov as checkov_report
from tests.support.paths import REPO
from tests.support.template import load_template

FORWARDER = REPO / "templates" / "event-forwarder.yaml"
MONITOR_ACCOUNT = "123456789012"
MEMBER_ACCOUNT = "210987654321"
ROLE = "ForwarderRole"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_yaml(FORWARDER.read_text())


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == "AWS::Events::Rule"}


class Deployment:
    """The template's conditions and intrinsics evaluated for one region, account and parameters."""

    def __init__(self, template: dict[str, Any], *, region: str, account: str, **parameters: str) -> None:
        self.template = template
        self.values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
        self.values.update(parameters)
        missing = [name for name, p in template["Parameters"].items() if "Default" not in p and name not in parameters]
        assert not missing, f"required parameters without a value: {missing}"
        self.values.update({"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"})
        self.conditions: dict[str, bool] = {}
        for name in template["Conditions"]:
            self.condition(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self(self.template["Conditions"][name]))
        return self.conditions[name]

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self(v) for k, v in node.items()}
        [(key, arg)] = node.items()
        if key == "Ref":
            return self.values[arg]
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = self(arg)
            return left == right
        if key == "Fn::Not":
            return not self(arg[0])
        if key == "Fn::And":
            return all(self(a) for a in arg)
        if key == "Fn::Or":
            return any(self(a) for a in arg)
        if key == "Fn::If":
            name, yes, no = arg
            return self(yes if self.condition(name) else no)
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self(arg[1]))
            values = {**self.values, **variables}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], text)
        if key.startswith("Fn::"):
            raise AssertionError(f"{key} not understood by this resolver")
        return {key: self(arg)}

    def resources(self) -> set[str]:
        return {
            name
            for name, res in self.template["Resources"].items()
            if "Condition" not in res or self.condition(res["Condition"])
        }


# ---------------------------------------------------------------- shape and patterns


def test_plain_cloudformation_with_a_role_and_one_rule_per_pattern(template):
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert "Transform" not in template, "StackSets deploy plain CloudFormation: no SAM transform"
    types = {name: res["Type"] for name, res in template["Resources"].items()}
    assert types == {ROLE: "AWS::IAM::Role", **dict.fromkeys(PATTERNS, "AWS::Events::Rule")}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_rule_pattern_equals_the_monitors_exactly(template, name):
    assert rules(template)[name]["Properties"]["EventPattern"] == PATTERNS[name], (
        f"{name} differs from triggers/patterns.py; it should be:\n{json.dumps(PATTERNS[name], indent=2)}"
    )


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_rule_forwards_to_the_monitor_bus_through_the_role(template, name):
    p = rules(template)[name]["Properties"]
    assert p["EventBusName"] == "default" and p["State"] == "ENABLED"
    [target] = p["Targets"]
    assert target["RoleArn"] == {"Fn::GetAtt": [ROLE, "Arn"]}
    assert target["Arn"] == template["Outputs"]["MonitorEventBusArn"]["Value"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert "Input" not in target and "InputTransformer" not in target, "forward the event unchanged"


# ---------------------------------------------------------------- where it is deployed


@pytest.mark.parametrize(
    ("region", "account", "parameters", "expected"),
    [
        # The usual case: Route 53 (and us-east-1's SES) for a monitor elsewhere in the account.
        ("us-east-1", MONITOR_ACCOUNT, {"MonitorRegion": "eu-west-1"}, set(PATTERNS)),
        # Another SES region: Route 53's records never appear there.
        ("eu-central-1", MONITOR_ACCOUNT, {"MonitorRegion": "eu-west-1"}, set(PATTERNS) - {"Route53Changes"}),
        # A member account, same region as the monitor: its own SES events, to the other account.
        (
            "eu-west-1",
            MEMBER_ACCOUNT,
            {"MonitorRegion": "eu-west-1", "MonitorAccountId": MONITOR_ACCOUNT},
            set(PATTERNS) - {"Route53Changes"},
        ),
        (
            "us-east-1",
            MEMBER_ACCOUNT,
            {"MonitorRegion": "us-east-1", "MonitorAccountId": MONITOR_ACCOUNT},
            set(PATTERNS),
        ),
        # On the monitor's own bus, forwarding would loop: nothing but the (unused) role.
        ("us-east-1", MONITOR_ACCOUNT, {"MonitorRegion": "us-east-1"}, set()),
        ("eu-west-1", MONITOR_ACCOUNT, {"MonitorRegion": "eu-west-1", "MonitorAccountId": MONITOR_ACCOUNT}, set()),
    ],
)
def test_which_rules_exist_follows_from_where_it_is_deployed(template, region, account, parameters, expected):
    deployed = Deployment(template, region=region, account=account, **parameters)
    assert deployed.resources() - {ROLE} == expected


@pytest.mark.parametrize(
    ("account", "parameters", "bus"),
    [
        (
            MONITOR_ACCOUNT,
            {"MonitorRegion": "eu-west-1"},
            f"arn:aws:events:eu-west-1:{MONITOR_ACCOUNT}:event-bus/default",
        ),
        (
            MEMBER_ACCOUNT,
            {"MonitorRegion": "eu-west-1", "MonitorAccountId": MONITOR_ACCOUNT},
            f"arn:aws:events:eu-west-1:{MONITOR_ACCOUNT}:event-bus/default",
        ),
    ],
)
def test_role_may_put_events_on_the_monitor_bus_and_do_nothing_else(template, account, parameters, bus):
    deployed = Deployment(template, region="us-east-1", account=account, **parameters)
    role = template["Resources"][ROLE]["Properties"]
    assert "ManagedPolicyArns" not in role and "PermissionsBoundary" not in role
    [policy] = role["Policies"]
    [stmt] = policy["PolicyDocument"]["Statement"]
    assert stmt["Effect"] == "Allow" and stmt["Action"] == "events:PutEvents"
    assert deployed(stmt["Resource"]) == bus
    assert deployed(template["Outputs"]["MonitorEventBusArn"]["Value"]) == bus
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert deployed(trust["Condition"]) == {"StringEquals": {"aws:SourceAccount": account}}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-5", "eusc-de-east-1", "us-gov-west-1"])
def test_role_has_the_fixed_name_the_monitors_bus_policy_admits(template, region):
    # template.yaml's bus policy admits principals whose ARN is like arn:<partition>:iam::*:role/<pattern>:
    # the forwarder's role must have such a name in every region it may be deployed to, and a name IAM accepts.
    monitor = load_template()
    condition = monitor["Resources"]["OrganizationEventBusPolicy"]["Properties"]["Statement"]["Condition"]
    like = Deployment(
        {"Parameters": {}, "Conditions": {}, "Resources": {}}, region="eu-west-1", account=MONITOR_ACCOUNT
    )(condition["ArnLike"]["aws:PrincipalArn"])
    deployed = Deployment(
        template, region=region, account=MEMBER_ACCOUNT, MonitorRegion="eu-west-1", MonitorAccountId=MONITOR_ACCOUNT
    )
    name = deployed(template["Resources"][ROLE]["Properties"]["RoleName"])
    assert re.fullmatch(r"[\w+=,.@-]{1,64}", name), name
    assert fnmatch.fnmatchcase(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/{name}", like), (name, like)


def test_target_is_the_bus_the_monitor_opens_to_its_organization(template):
    # template.yaml's EventBusPolicy names the bus these rules put events on.
    monitor = load_template()
    policy_resource = monitor["Resources"]["OrganizationEventBusPolicy"]["Properties"]["Statement"]["Resource"]
    opened = Deployment(
        {"Parameters": {}, "Conditions": {}, "Resources": {}}, region="eu-west-1", account=MONITOR_ACCOUNT
    )(policy_resource)
    deployed = Deployment(
        template,
        region="us-east-1",
        account=MEMBER_ACCOUNT,
        MonitorRegion="eu-west-1",
        MonitorAccountId=MONITOR_ACCOUNT,
    )
    assert deployed(rules(template)["Route53Changes"]["Properties"]["Targets"][0]["Arn"]) == opened


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("MonitorRegion", "eu-west-1", True),
        ("MonitorRegion", "us-gov-west-1", True),
        ("MonitorRegion", "", False),
        ("MonitorRegion", "Ireland", False),
        ("MonitorAccountId", "", True),
        ("MonitorAccountId", MONITOR_ACCOUNT, True),
        ("MonitorAccountId", "12345", False),
    ],
)
def test_parameter_patterns(template, name, value, ok):
    assert bool(re.fullmatch(template["Parameters"][name]["AllowedPattern"], value)) is ok


def test_monitor_region_is_required_and_the_account_defaults_to_this_one(template):
    params = template["Parameters"]
    assert "Default" not in params["MonitorRegion"]
    assert params["MonitorAccountId"]["Default"] == ""
    deployed = Deployment(template, region="us-east-1", account=MEMBER_ACCOUNT, MonitorRegion="eu-west-1")
    assert deployed(template["Outputs"]["MonitorEventBusArn"]["Value"]).split(":")[4] == MEMBER_ACCOUNT


# ---------------------------------------------------------------- the tools


def test_every_skipped_rule_is_justified(template):
    skips = [
        (name, skip["id"])
        for name, res in template["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips == [], "a new skip is a decision: justify it in the resource's Metadata and list it here"
    for name, res in template["Resources"].items():
        assert not res.get("Metadata", {}).get("cfn-lint"), f"{name}: cfn-lint rules ignored"


@pytest.mark.sam
@needs_sam_tools
def test_cfn_lint_clean_including_informational_rules():
    result = run(BIN / "cfn-lint", "--include-checks", "I", "--", FORWARDER)
    assert_ok(result)
    assert result.stdout.strip() == "", result.stdout


@pytest.mark.sam
@needs_sam_tools
def test_checkov_clean_and_ran_the_iam_checks():
    report = checkov_report(FORWARDER)
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    assert {"CKV_AWS_60", "CKV_AWS_61", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_111"} <= passed, sorted(passed)
