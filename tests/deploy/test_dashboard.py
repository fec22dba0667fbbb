"""The CloudWatch dashboard (issue 11) shows what the code writes and every alarm of the stack.

Its DashboardBody is JSON inside a ``!Sub``: the tests resolve the placeholders with stand-in
values (each must name a resource, a parameter or a pseudo parameter), parse the JSON, and
check every metric against the names the code writes (``metrics_written_by_code``, read from
the source), the namespace and dimension against the alarms', the timeout line against the
function's timeout, the alarm widget against the template's alarms, and the log widget against
the log group and the fields the scan logs a finding with.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from tests.deploy.test_template import alarms, metrics_written_by_code
from tests.support.paths import SRC
from tests.support.template import load_template, props, resource

STACK = "ses-dkim-monitor"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
PSEUDO = {"AWS::Region": REGION, "AWS::StackName": STACK, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
PLACEHOLDER = re.compile(r"\$\{([^}!]+)\}")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def stand_in(template: dict[str, Any], reference: str) -> str:
    """What CloudFormation would put for ``${reference}``, made up but of the right shape."""
    if reference in PSEUDO:
        return PSEUDO[reference]
    name, _, attribute = reference.partition(".")
    assert name in template["Resources"], f"DashboardBody refers to ${{{reference}}}, which is no resource"
    type_ = template["Resources"][name]["Type"]
    if attribute:
        assert (type_, attribute) == ("AWS::CloudWatch::Alarm", "Arn"), f"unexpected ${{{reference}}}"
        return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{STACK}-{name}-1A2B3C4D5E6F"
    if type_ == "AWS::Logs::LogGroup":
        return f"/aws/lambda/{STACK}-monitor"
    assert type_ == "AWS::Serverless::Function", f"${{{reference}}}: no stand-in for a {type_}"
    return f"{STACK}-{name}-1A2B3C4D5E6F"


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = props(template, "MonitorDashboard")["DashboardBody"]
    assert set(body) == {"Fn::Sub"} and isinstance(body["Fn::Sub"], str), "DashboardBody: one !Sub of a string"
    text = PLACEHOLDER.sub(lambda m: stand_in(template, m.group(1)), body["Fn::Sub"])
    return json.loads(text)


def widgets(template: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [w for w in dashboard(template)["widgets"] if w["type"] == type_]


def metric_rows(template: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric line, without "." shorthands."""
    rows = []
    for widget in widgets(template, "metric"):
        for row in widget["properties"]["metrics"]:
            fields = [f for f in row if not isinstance(f, dict)]
            assert "." not in fields, f"spell metric rows out in full (no '.' shorthand): {row}"
            assert all(isinstance(f, str) for f in fields) and len(fields) % 2 == 0, row
            namespace, metric, *dims = fields
            rows.append((namespace, metric, dict(zip(dims[::2], dims[1::2], strict=True))))
    return rows


# ---------------------------------------------------------------- shape


def test_body_is_json_once_its_placeholders_are_resolved(template):
    body = dashboard(template)
    assert set(body) == {"widgets"} and len(body["widgets"]) >= 10
    for widget in body["widgets"]:
        assert widget["type"] in ("metric", "alarm", "log", "text"), widget
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24, "the grid is 24 columns wide"
        if widget["type"] != "text":
            assert widget["properties"].get("region", REGION) == REGION, "the stack's own region"


def test_placeholders_refer_only_to_known_names(template):
    text = props(template, "MonitorDashboard")["DashboardBody"]["Fn::Sub"]
    references = set(PLACEHOLDER.findall(text))
    assert "AWS::StackName" in references and "MonitorFunction" in references
    for reference in references:
        stand_in(template, reference)  # raises for anything that is not a resource or a pseudo parameter


