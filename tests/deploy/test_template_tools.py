"""The CloudFormation tools on template.yaml: sam validate (plain and --lint), cfn-lint, checkov.

They run from ``.venv-sam`` (scripts/install-sam-tools.sh; scripts/test.sh
installs it before pytest, so in CI these always run). Every rule the
template skips is skipped on the resource it concerns, with a reason, in that
resource's Metadata; tests/deploy/test_template.py::test_every_skipped_rule_is_justified
checks that.

checkov also runs on the SAM-transformed template, because SAM generates
resources (the Lambda function, its event invoke config, the EventBridge
rule and permission) that the checks only see after the transform; and on a
copy whose optional parts are all switched on, because checkov evaluates the
template's conditions with the parameters' defaults and leaves out the
resources they turn off (the status page and trail buckets, the trail).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfn_flip import dump_yaml, load_yaml

from ses_dkim_monitor.triggers.patterns import PATTERNS
from tests.support.paths import REPO

TEMPLATE = REPO / "template.yaml"
SAM_VENV = REPO / ".venv-sam"
BIN = SAM_VENV / "bin"

pytestmark = [
    pytest.mark.sam,
    pytest.mark.skipif(
        not (BIN / "sam").exists(),
        reason=f"SAM tools not installed: run scripts/install-sam-tools.sh to create {SAM_VENV} "
        "(scripts/test.sh does this before pytest)",
    ),
]


def tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        SAM_CLI_TELEMETRY="0",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        # No credentials are needed; make sure none from the host are used.
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        # checkov: no calls to the Prisma Cloud API.
        BC_SKIP_MAPPING="TRUE",
        CHECKOV_SKIP_DOWNLOAD="true",
    )
    return env


def run(*args: str | Path, cwd: Path = REPO, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=timeout
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"{' '.join(result.args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


# ---------------------------------------------------------------- the transformed template

TRANSFORM = r"""
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

template = yaml_parse(open(sys.argv[1]).read())
for res in template["Resources"].values():
    # What `sam package` does to a local CodeUri.
    if res["Type"] == "AWS::Serverless::Function":
        res["Properties"]["CodeUri"] = "s3://bucket/ses-dkim-monitor.zip"

class NoManagedPolicies:
    def load(self):
        return {}

print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""


