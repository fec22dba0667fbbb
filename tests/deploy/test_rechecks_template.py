"""template.yaml's event-driven re-checks (issue 10): rules, queues, trail, status page, bus policy.

The rules must carry exactly the patterns the code classifies by
(``ses_dkim_monitor.triggers.patterns.PATTERNS``), and every sample event in
events/triggers/ must reach a rule while the schedule's and the manual events
reach none (judged by tests/deploy/event_pattern.py, itself tested in
test_event_pattern.py). The rest pins what makes the wiring work in a real
account and that no linter sees: the dead-letter queue's key and queue
policies, the Lambda permissions, the trail's bucket policy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ses_dkim_monitor.triggers.patterns import PATTERNS
from tests.deploy.event_pattern import matches
from tests.support.paths import EVENTS
from tests.support.template import load_template, props, resource

SAMPLES = EVENTS / "triggers"
FUNCTION_ARN = {"Fn::GetAtt": ["MonitorFunction", "Arn"]}
DEAD_LETTER_ARN = {"Fn::GetAtt": ["TriggerDeadLetterQueue", "Arn"]}
ALERT_KEY_ARN = {"Fn::GetAtt": ["AlertKey", "Arn"]}
FORWARDER_ROLE_PATTERN = "ses-dkim-monitor-forwarder-*"  # the name templates/event-forwarder.yaml gives its role


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == type_}


def rule_patterns(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res["Properties"]["EventPattern"] for name, res in of_type(template, "AWS::Events::Rule").items()}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def statement(template: dict[str, Any], sid: str) -> tuple[dict[str, Any], str | None]:
    """A MonitorRole statement by Sid, with the condition it depends on (None: always there)."""
    for policy in props(template, "MonitorRole")["Policies"]:
        for stmt in policy["PolicyDocument"]["Statement"]:
            condition = None
            if "Fn::If" in stmt:
                condition, stmt, no = stmt["Fn::If"]
                assert no == {"Ref": "AWS::NoValue"}
            if stmt.get("Sid") == sid:
                return stmt, condition
    raise AssertionError(f"MonitorRole has no statement {sid}")


def true_false_parameter(template: dict[str, Any], name: str, default: str) -> None:
    param = template["Parameters"][name]
    assert param["Type"] == "String" and param["AllowedValues"] == ["true", "false"], name
    assert param["Default"] == default, name


# ---------------------------------------------------------------- the rules and the code's patterns


def test_one_rule_per_pattern_of_the_code_and_no_other(template):
    assert set(rule_patterns(template)) == set(PATTERNS), "one AWS::Events::Rule per PATTERNS entry, same names"


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_rule_pattern_equals_the_codes_exactly(template, name):
    deployed = rule_patterns(template)[name]
    expected = json.dumps(PATTERNS[name], indent=2)
    assert deployed == PATTERNS[name], f"{name}'s EventPattern differs from PATTERNS; it should be:\n{expected}"


def trigger_samples() -> list[Path]:
    found = sorted(SAMPLES.glob("*.json"))
    assert found, f"no sample events in {SAMPLES}"
    return found


@pytest.mark.parametrize("path", trigger_samples(), ids=lambda p: p.name)
def test_every_trigger_sample_reaches_a_rule_unless_the_call_failed(template, path):
    event = load(path)
    matched = {name for name, pattern in rule_patterns(template).items() if matches(pattern, event)}
    if "errorCode" in event.get("detail", {}):
        # A failed call changed nothing: the CloudTrail rules drop it ("exists": false).
        assert matched == set(), f"{path.name} records a failed call but reaches {matched}"
    else:
        assert matched, f"{path.name} reaches no rule: its re-check would never run"


def test_failed_call_samples_exist_so_the_branch_above_is_exercised():
    assert any("errorCode" in load(p).get("detail", {}) for p in trigger_samples())
    assert any("errorCode" not in load(p).get("detail", {}) for p in trigger_samples())


def scan_events() -> list[Path]:
    found = [EVENTS / "scheduled.json", *sorted(EVENTS.glob("manual*.json"))]
    assert len(found) >= 3 and all(p.is_file() for p in found), found
    return found


@pytest.mark.parametrize("path", scan_events(), ids=lambda p: p.name)
def test_schedule_and_manual_events_reach_no_trigger_rule(template, path):
    event = load(path)
    matched = {name for name, pattern in rule_patterns(template).items() if matches(pattern, event)}
    assert matched == set(), f"{path.name} would also start a re-check through {matched}"


# ---------------------------------------------------------------- rule wiring


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_rule_targets_the_function_with_retries_and_a_dead_letter_queue(template, name):
    rule = props(template, name)
    assert rule["EventBusName"] == "default"
    assert rule["State"] == {"Fn::If": ["EventRechecksEnabled", "ENABLED", "DISABLED"]}
    [target] = rule["Targets"]
    assert target["Arn"] == FUNCTION_ARN
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": DEAD_LETTER_ARN}
    assert "Input" not in target and "InputTransformer" not in target, (
        "the code reads the event as EventBridge sends it"
    )


def test_event_rechecks_parameter_disables_the_rules(template):
    true_false_parameter(template, "EventRechecks", "true")
    assert template["Conditions"]["EventRechecksEnabled"] == {"Fn::Equals": [{"Ref": "EventRechecks"}, "true"]}


def test_each_rule_and_only_a_rule_may_invoke_the_function(template):
    permissions = of_type(template, "AWS::Lambda::Permission")
    sources = []
    for name, res in permissions.items():
        p = res["Properties"]
        assert p["Action"] == "lambda:InvokeFunction", name
        assert p["FunctionName"] == FUNCTION_ARN, name
        assert p["Principal"] == "events.amazonaws.com", name
        sources.append(p["SourceArn"])
    assert sorted(sources, key=json.dumps) == sorted(
        ({"Fn::GetAtt": [rule, "Arn"]} for rule in PATTERNS), key=json.dumps
    ), "one permission per rule, each limited to its rule's ARN"


def test_dead_letter_queue_takes_events_from_exactly_the_rules(template):
    queue = props(template, "TriggerDeadLetterQueue")
    assert queue["KmsMasterKeyId"] == ALERT_KEY_ARN
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    policy = props(template, "TriggerDeadLetterQueuePolicy")
    assert policy["Queues"] == [{"Ref": "TriggerDeadLetterQueue"}]
    [stmt] = policy["PolicyDocument"]["Statement"]
    assert stmt["Effect"] == "Allow" and stmt["Principal"] == {"Service": "events.amazonaws.com"}
    assert stmt["Action"] == "sqs:SendMessage" and stmt["Resource"] == DEAD_LETTER_ARN
    assert sorted(stmt["Condition"]["ArnEquals"]["aws:SourceArn"], key=json.dumps) == sorted(
        ({"Fn::GetAtt": [rule, "Arn"]} for rule in PATTERNS), key=json.dumps
    )


def test_alert_key_lets_eventbridge_rules_of_this_account_encrypt_for_the_dead_letter_queue(template):
    statements = props(template, "AlertKey")["KeyPolicy"]["Statement"]
    [stmt] = [s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert stmt["Effect"] == "Allow" and set(stmt["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    condition = stmt["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert condition["ArnLike"] == {
        "aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*"}
    }


def test_undelivered_events_raise_an_alarm(template):
    alarm = props(template, "TriggerDeadLetterAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["TriggerDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["Threshold"] == 1
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}] and alarm["TreatMissingData"] == "notBreaching"


# ---------------------------------------------------------------- the re-check queue


def test_recheck_queue_is_consumed_in_batches_with_bounded_concurrency(template):
    fn = props(template, "MonitorFunction")
    event = fn["Events"]["Rechecks"]
    assert event["Type"] == "SQS"
    assert event["Properties"] == {
        "Queue": {"Fn::GetAtt": ["RecheckQueue", "Arn"]},
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 5},
    }
    assert fn["Environment"]["Variables"]["RECHECK_QUEUE_URL"] == {"Ref": "RecheckQueue"}


def test_recheck_queue_encrypted_with_a_dead_letter_queue_and_an_alarm(template):
    fn = props(template, "MonitorFunction")
    queue = props(template, "RecheckQueue")
    assert queue["KmsMasterKeyId"] == ALERT_KEY_ARN
    assert queue["VisibilityTimeout"] == 5400 and queue["VisibilityTimeout"] >= 6 * fn["Timeout"]
    assert queue["MessageRetentionPeriod"] == 86400
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["RecheckDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    dlq = props(template, "RecheckDeadLetterQueue")
    assert dlq["KmsMasterKeyId"] == ALERT_KEY_ARN and dlq["MessageRetentionPeriod"] == 14 * 86400
    alarm = props(template, "RecheckDeadLetterAlarm")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["RecheckDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["TreatMissingData"]) == (
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        "notBreaching",
    )


def test_role_sends_and_consumes_re_checks_and_reads_route53_change_status(template):
    send, condition = statement(template, "QueueRechecks")
    assert condition is None and send["Action"] == "sqs:SendMessage"
    assert send["Resource"] == {"Fn::GetAtt": ["RecheckQueue", "Arn"]}
    consume, condition = statement(template, "ConsumeRechecks")
    assert condition is None
    assert sorted(consume["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert consume["Resource"] == {"Fn::GetAtt": ["RecheckQueue", "Arn"]}
    change, condition = statement(template, "ReadRoute53ChangeStatus")
    assert condition is None and change["Action"] == "route53:GetChange"
    assert change["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:route53:::change/*"}


# ---------------------------------------------------------------- SES recommendations


def test_ses_recommendations_are_read_only_when_asked_for(template):
    true_false_parameter(template, "ImportSesRecommendations", "false")
    assert template["Conditions"]["ImportsSesRecommendations"] == {
        "Fn::Equals": [{"Ref": "ImportSesRecommendations"}, "true"]
    }
    stmt, condition = statement(template, "ReadSesRecommendations")
    assert condition == "ImportsSesRecommendations"
    assert sorted(stmt["Action"]) == ["ses:GetAccount", "ses:ListRecommendations"]
    assert stmt["Resource"] == "*", "neither takes a resource for an account-wide read"
    env = props(template, "MonitorFunction")["Environment"]["Variables"]
    assert env["IMPORT_SES_RECOMMENDATIONS"] == {"Ref": "ImportSesRecommendations"}


# ---------------------------------------------------------------- status page


def test_status_page_bucket_is_private_encrypted_versioned_and_optional(template):
    true_false_parameter(template, "StatusPage", "false")
    assert template["Conditions"]["HasStatusPage"] == {"Fn::Equals": [{"Ref": "StatusPage"}, "true"]}
    bucket = resource(template, "StatusPageBucket", "AWS::S3::Bucket")
    assert bucket["Condition"] == "HasStatusPage"
    p = bucket["Properties"]
    [rule] = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ALERT_KEY_ARN}
    assert rule["BucketKeyEnabled"] is True
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [lifecycle] = p["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert "BucketName" not in p and "WebsiteConfiguration" not in p
    env = props(template, "MonitorFunction")["Environment"]["Variables"]
    assert env["STATUS_PAGE_BUCKET"] == {"Fn::If": ["HasStatusPage", {"Ref": "StatusPageBucket"}, ""]}


def tls_only(policy: dict[str, Any], bucket: str) -> bool:
    arn = {"Fn::GetAtt": [bucket, "Arn"]}
    objects = {"Fn::Sub": f"${{{bucket}.Arn}}/*"}
    return any(
        s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and s["Resource"] == [arn, objects]
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )


def test_status_page_bucket_policy_refuses_plain_http(template):
    policy = resource(template, "StatusPageBucketPolicy", "AWS::S3::BucketPolicy")
    assert policy["Condition"] == "HasStatusPage"
    assert policy["Properties"]["Bucket"] == {"Ref": "StatusPageBucket"}
    assert tls_only(policy["Properties"], "StatusPageBucket")
    assert [s["Effect"] for s in policy["Properties"]["PolicyDocument"]["Statement"]] == ["Deny"], (
        "no Allow in the bucket policy: readers get access through IAM"
    )


def test_role_writes_and_lists_only_the_status_prefix(template):
    put, condition = statement(template, "WriteStatusPage")
    assert condition == "HasStatusPage" and put["Action"] == "s3:PutObject"
    assert put["Resource"] == {"Fn::Sub": "${StatusPageBucket.Arn}/status/*"}
    listing, condition = statement(template, "ListStatusPage")
    assert condition == "HasStatusPage" and listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == {"Fn::GetAtt": ["StatusPageBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "status/*"}}


# ---------------------------------------------------------------- the optional trail


def test_trail_records_write_management_events_in_every_region(template):
    true_false_parameter(template, "CreateTrail", "false")
    assert template["Conditions"]["CreatesTrail"] == {"Fn::Equals": [{"Ref": "CreateTrail"}, "true"]}
    trail = resource(template, "Trail", "AWS::CloudTrail::Trail")
    assert trail["Condition"] == "CreatesTrail"
    assert trail["DependsOn"] == "TrailBucketPolicy", "CloudTrail checks the bucket policy when the trail is created"
    p = trail["Properties"]
    assert p["IsLogging"] is True and p["IsMultiRegionTrail"] is True
    assert p["IncludeGlobalServiceEvents"] is True, "Route 53 is a global service"
    assert p["EnableLogFileValidation"] is True
    assert p["EventSelectors"] == [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    assert p["S3BucketName"] == {"Ref": "TrailBucket"}


def test_trail_bucket_policy_admits_only_this_trail(template):
    trail_name = props(template, "Trail")["TrailName"]["Fn::Sub"]
    trail_arn = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{trail_name}"
    }
    policy = resource(template, "TrailBucketPolicy", "AWS::S3::BucketPolicy")
    assert policy["Condition"] == "CreatesTrail"
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    acl, write = statements["CloudTrailAclCheck"], statements["CloudTrailWrite"]
    for stmt in (acl, write):
        assert stmt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert stmt["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert acl["Action"] == "s3:GetBucketAcl" and acl["Resource"] == {"Fn::GetAtt": ["TrailBucket", "Arn"]}
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == {"Fn::Sub": "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert tls_only(policy["Properties"], "TrailBucket")


def test_trail_bucket_is_private_kept_and_expires_logs(template):
    bucket = resource(template, "TrailBucket", "AWS::S3::Bucket")
    assert bucket["Condition"] == "CreatesTrail"
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain", "audit logs"
    p = bucket["Properties"]
    [rule] = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # Not the stack's KMS key: the retained logs must stay readable after the key is deleted.
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(p["PublicAccessBlockConfiguration"].values()) and len(p["PublicAccessBlockConfiguration"]) == 4
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [lifecycle] = p["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["ExpirationInDays"] == 90


# ---------------------------------------------------------------- events from other accounts


def test_organization_accounts_may_put_events_only_when_configured(template):
    param = template["Parameters"]["EventSourceOrganizationId"]
    assert param["Default"] == ""
    assert template["Conditions"]["HasEventSourceOrganization"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EventSourceOrganizationId"}, ""]}]
    }
    policy = resource(template, "OrganizationEventBusPolicy", "AWS::Events::EventBusPolicy")
    assert policy["Condition"] == "HasEventSourceOrganization"
    p = policy["Properties"]
    assert p["EventBusName"] == "default"
    stmt = p["Statement"]
    assert stmt["Effect"] == "Allow" and stmt["Principal"] == "*" and stmt["Action"] == "events:PutEvents"
    assert stmt["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    }
    assert stmt["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": {"Ref": "EventSourceOrganizationId"}}


def test_only_the_forwarder_roles_of_the_organization_may_put_events(template):
    # Not every principal of the organization: only roles named as templates/event-forwarder.yaml names them,
    # which only EventBridge may assume (tests/deploy/test_event_forwarder.py checks both sides agree).
    stmt = props(template, "OrganizationEventBusPolicy")["Statement"]
    assert stmt["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "EventSourceOrganizationId"}},
        "ArnLike": {"aws:PrincipalArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::*:role/{FORWARDER_ROLE_PATTERN}"}},
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("o-a1b2c3d4e5", True), ("o-abc", False), ("r-a1b2", False), ("123456789012", False)],
)
def test_organization_id_pattern(template, value, ok):
    pattern = template["Parameters"]["EventSourceOrganizationId"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_bus_policy_statement_id_is_unique_per_stack_and_short_enough(template):
    # EventBridge statement ids: 1-64 of [A-Za-z0-9_-]; the stack id's last part is a 36-character GUID.
    sid = props(template, "OrganizationEventBusPolicy")["StatementId"]
    assert sid == {
        "Fn::Join": ["", ["ses-dkim-monitor-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]
    }
    stack_id = (
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/ses-dkim-monitor/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    )
    resolved = "ses-dkim-monitor-" + stack_id.split("/")[2]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", resolved), resolved