def test_dashboard_name_is_unique_per_stack_and_region(template):
    # Dashboards are global to an account: two stacks of one name in two regions must not collide.
    dash = resource(template, "MonitorDashboard", "AWS::CloudWatch::Dashboard")["Properties"]
    assert dash["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}


# ---------------------------------------------------------------- metrics


def test_metric_widgets_show_only_metrics_the_code_writes(template):
    written = metrics_written_by_code()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    shown = {
        metric for namespace, metric, _ in metric_rows(template) if namespace == env["POWERTOOLS_METRICS_NAMESPACE"]
    }
    unknown = sorted(shown - written)
    assert not unknown, f"the dashboard shows {unknown}, which the code never writes (typo, or a renamed metric?)"


def test_dashboard_shows_what_the_issue_asks_for(template):
    shown = {metric for _, metric, _ in metric_rows(template)}
    expected = {
        "IdentitiesChecked",
        "IdentitiesUnknown",
        "FindingsCritical",
        "FindingsWarning",
        "FindingsInfo",
        "DnsLookupsFailed",
        "SesThrottled",
        "IdentitiesOutOfTime",
        "NotificationsDelivered",
        "NotificationsFailed",
        "StateWriteErrors",
        "ScanCompleted",
        "Duration",
        "Errors",
        "TriggerEventsReceived",
        "TriggerEventsMalformed",
        "TriggerEventsIgnored",
        "RechecksQueued",
        "RechecksDebounced",
        "RechecksRun",
        "RechecksDropped",
        "QueueMessagesRejected",
    }
    assert expected <= shown, f"missing from the dashboard: {sorted(expected - shown)}"


def test_monitor_metrics_use_the_alarms_namespace_and_service_dimension(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    heartbeat = alarms(template)["HeartbeatAlarm"]
    assert heartbeat["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    [dimension] = heartbeat["Dimensions"]
    assert dimension["Value"] == {"Ref": "AWS::StackName"}
    for namespace, metric, dims in metric_rows(template):
        if namespace == "AWS/Lambda":
            assert dims == {"FunctionName": stand_in(template, "MonitorFunction")}, metric
        else:
            assert namespace == heartbeat["Namespace"], f"{metric} in namespace {namespace}"
            assert dims == {dimension["Name"]: STACK}, f"{metric}: dimensions {dims}, the alarms use service=<stack>"


def test_duration_is_shown_against_the_functions_timeout(template):
    timeout_ms = props(template, "MonitorFunction")["Timeout"] * 1000
    [widget] = [w for w in widgets(template, "metric") if any(r[1] == "Duration" for r in w["properties"]["metrics"])]
    p = widget["properties"]
    [row] = p["metrics"]
    assert row[:4] == ["AWS/Lambda", "Duration", "FunctionName", stand_in(template, "MonitorFunction")]
    assert p["stat"] == "Maximum" and row[4] == {"stat": "Maximum"}, "the longest run is what nears the timeout"
    assert [line["value"] for line in p["annotations"]["horizontal"]] == [timeout_ms]


# ---------------------------------------------------------------- alarms and logs


def test_alarm_widget_lists_every_alarm_of_the_stack(template):
    [widget] = widgets(template, "alarm")
    listed = widget["properties"]["alarms"]
    assert len(listed) == len(set(listed)) <= 100, "CloudWatch shows at most 100 alarms in a widget"
    expected = {stand_in(template, f"{name}.Arn") for name in alarms(template)}
    assert set(listed) == expected, (
        f"missing {sorted(expected - set(listed))}, unknown {sorted(set(listed) - expected)}"
    )


def finding_log_fields() -> set[str]:
    """The ``extra`` keys the scan logs a finding with (``log.info("finding", extra={...})``)."""
    tree = ast.parse((SRC / "scan" / "engine.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _attr(node) == "info"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "finding"
        ):
            [extra] = [kw.value for kw in node.keywords if kw.arg == "extra"]
            return _dict_keys(tree, extra)
    raise AssertionError('scan/engine.py no longer logs "finding": update the dashboard\'s log widget')


def _dict_keys(tree: ast.Module, node: ast.expr) -> set[str]:
    """Keys of a dict literal, following ``**helper(...)`` into a helper that returns a dict literal."""
    assert isinstance(node, ast.Dict), ast.unparse(node)
    keys: set[str] = set()
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant):
            keys.add(key.value)
            continue
        assert isinstance(value, ast.Call) and isinstance(value.func, ast.Name), ast.unparse(value)
        [helper] = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == value.func.id]
        [returned] = [n.value for n in ast.walk(helper) if isinstance(n, ast.Return) and n.value is not None]
        keys |= _dict_keys(tree, returned)
    return keys


def _attr(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def test_log_widget_queries_the_functions_log_group_for_findings(template):
    [widget] = widgets(template, "log")
    query = widget["properties"]["query"]
    group = stand_in(template, "MonitorLogGroup")
    assert query.startswith(f"SOURCE '{group}' |")
    assert props(template, "MonitorFunction")["LoggingConfig"]["LogGroup"] == {"Ref": "MonitorLogGroup"}
    assert 'filter message = "finding"' in query
    fields = re.search(r"\| fields ([^|]+)\|", query).group(1)
    shown = {f.strip() for f in fields.split(",")} - {"@timestamp"}
    assert {"identity", "check", "severity"} <= shown
    missing = shown - finding_log_fields()
    assert not missing, f"the query shows {sorted(missing)}, which the finding log line does not carry"
    assert re.search(r"\| sort @timestamp desc \| limit \d+$", query)
