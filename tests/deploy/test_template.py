"""template.yaml and samconfig.toml against the code they deploy.

The linters (tests/deploy/test_template_tools.py) check the template's shape; these
tests check what they cannot: that the role grants exactly the AWS calls the
code makes (found by reading the source, not from a hand-written list), that
the alarms watch metrics the code really writes, that the state table is the
one the state store can use, and that the environment the template builds is
one ``Settings.from_env`` accepts.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest

import ses_dkim_monitor
from ses_dkim_monitor.settings import ConfigError, Settings
from tests.support.paths import REPO, SRC
from tests.support.template import (
    create_table_from_template,
    deployed_environment,
    load_template,
    props,
    references,
    resource,
)

# IAM actions the function's role needs although the code never calls them: the Lambda service
# acts with the role to write the function's logs and to send failure records to the on-failure
# destination, and publishing to (or sending to) a queue or topic, or writing an SSE-KMS object,
# encrypted with a customer managed key needs that key. Action -> the resources it is granted on.
_LOG_GROUP = {"Fn::GetAtt": ["MonitorLogGroup", "Arn"]}
_ALERT_KEY = {"Fn::GetAtt": ["AlertKey", "Arn"]}
# The SQS event sources poll the fan-out and re-check queues with the function's role.
_POLLED_QUEUES = ({"Fn::GetAtt": ["FanOutQueue", "Arn"]}, {"Fn::GetAtt": ["RecheckQueue", "Arn"]})
PLATFORM_ACTIONS: dict[str, tuple[Any, ...]] = {
    "logs:CreateLogStream": (_LOG_GROUP,),
    "logs:PutLogEvents": (_LOG_GROUP,),
    "sqs:SendMessage": ({"Fn::GetAtt": ["FailureQueue", "Arn"]},),
    "kms:GenerateDataKey": (_ALERT_KEY,),
    "kms:Decrypt": (_ALERT_KEY,),
    "sqs:ReceiveMessage": _POLLED_QUEUES,
    "sqs:DeleteMessage": _POLLED_QUEUES,
    "sqs:GetQueueAttributes": _POLLED_QUEUES,
}
# Calls that need no IAM permission at all.
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
# API operations whose IAM action has another name.
IAM_ACTION_FOR_API = {
    "sns:PublishBatch": "sns:Publish",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    # S3's object listings are authorized as ListBucket on the bucket (S3 API reference).
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
}
# SES reads that accept no resource ARN (list and batch calls): Resource "*" is the only choice.
SES_UNSCOPABLE = {"ses:ListEmailIdentities", "ses:GetIdentityDkimAttributes", "ses:GetIdentityMailFromDomainAttributes"}
# Reads that accept no resource ARN at all: "*" is the only resource that works. ses:GetAccount has
# no resource type in IAM's service authorization reference; ses:ListRecommendations only an
# optional one (identity), which an account-wide list does not name.
UNSCOPABLE = {*SES_UNSCOPABLE, "organizations:ListAccounts", "ses:GetAccount", "ses:ListRecommendations"}
# Where each service's actions must be scoped (any of these resources).
SCOPE_BY_SERVICE: dict[str, list[Any]] = {
    "dynamodb": [{"Fn::GetAtt": ["StateTable", "Arn"]}],
    "sns": [{"Ref": "AlertTopic"}],
    "secretsmanager": [{"Ref": "SlackWebhookSecretArn"}],
    "ses": [{"Fn::Sub": "arn:${AWS::Partition}:ses:*:${AWS::AccountId}:identity/*"}],
    "sqs": [{"Fn::GetAtt": ["FanOutQueue", "Arn"]}, {"Fn::GetAtt": ["RecheckQueue", "Arn"]}],
    "route53": [{"Fn::Sub": "arn:${AWS::Partition}:route53:::change/*"}],
}
# Grants that exist only when a parameter asks for them: action -> {condition: resource}.
CONDITIONAL_GRANTS = {
    "secretsmanager:GetSecretValue": {"HasSlackSecret": {"Ref": "SlackWebhookSecretArn"}},
    "sts:AssumeRole": {
        "HasScanRoleArns": {"Fn::Split": [",", {"Ref": "ScanRoleArns"}]},
        "HasOrganizationRole": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ScanOrganizationRoleName}"},
    },
    "organizations:ListAccounts": {"HasOrganizationRole": "*"},
    "ses:GetAccount": {"ImportsSesRecommendations": "*"},
    "ses:ListRecommendations": {"ImportsSesRecommendations": "*"},
    "s3:PutObject": {"HasStatusPage": {"Fn::Sub": "${StatusPageBucket.Arn}/status/*"}},
    "s3:ListBucket": {"HasStatusPage": {"Fn::GetAtt": ["StatusPageBucket", "Arn"]}},
}
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
}


# ---------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def role_statements(template: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """Every statement of the function's role, with the condition it depends on (if any)."""
    fn = props(template, "MonitorFunction")
    assert fn["Role"] == {"Fn::GetAtt": ["MonitorRole", "Arn"]}, "the function must use MonitorRole"
    assert "Policies" not in fn, "policies belong in MonitorRole, where the tests read them"
    role = props(template, "MonitorRole")
    assert "ManagedPolicyArns" not in role, "no managed policies: their actions are not visible here"
    out: list[tuple[dict[str, Any], str | None]] = []
    for policy in role["Policies"]:
        for stmt in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in stmt:
                condition, when_true, when_false = stmt["Fn::If"]
                assert when_false == {"Ref": "AWS::NoValue"}
                out.append((when_true, condition))
            else:
                out.append((stmt, None))
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(template: dict[str, Any]) -> dict[str, list[tuple[Any, str | None]]]:
    """IAM action -> [(resource, condition)] over the role's Allow statements."""
    out: dict[str, list[tuple[Any, str | None]]] = {}
    for stmt, condition in role_statements(template):
        assert stmt["Effect"] == "Allow"
        assert "NotAction" not in stmt and "NotResource" not in stmt
        for action in as_list(stmt["Action"]):
            for res in as_list(stmt["Resource"]):
                out.setdefault(action, []).append((res, condition))
    return out


