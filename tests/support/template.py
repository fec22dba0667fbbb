"""template.yaml as data, and what CloudFormation would make of it (for tests that deploy it into moto)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
from cfn_flip import load_yaml

from tests.support.paths import TEMPLATE_PATH


def load_template() -> dict[str, Any]:
    # cfn-flip's loader understands !Ref, !Sub, !GetAtt, !If ... and returns their long form.
    return load_yaml(TEMPLATE_PATH.read_text())


def resource(template: dict[str, Any], name: str, type_: str) -> dict[str, Any]:
    res = template["Resources"][name]
    assert res["Type"] == type_, f"{name} is a {res['Type']}, expected {type_}"
    return res


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def references(node: Any, conditions: Mapping[str, Any]) -> Iterator[str]:
    """Every name an intrinsic in ``node`` refers to (``Ref``, ``Fn::GetAtt``, ``${...}`` in ``Fn::Sub``),
    asserting on the way that every condition it names (``Fn::If``, ``Condition``) is in ``conditions``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if not isinstance(value, str):
                    yield from references(value[1:], conditions)
            elif key == "Fn::If":
                assert value[0] in conditions, f"unknown condition {value[0]}"
                yield from references(value[1:], conditions)
            elif key == "Condition" and isinstance(value, str):
                assert value in conditions, f"unknown condition {value}"
            else:
                yield from references(value, conditions)
    elif isinstance(node, list):
        for item in node:
            yield from references(item, conditions)


def resolve(value: Any, params: dict[str, str], attrs: dict[str, str]) -> Any:
    """Evaluate the few intrinsics the function's environment uses, as CloudFormation would."""
    if isinstance(value, dict) and len(value) == 1:
        [(key, arg)] = value.items()
        if key == "Ref":
            return params[arg] if arg in params else attrs[arg]
        if key == "Fn::If":
            cond, yes, no = arg
            return resolve(yes if params["__conditions__"][cond] else no, params, attrs)
    return value


def deployed_environment(
    template: dict[str, Any],
    overrides: dict[str, str],
    *,
    region: str = "eu-west-1",
    stack: str = "ses-dkim-monitor",
    attrs: dict[str, str] | None = None,
) -> dict[str, str]:
    """The function's environment as CloudFormation would set it for these parameters.

    ``attrs`` gives the values of the resources the environment refers to
    (table name, topic ARN); by default made-up ones.
    """
    params = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    params.update(overrides)
    params.update({"AWS::Region": region, "AWS::StackName": stack, "AWS::AccountId": "123456789012"})
    params["__conditions__"] = {
        "HasScanRegions": params["ScanRegions"] != "",
        "HasAlertEmail": params["AlertEmail"] != "",
        "HasSlackSecret": params["SlackWebhookSecretArn"] != "",
        "HasScanRoleArns": params["ScanRoleArns"] != "",
        "HasOrganizationRole": params["ScanOrganizationRoleName"] != "",
        "HasStatusPage": params["StatusPage"] == "true",
    }
    attrs = attrs or {
        "StateTable": f"{stack}-StateTable-1A2B3C",
        "AlertTopic": f"arn:aws:sns:{region}:123456789012:{stack}-AlertTopic-1A2B3C",
        "FanOutQueue": f"https://sqs.{region}.amazonaws.com/123456789012/{stack}-FanOutQueue-1A2B3C",
        "RecheckQueue": f"https://sqs.{region}.amazonaws.com/123456789012/{stack}-RecheckQueue-1A2B3C",
        "StatusPageBucket": f"{stack}-statuspagebucket-1a2b3c4d5e6f",
    }
    env = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **props(template, "MonitorFunction")["Environment"]["Variables"],
    }
    return {k: str(resolve(v, params, attrs)) for k, v in env.items()}


def create_table_from_template(template: dict[str, Any], name: str, region: str = "us-east-1") -> Any:
    """Create the table in moto from the template's own definition (CloudFormation -> API names)."""
    p = props(template, "StateTable")
    client = boto3.client("dynamodb", region_name=region)
    client.create_table(
        TableName=name,
        AttributeDefinitions=p["AttributeDefinitions"],
        KeySchema=p["KeySchema"],
        BillingMode=p["BillingMode"],
        DeletionProtectionEnabled=p["DeletionProtectionEnabled"],
        SSESpecification={"Enabled": p["SSESpecification"]["SSEEnabled"]},
    )
    ttl = p["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
    )
    client.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        },
    )
    return client