@pytest.fixture(scope="module")
def transformed(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    result = run(BIN / "python", "-c", TRANSFORM, TEMPLATE)
    assert_ok(result)
    path = tmp_path_factory.mktemp("transformed") / "template.json"
    path.write_text(result.stdout)
    return path, json.loads(result.stdout)


# ---------------------------------------------------------------- the tools


def test_sam_validate():
    # Plain `sam validate` runs the SAM transform; --lint alone does not catch every transform
    # error (an EventInvokeConfig destination without Type passes --lint and fails here).
    result = run(BIN / "sam", "validate", "--template-file", TEMPLATE)
    assert_ok(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_validate_lint():
    result = run(BIN / "sam", "validate", "--lint", "--template-file", TEMPLATE)
    assert_ok(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_clean_including_informational_rules():
    result = run(BIN / "cfn-lint", "--include-checks", "I", "--", TEMPLATE)
    assert_ok(result)
    assert result.stdout.strip() == "", result.stdout


def checkov(path: Path) -> dict[str, Any]:
    result = run(
        BIN / "checkov",
        "--file",
        path,
        "--framework",
        "cloudformation",
        "--skip-download",
        "--output",
        "json",
        "--compact",
        timeout=300,
    )
    assert result.returncode in (0, 1), f"checkov crashed ({result.returncode}):\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework
        [report] = [r for r in report if r.get("check_type") == "cloudformation"]
    return report


def assert_checkov_clean(report: dict[str, Any]) -> None:
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0, summary
    assert summary["passed"] >= 10, f"checkov ran suspiciously few checks: {summary}"


def test_checkov_on_the_template():
    report = checkov(TEMPLATE)
    assert_checkov_clean(report)


# Parameter values that switch every optional resource on.
EVERY_OPTION_ON = {
    "StatusPage": "true",
    "CreateTrail": "true",
    "ImportSesRecommendations": "true",
    "EventSourceOrganizationId": "o-a1b2c3d4e5",
    "AlertEmail": "ops@example.com",
    "SlackWebhookSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf",
    "ScanRoleArns": "arn:aws:iam::210987654321:role/ses-dkim-monitor-scan",
    "ScanOrganizationRoleName": "ses-dkim-monitor-scan",
}
OPTIONAL_RESOURCES = {"StatusPageBucket", "StatusPageBucketPolicy", "Trail", "TrailBucket", "TrailBucketPolicy"}


@pytest.fixture(scope="module")
def every_option_on(tmp_path_factory) -> Path:
    template = load_yaml(TEMPLATE.read_text())
    for name, value in EVERY_OPTION_ON.items():
        template["Parameters"][name]["Default"] = value
    path = tmp_path_factory.mktemp("options") / "template.yaml"
    path.write_text(dump_yaml(template))
    return path


def test_checkov_with_every_optional_resource_switched_on(every_option_on):
    report = checkov(every_option_on)
    assert_checkov_clean(report)
    seen = {
        c["resource"].split(".", 1)[1] for c in report["results"]["passed_checks"] + report["results"]["skipped_checks"]
    }
    # The buckets and the trail must really have been checked, or this run adds nothing.
    assert {"StatusPageBucket", "TrailBucket", "Trail"} <= seen, sorted(seen)


def test_cfn_lint_with_every_optional_resource_switched_on(every_option_on):
    result = run(BIN / "cfn-lint", "--include-checks", "I", "--", every_option_on)
    assert_ok(result)
    assert result.stdout.strip() == "", result.stdout
    assert set(load_yaml(every_option_on.read_text())["Resources"]) >= OPTIONAL_RESOURCES


def test_checkov_on_the_sam_transformed_template(transformed):
    path, _ = transformed
    report = checkov(path)
    assert_checkov_clean(report)
    resources = {c["resource"].split(".")[0] for c in report["results"]["passed_checks"]}
    assert "AWS::Lambda::Function" in resources, "checkov must see the function SAM generates"


def test_cfn_lint_on_the_sam_transformed_template(transformed):
    path, _ = transformed
    result = run(BIN / "cfn-lint", "--include-checks", "I", "--", path)
    assert_ok(result)


def test_sam_adds_no_role_or_policy_of_its_own(transformed):
    # With an explicit Role, SAM must not create another role or attach managed policies
    # (e.g. AWSLambdaBasicExecutionRole with logs:* on "*"): the grants tested in
    # tests/deploy/test_template.py are then the function's only permissions.
    _, template = transformed
    iam = {name: res["Type"] for name, res in template["Resources"].items() if res["Type"].startswith("AWS::IAM::")}
    assert iam == {"MonitorRole": "AWS::IAM::Role"}
    role = template["Resources"]["MonitorRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    fn = template["Resources"]["MonitorFunction"]["Properties"]
    assert fn["Role"] == {"Fn::GetAtt": ["MonitorRole", "Arn"]}
    rules = {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"}
    scheduled = [p["ScheduleExpression"] for p in rules.values() if "ScheduleExpression" in p]
    assert scheduled == [{"Ref": "ScheduleExpression"}], "one schedule, SAM's"
    assert {name for name, p in rules.items() if "EventPattern" in p} == set(PATTERNS), (
        "SAM adds no event rule of its own: the re-check rules are the template's"
    )
    permissions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    assert all(p["Principal"] == "events.amazonaws.com" and "SourceArn" in p for p in permissions)
    assert len(permissions) == len(rules), "one invoke permission per rule, each limited to its rule"
    [invoke] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert invoke["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailureQueue", "Arn"]
    }