# ---------------------------------------------------------------- what the code calls


# Packages only the CLI runs (cli.py imports them inside a function): their AWS calls are made with the
# CLI user's credentials, never the Lambda's, so the role must not grant them (`fix` changes Route 53
# records). test_the_lambda_never_imports_a_cli_only_package keeps them out of the Lambda's reach.
CLI_ONLY_PACKAGES = {"fix"}


def _trees() -> dict[str, ast.Module]:
    """Every module of the package the Lambda may run, by dotted name relative to it (``scan.inventory``)."""
    return {
        ".".join(p.relative_to(SRC).with_suffix("").parts): ast.parse(p.read_text(), filename=str(p))
        for p in sorted(SRC.rglob("*.py"))
        if p.relative_to(SRC).parts[0] not in CLI_ONLY_PACKAGES
    }


def _module_file(dotted: str) -> Path | None:
    """The file of a module named relative to the package ("" is the package), or None for an attribute."""
    if not dotted:
        return SRC / "__init__.py"
    base = SRC.joinpath(*dotted.split("."))
    return next((f for f in (base.with_suffix(".py"), base / "__init__.py") if f.is_file()), None)


def _imported_modules(dotted: str) -> set[str]:
    """Modules of the package that ``dotted`` imports anywhere in its code (functions included)."""
    path = _module_file(dotted)
    assert path is not None, dotted
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    package = parts[:-1]  # for __init__.py too: its relative imports start from its own package
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("ses_dkim_monitor.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("ses_dkim_monitor"):
                    continue
                base = (node.module or "").split(".")[1:]
            else:
                base = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            names.add(".".join(base))
            names |= {".".join([*base, a.name]) for a in node.names}
    found: set[str] = set()
    for name in names:
        pieces = name.split(".") if name else []
        for i in range(len(pieces) + 1):  # importing a.b runs a/__init__.py first
            prefix = ".".join(pieces[:i])
            if _module_file(prefix) is not None:
                found.add(prefix)
    return found


def reachable_from(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for name in _imported_modules(todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def services_built_by_code() -> set[str]:
    """Service names passed as a literal to ``.client(...)``/``.resource(...)`` or a client factory."""
    services: set[str] = set()
    for tree in _trees().values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _call_name(node) in ("client", "resource")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                services.add(node.args[0].value)
    return services


def aws_calls_in_code() -> dict[str, set[str]]:
    """IAM action -> modules, from the source.

    For every service the code builds a client for, botocore's service model
    gives the snake_case method of each operation. A call ``x.<method>(...)``,
    or the method name as a string (``getattr(client, "get_identity_dkim_attributes")``,
    ``get_paginator("query")``), counts as a call of that operation. Powertools'
    ``SecretsProvider``/``get_secret`` count as GetSecretValue.
    """
    session = botocore.session.get_session()
    methods: dict[str, set[str]] = {}
    for service in services_built_by_code():
        model = session.get_service_model(service)
        prefix = model.signing_name  # the IAM prefix: "ses" for both SES APIs
        for op in model.operation_names:
            action = f"{prefix}:{op}"
            methods.setdefault(botocore.xform_name(op), set()).add(IAM_ACTION_FOR_API.get(action, action))
    found: dict[str, set[str]] = {}
    for module, tree in _trees().items():
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                names.append(node.func.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.append(node.value)
            elif isinstance(node, (ast.Name, ast.Attribute, ast.alias)):
                ident = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", "")
                if ident.split(".")[-1] in ("SecretsProvider", "get_secret", "get_secret_value"):
                    found.setdefault("secretsmanager:GetSecretValue", set()).add(module)
            for name in names:
                for action in methods.get(name, ()):
                    found.setdefault(action, set()).add(module)
    return found


def declared_iam_actions() -> dict[str, tuple[str, ...]]:
    """Module -> its ``IAM_ACTIONS`` literal."""
    out: dict[str, tuple[str, ...]] = {}
    for module, tree in _trees().items():
        for node in tree.body:
            target = (
                node.target
                if isinstance(node, ast.AnnAssign)
                else (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
            )
            if isinstance(target, ast.Name) and target.id == "IAM_ACTIONS":
                out[module] = tuple(ast.literal_eval(node.value))
    return out


@pytest.fixture(scope="module")
def code_calls() -> dict[str, set[str]]:
    calls = aws_calls_in_code()
    # Guard against the scan silently finding nothing (a refactor renaming client()...).
    assert "ses:ListEmailIdentities" in calls, f"the source scan found no SES inventory call: {calls}"
    return calls


def needed_actions(code_calls: dict[str, set[str]] | set[str]) -> set[str]:
    return set(code_calls) - NO_PERMISSION_NEEDED


# ---------------------------------------------------------------- IAM


def test_every_aws_call_in_the_code_is_granted_with_its_resource_scope(template, code_calls):
    granted = grants(template)
    for action in sorted(needed_actions(code_calls)):
        assert action in granted, f"{action} (called in {sorted(code_calls[action])}) is not granted to MonitorRole"
        for res, condition in granted[action]:
            if action in PLATFORM_ACTIONS and res in PLATFORM_ACTIONS[action] and condition is None:
                continue  # the same action granted for the platform's own use, checked below
            if action in CONDITIONAL_GRANTS:
                assert condition in CONDITIONAL_GRANTS[action], f"{action} must exist only when configured"
                assert res == CONDITIONAL_GRANTS[action][condition], f"{action} under {condition} granted on {res}"
                continue
            assert condition is None, f"{action} is granted only under {condition}"
            if action in UNSCOPABLE:
                assert res == "*", f"{action} takes no resource: grant it on '*' only"
                continue
            service = action.split(":")[0]
            assert res in SCOPE_BY_SERVICE[service], f"{action} granted on {res}, expected {SCOPE_BY_SERVICE[service]}"


def test_cross_account_grants_exist_only_when_configured(template):
    granted = grants(template)
    for action, by_condition in CONDITIONAL_GRANTS.items():
        assert sorted(granted[action], key=repr) == sorted(((r, c) for c, r in by_condition.items()), key=repr), action


def test_the_organization_role_may_be_assumed_only_in_accounts_of_the_monitors_own_organization(template):
    # arn:aws:iam::*:role/<name> alone would let the function assume a role of that name in any account whose
    # trust policy allows it, inside the organization or not (docs/member-accounts.md).
    [(stmt, condition)] = [(s, c) for s, c in role_statements(template) if s.get("Sid") == "AssumeOrganizationScanRole"]
    assert condition == "HasOrganizationRole"
    assert stmt["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
    for other, _ in role_statements(template):
        if other is not stmt:
            assert "Condition" not in other or other.get("Sid") == "ListStatusPage", other


def test_fanned_out_shards_are_consumed_with_bounded_concurrency_and_a_dead_letter_queue(template):
    fn = props(template, "MonitorFunction")
    fan_out = fn["Events"]["FanOut"]
    assert fan_out["Type"] == "SQS"
    assert fan_out["Properties"]["Queue"] == {"Fn::GetAtt": ["FanOutQueue", "Arn"]}
    assert fan_out["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert fan_out["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "FanOutConcurrency"}}
    queue = props(template, "FanOutQueue")
    assert queue["VisibilityTimeout"] >= 6 * fn["Timeout"], "AWS advises six times the function's timeout"
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FanOutDeadLetterQueue", "Arn"]}
    assert queue["KmsMasterKeyId"] and props(template, "FanOutDeadLetterQueue")["KmsMasterKeyId"]
    alarm = alarms(template)["FanOutDeadLetterAlarm"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FanOutDeadLetterQueue", "QueueName"]}}
    ]


def test_role_grants_nothing_the_code_does_not_call(template, code_calls):
    allowed = needed_actions(code_calls) | set(PLATFORM_ACTIONS)
    for action, uses in grants(template).items():
        assert "*" not in action, f"wildcard action {action!r}"
        assert action in allowed, f"{action} is granted but nothing in src/ calls it"
        if action in PLATFORM_ACTIONS:
            resources = [r for r, _ in uses]
            for platform_resource in PLATFORM_ACTIONS[action]:
                assert platform_resource in resources, f"{action} must be granted on {platform_resource}"
            if action not in needed_actions(set(code_calls)):
                assert sorted(resources, key=repr) == sorted(PLATFORM_ACTIONS[action], key=repr), (
                    f"{action} granted beyond the platform's"
                )


def test_only_unscopable_reads_use_resource_star(template):
    for action, uses in grants(template).items():
        if any(res == "*" for res, _ in uses):
            assert action in UNSCOPABLE, f"{action} granted on '*'"


def test_modules_declare_the_iam_actions_the_template_grants(template, code_calls):
    declared = declared_iam_actions()
    assert {"scan.inventory", "alerts.dynamodb_store", "notify.sns", "notify.slack"} <= set(declared), declared
    union = {a for actions in declared.values() for a in actions}
    code_granted = set(grants(template)) - (set(PLATFORM_ACTIONS) - union)
    assert union == code_granted, (
        f"IAM_ACTIONS declared by the modules {sorted(union)} differ from the template's grants {sorted(code_granted)}"
    )
    undeclared = needed_actions(code_calls) - union
    assert not undeclared, f"the code calls {sorted(undeclared)} but no module declares it in IAM_ACTIONS"


def test_each_adapter_declares_every_aws_call_it_makes(code_calls):
    """A module's IAM_ACTIONS name all it calls, not only what some other module happens to declare too."""
    declared = declared_iam_actions()
    missing = {
        f"{module}: {action}"
        for action, modules in needed_actions_by_module(code_calls).items()
        for module in modules
        if module in declared and action not in declared[module]
    }
    assert missing == set()


def needed_actions_by_module(code_calls: dict[str, set[str]]) -> dict[str, set[str]]:
    return {action: modules for action, modules in code_calls.items() if action not in NO_PERMISSION_NEEDED}


def test_source_scan_finds_the_calls_each_adapter_declares(code_calls):
    # The scan above must see what the adapters do, or its checks prove nothing.
    for module, actions in declared_iam_actions().items():
        for action in actions:
            assert action in code_calls, f"{module} declares {action} but the source scan does not see it called"


def test_the_lambda_never_imports_a_cli_only_package():
    lambda_modules = reachable_from("handler")
    assert {"runs", "scan.engine", "alerts.run"} <= lambda_modules, "the import walk finds nothing: is it broken?"
    reached = sorted(m for m in lambda_modules if m.split(".")[0] in CLI_ONLY_PACKAGES)
    assert reached == [], f"the Lambda reaches CLI-only code (Route 53 changes): {reached}"
    # The walk does see an import made inside a function: the CLI reaches the fix command that way.
    assert "fix.command" in reachable_from("cli")


def test_no_policy_grants_a_wildcard_action_anywhere(template):
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            assert name == "MonitorRole", f"unexpected role {name}"
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            pytest.fail(f"unexpected policy {name}: keep the function's grants in MonitorRole")


def test_the_role_can_only_be_assumed_by_lambda(template):
    [stmt] = props(template, "MonitorRole")["AssumeRolePolicyDocument"]["Statement"]
    assert stmt == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


# ---------------------------------------------------------------- the function


def test_function_runtime_architecture_and_handler(template):
    fn = props(template, "MonitorFunction")
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == ["arm64"]
    assert fn["CodeUri"] == "src/" and (REPO / "src" / "requirements.txt").is_file()
    module, func = fn["Handler"].rsplit(".", 1)
    path = REPO / "src" / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"handler module {path} missing"
    defs = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    assert func in defs
    # Memory is a parameter because it buys CPU, and the DNS phase is CPU-bound: every value the
    # parameter accepts must be one Lambda accepts, and the default one full vCPU (1769 MB).
    assert fn["MemorySize"] == {"Ref": "FunctionMemoryMB"}
    memory = template["Parameters"]["FunctionMemoryMB"]
    assert 128 <= memory["MinValue"] <= memory["Default"] <= memory["MaxValue"] <= 10240
    assert memory["Default"] == 1769
    assert 60 <= fn["Timeout"] <= 900


def test_powertools_environment_in_globals(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}
    assert isinstance(env["POWERTOOLS_METRICS_NAMESPACE"], str) and env["POWERTOOLS_METRICS_NAMESPACE"]
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_environment_variables_are_ones_the_code_reads(template):
    settings_src = (SRC / "settings.py").read_text()
    env = props(template, "MonitorFunction")["Environment"]["Variables"]
    for name in env:
        assert f'"{name}"' in settings_src, f"{name} is set by the template but settings.py never reads it"


def test_alert_language_is_a_parameter_of_english_or_japanese_passed_to_the_function(template):
    param = template["Parameters"]["AlertLanguage"]
    assert param["AllowedValues"] == ["en", "ja"] and param["Default"] == "en"
    env = props(template, "MonitorFunction")["Environment"]["Variables"]
    assert env["ALERT_LANGUAGE"] == {"Ref": "AlertLanguage"}
    assert Settings.from_env(deployed_environment(template, {"AlertLanguage": "ja"})).language == "ja"
    assert Settings.from_env(deployed_environment(template, {})).language == "en"


def test_default_deployment_environment_parses(template):
    settings = Settings.from_env(deployed_environment(template, {}))
    assert settings.regions == ("eu-west-1",), "empty ScanRegions must mean the stack's own region"
    assert settings.nameservers == () and settings.slack_secret_arn == ""
    assert settings.state_table and settings.topic_arn.startswith("arn:aws:sns:")
    assert settings.reminder_hours == 24 and settings.min_severity.value == "warning"


def test_fully_configured_environment_parses(template):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ses-dkim-monitor/slack-AbCdEf"
    settings = Settings.from_env(
        deployed_environment(
            template,
            {
                "ScanRegions": "us-east-1, eu-west-1",
                "DnsNameservers": "1.1.1.1,8.8.8.8:53",
                "SlackWebhookSecretArn": arn,
                "ReminderHours": "6",
                "MinAlertSeverity": "critical",
            },
        )
    )
    assert settings.regions == ("us-east-1", "eu-west-1")
    assert [str(n) for n in settings.nameservers] == ["1.1.1.1:53", "8.8.8.8:53"]
    assert settings.slack_secret_arn == arn and settings.reminder_hours == 6


def test_every_reference_points_at_something_that_exists(template):
    known = set(template["Parameters"]) | set(template["Resources"]) | PSEUDO_PARAMETERS

    for ref in references(template["Resources"], template["Conditions"]):
        assert ref in known, f"reference to unknown {ref}"
    for ref in references(template["Outputs"], template["Conditions"]):
        assert ref in known, f"output references unknown {ref}"
    for cond in template["Conditions"].values():
        for ref in references(cond, template["Conditions"]):
            assert ref in template["Parameters"], f"condition references unknown parameter {ref}"


def test_schedule_and_async_failure_handling(template):
    fn = props(template, "MonitorFunction")
    event = fn["Events"]["Schedule"]
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "ScheduleExpression"}
    assert template["Parameters"]["ScheduleExpression"]["Default"] == "rate(1 hour)"
    invoke = fn["EventInvokeConfig"]
    assert 0 <= invoke["MaximumRetryAttempts"] <= 2
    on_failure = invoke["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
    queue = props(template, "FailureQueue")
    assert queue.get("KmsMasterKeyId") or queue.get("SqsManagedSseEnabled"), "the failure queue must be encrypted"


def test_log_group_has_retention_and_is_the_functions(template):
    group = resource(template, "MonitorLogGroup", "AWS::Logs::LogGroup")["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert all(isinstance(d, int) for d in template["Parameters"]["LogRetentionDays"]["AllowedValues"])
    assert props(template, "MonitorFunction")["LoggingConfig"]["LogGroup"] == {"Ref": "MonitorLogGroup"}
    # The key policy lets CloudWatch Logs use the key for exactly this log group.
    [logs_stmt] = [
        s
        for s in props(template, "AlertKey")["KeyPolicy"]["Statement"]
        if s["Principal"].get("Service") == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
    ]
    context_arn = logs_stmt["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Sub"]
    assert context_arn.endswith(":log-group:" + group["LogGroupName"]["Fn::Sub"])


# ---------------------------------------------------------------- alerts and self-monitoring


def test_topic_uses_a_customer_managed_key_cloudwatch_may_use(template):
    topic = resource(template, "AlertTopic", "AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}, "not alias/aws/sns: alarms could not publish"
    key = props(template, "AlertKey")
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    root = [
        s
        for s in statements
        if s["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    ]
    assert root and root[0]["Action"] == "kms:*", "keep the account-root statement so the key stays manageable"
    [cw] = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cw["Effect"] == "Allow" and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(cw["Action"]))


def test_email_subscription_is_optional(template):
    sub = resource(template, "AlertEmailSubscription", "AWS::SNS::Subscription")
    assert sub["Condition"] == "HasAlertEmail"
    assert sub["Properties"] == {
        "TopicArn": {"Ref": "AlertTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlertEmail"},
    }
    for cond, param in (
        ("HasAlertEmail", "AlertEmail"),
        ("HasSlackSecret", "SlackWebhookSecretArn"),
        ("HasScanRegions", "ScanRegions"),
    ):
        assert template["Conditions"][cond] == {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, ""]}]}
        assert template["Parameters"][param]["Default"] == ""
    assert template["Parameters"]["DnsNameservers"]["Default"] == ""


def _pattern(template: dict[str, Any], name: str) -> re.Pattern[str]:
    return re.compile(template["Parameters"][name]["AllowedPattern"])


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("SlackWebhookSecretArn", "", True),
        ("SlackWebhookSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf", True),
        # Without the random suffix IAM would deny GetSecretValue at the first alert.
        ("SlackWebhookSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack", False),
        ("SlackWebhookSecretArn", "https://hooks.slack.com/services/T/B/x", False),
        ("AlertEmail", "", True),
        ("AlertEmail", "ops@example.com", True),
        ("AlertEmail", "ops", False),
        ("ScanRegions", "", True),
        ("ScanRegions", "us-east-1", True),
        ("ScanRegions", "us-east-1,eu-west-1", True),
        ("ScanRegions", "us-east-1, eu-west-1", True),
        ("ScanRegions", "US East", False),
        ("DnsNameservers", "", True),
        ("DnsNameservers", "1.1.1.1,8.8.8.8:53,[2606:4700::1111]:53", True),
        ("DnsNameservers", "dns.google", False),
        ("ScheduleExpression", "rate(1 hour)", True),
        ("ScheduleExpression", "cron(0 7 * * ? *)", True),
        ("ScheduleExpression", "hourly", False),
    ],
)
def test_parameter_patterns(template, name, value, ok):
    assert bool(_pattern(template, name).fullmatch(value)) is ok


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _metric_name_argument(call: ast.Call, position: int = 0) -> ast.expr | None:
    named = [kw.value for kw in call.keywords if kw.arg == "name"]
    return named[0] if named else (call.args[position] if len(call.args) > position else None)


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]


def metrics_written_by_code() -> set[str]:
    """Metric names the Lambda's code writes, from the source.

    ``add_metric(name="X")`` writes X. A function that passes one of its own parameters on as the
    name (``def count(self, name): self.metrics.add_metric(name=name, ...)``) is a wrapper: a call
    of it in the same module with a literal (``ctx.count("RechecksRun")``) writes that name. Any other
    name (a variable, an f-string) fails here, so a metric cannot hide from the dashboard and alarm
    checks.
    """
    found: set[str] = set()
    for module, tree in _trees().items():
        wrappers: dict[str, int] = {}  # wrapper name -> position of its name parameter (self excluded)
        passed_on: set[int] = set()  # add_metric calls whose name is the enclosing function's parameter
        for func in _functions(tree):
            params = [a.arg for a in func.args.args if a.arg not in ("self", "cls")]
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and _call_name(node) == "add_metric":
                    arg = _metric_name_argument(node)
                    if isinstance(arg, ast.Name) and arg.id in params:
                        wrappers[func.name] = params.index(arg.id)
                        passed_on.add(id(node))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in passed_on:
                continue
            name = _call_name(node)
            if name == "add_metric":
                arg = _metric_name_argument(node)
            elif name in wrappers:
                arg = _metric_name_argument(node, wrappers[name])
            else:
                continue
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise AssertionError(f"{module}: a metric name this scan cannot read: {ast.unparse(node)}")
            found.add(arg.value)
    return found


def test_metric_scan_sees_literal_and_wrapped_names():
    written = metrics_written_by_code()
    assert {"ScanCompleted", "NotificationsFailed", "IdentitiesOutOfTime", "SesThrottled"} <= written, written


def test_every_alarm_notifies_the_alert_topic(template):
    found = alarms(template)
    assert {"HeartbeatAlarm", "ErrorsAlarm", "NotificationsFailedAlarm", "FailureQueueAlarm"} <= set(found)
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}], name
        assert alarm["TreatMissingData"] in ("breaching", "notBreaching", "ignore"), name


def test_heartbeat_alarm_fires_when_runs_stop(template):
    alarm = alarms(template)["HeartbeatAlarm"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["MetricName"] == "ScanCompleted" and "ScanCompleted" in metrics_written_by_code()
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["TreatMissingData"] == "breaching", "silence must count as failure"
    assert (
        alarm["Statistic"] == "Sum" and alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["Threshold"] == 1
    )
    assert alarm["Period"] == {"Ref": "HeartbeatPeriodSeconds"}
    assert alarm["EvaluationPeriods"] == 2 and alarm["DatapointsToAlarm"] == 2, "two schedule periods without a run"
    assert alarm["OKActions"] == [{"Ref": "AlertTopic"}]


def test_heartbeat_periods_are_valid_cloudwatch_periods(template):
    param = template["Parameters"]["HeartbeatPeriodSeconds"]
    for period in param["AllowedValues"]:
        assert period % 60 == 0
        # CloudWatch: Period x EvaluationPeriods <= 1 day below hourly periods, <= 7 days above.
        assert 2 * period <= (86400 if period < 3600 else 604800)
    assert schedule_seconds(template["Parameters"]["ScheduleExpression"]["Default"]) <= param["Default"]


def test_errors_and_delivery_alarms_watch_the_right_metrics(template):
    found = alarms(template)
    errors = found["ErrorsAlarm"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "MonitorFunction"}}]
    failed = found["NotificationsFailedAlarm"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert failed["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert failed["MetricName"] == "NotificationsFailed" and "NotificationsFailed" in metrics_written_by_code()
    assert failed["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    queue = found["FailureQueueAlarm"]
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailureQueue", "QueueName"]}}]
    for alarm in (errors, failed, queue):
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1


def test_every_alarm_on_the_monitors_namespace_watches_a_metric_the_code_writes(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    written = metrics_written_by_code()
    watched = {
        name: alarm
        for name, alarm in alarms(template).items()
        if alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    }
    assert len(watched) >= 6, sorted(watched)
    for name, alarm in watched.items():
        assert alarm["MetricName"] in written, f"{name} watches {alarm['MetricName']}, which the code never writes"
        assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}], name


@pytest.mark.parametrize(
    ("name", "metric", "period", "threshold"),
    [
        # Some identities went unchecked in one schedule period: the run hit its time budget.
        ("IdentitiesOutOfTimeAlarm", "IdentitiesOutOfTime", {"Ref": "HeartbeatPeriodSeconds"}, 0),
        # The pacer is not keeping SES's limit.
        ("SesThrottledAlarm", "SesThrottled", 3600, 50),
        # A rule delivered an event the code cannot read (a broken rule, or AWS changed the shape).
        ("TriggerEventsMalformedAlarm", "TriggerEventsMalformed", 300, 0),
        # A queue message named what the configuration does not monitor: someone wrote to the queue.
        ("QueueMessagesRejectedAlarm", "QueueMessagesRejected", 300, 0),
    ],
)
def test_scale_and_trigger_alarms(template, name, metric, period, threshold):
    alarm = alarms(template)[name]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (env["POWERTOOLS_METRICS_NAMESPACE"], metric)
    assert alarm["Statistic"] == "Sum" and alarm["Period"] == period and alarm["EvaluationPeriods"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == threshold
    assert alarm["TreatMissingData"] == "notBreaching", "no run is the heartbeat alarm's business"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlertTopic"}]


def test_a_status_page_that_cannot_be_written_alarms_and_no_page_keeps_it_quiet(template):
    alarm = alarms(template)["StatusPageWriteErrorsAlarm"]
    assert alarm["MetricName"] == "StatusPageWriteErrors" and alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    # Without a status page nothing writes the metric: missing data must read as OK, not as a problem.
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlertTopic"}]


# ---------------------------------------------------------------- state table


def test_state_table_survives_updates_and_deletion(template):
    table = resource(template, "StateTable", "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    p = table["Properties"]
    assert p["DeletionProtectionEnabled"] is True
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert "TableName" not in p, "a fixed name would block a second stack in the account"
    assert p["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_state_store_works_on_the_table_the_template_creates(template, moto):
    from ses_dkim_monitor.alerts.dynamodb_store import DynamoDbStateStore as StateStore
    from ses_dkim_monitor.alerts.model import AlertState, AlertStatus
    from ses_dkim_monitor.models import Severity

    client = create_table_from_template(template, "state-from-template")
    store = StateStore(client, "state-from-template")
    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    opened = AlertState(
        account="123456789012",
        region="us-east-1",
        identity="example.test",
        key="dkim-record-missing#tok1",
        check="dkim-record-missing",
        severity=Severity.CRITICAL,
        message="tok1._domainkey.example.test does not exist",
        fix="Publish ...",
        first_seen=now,
        last_seen=now,
        version=1,
    )
    assert store.write(opened) is True
    assert store.write(opened) is False, "a second create of the same item must lose the race"
    resolved = AlertState(
        **{
            **opened.__dict__,
            "status": AlertStatus.RESOLVED,
            "resolved_at": now + timedelta(hours=1),
            "last_seen": now + timedelta(hours=1),
            "version": 2,
        }
    )
    assert store.write(resolved) is True
    [loaded] = store.load("123456789012", "us-east-1").states
    assert loaded.status is AlertStatus.RESOLVED and loaded.version == 2

    item = client.get_item(
        TableName="state-from-template",
        Key={"pk": {"S": "123456789012#us-east-1"}, "sk": {"S": "example.test#dkim-record-missing#tok1"}},
    )["Item"]
    ttl = client.describe_time_to_live(TableName="state-from-template")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] in item, "resolved items must carry the table's TTL attribute"
    assert int(item[ttl["AttributeName"]]["N"]) > int((now + timedelta(hours=1)).timestamp())
    backups = client.describe_continuous_backups(TableName="state-from-template")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


# ---------------------------------------------------------------- linter skips


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
    assert sorted(skips) == sorted(
        [
            ("MonitorFunction", "CKV_AWS_115"),  # reserved concurrency would break deploys in new accounts
            ("MonitorFunction", "CKV_AWS_116"),  # on-failure destination instead of a DLQ
            ("MonitorFunction", "CKV_AWS_117"),  # no VPC: public DNS and AWS APIs, no NAT cost
            ("MonitorFunction", "CKV_AWS_173"),  # environment holds no secrets
            ("StateTable", "CKV_AWS_119"),  # retained table must not depend on a stack-owned CMK
            ("StatusPageBucket", "CKV_AWS_18"),  # no access-log bucket for a page the function rewrites
            ("TrailBucket", "CKV_AWS_18"),  # no access-log bucket for the trail's own log bucket
            ("Trail", "CKV_AWS_35"),  # retained logs must not depend on a stack-owned CMK (SSE-S3)
        ]
    )


# ---------------------------------------------------------------- publishing metadata


def test_serverless_application_repository_metadata(template):
    app = template["Metadata"]["AWS::ServerlessRepo::Application"]
    for field in ("Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "SemanticVersion"):
        assert app.get(field), f"SAR metadata lacks {field}"
    assert app["SemanticVersion"] == ses_dkim_monitor.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", app["SemanticVersion"])
    assert app["SpdxLicenseId"] == "MIT-0" and "MIT No Attribution" in (REPO / app["LicenseUrl"]).read_text()
    assert (REPO / app["ReadmeUrl"]).is_file(), f"{app['ReadmeUrl']} is uploaded by sam publish and must exist"


# ---------------------------------------------------------------- samconfig.toml


def schedule_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    assert match, f"use a rate() schedule in samconfig or extend this helper: {expression}"
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def overrides(env: dict[str, Any]) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(env["deploy"]["parameters"]["parameter_overrides"]))


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads((REPO / "samconfig.toml").read_text())


def test_samconfig_has_default_and_prod_environments(samconfig):
    assert samconfig["version"] == 0.1
    stacks = set()
    for name in ("default", "prod"):
        env = samconfig[name]
        deploy = env["deploy"]["parameters"]
        assert deploy["confirm_changeset"] is True
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["resolve_s3"] is True
        stacks.add(env["global"]["parameters"]["stack_name"])
    assert len(stacks) == 2, "the environments must deploy different stacks"


@pytest.mark.parametrize("env_name", ["default", "prod"])
def test_samconfig_overrides_satisfy_the_template(samconfig, template, env_name):
    params = template["Parameters"]
    values = overrides(samconfig[env_name])
    for key, value in values.items():
        assert key in params, f"{env_name}: {key} is not a template parameter"
        p = params[key]
        if "AllowedValues" in p:
            assert value in [str(v) for v in p["AllowedValues"]], f"{env_name}: {key}={value}"
        if "AllowedPattern" in p:
            assert re.fullmatch(p["AllowedPattern"], value), f"{env_name}: {key}={value}"
        if "MinValue" in p:
            assert float(value) >= p["MinValue"], f"{env_name}: {key}={value}"
    schedule = values.get("ScheduleExpression", params["ScheduleExpression"]["Default"])
    heartbeat = int(values.get("HeartbeatPeriodSeconds", params["HeartbeatPeriodSeconds"]["Default"]))
    assert schedule_seconds(schedule) <= heartbeat, f"{env_name}: heartbeat period shorter than the schedule"


def _evaluate(node, parameters):
    """The few intrinsics a CloudFormation rule uses here, over parameter values."""
    if isinstance(node, dict):
        (key, value), *_ = node.items()
        if key == "Ref":
            return parameters.get(value, "")
        if key == "Fn::Equals":
            return _evaluate(value[0], parameters) == _evaluate(value[1], parameters)
        if key == "Fn::Not":
            return not _evaluate(value[0], parameters)
        if key == "Fn::And":
            return all(_evaluate(v, parameters) for v in value)
        if key == "Fn::Or":
            return any(_evaluate(v, parameters) for v in value)
        raise AssertionError(f"unexpected intrinsic {key}")
    return node


def _rules_pass(template, parameters) -> bool:
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not _evaluate(rule["RuleCondition"], parameters):
            continue
        if not all(_evaluate(a["Assert"], parameters) for a in rule["Assertions"]):
            return False
    return True


@pytest.mark.parametrize(
    "roles, org",
    [
        ("", ""),
        ("arn:aws:iam::111111111111:role/scan", ""),
        ("", "ses-dkim-monitor-scan"),
        ("arn:aws:iam::111111111111:role/scan", "ses-dkim-monitor-scan"),
    ],
)
def test_the_template_refuses_exactly_the_account_settings_the_function_would_refuse_at_start_up(template, roles, org):
    """Both ScanRoleArns and ScanOrganizationRoleName would stop every invocation: the stack refuses it first."""
    parameters = {"ScanRoleArns": roles, "ScanOrganizationRoleName": org}
    try:
        Settings.from_env(deployed_environment(template, parameters))
        starts = True
    except ConfigError as refused:
        assert "SCAN_ROLE_ARNS" in str(refused)
        starts = False
    assert _rules_pass(template, parameters) is starts
