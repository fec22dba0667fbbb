"""Reference tables that scripts/docgen.py renders from the code and the template, so that they cannot drift.

* the environment variables (``ses_dkim_monitor.variables``, held to settings.py by tests/test_variables.py);
* the template's parameters and alarms (template.yaml itself);
* the SNS message attributes (what ``notify.sns`` really sets, on a sample notification).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfn_flip import load_yaml

from ses_dkim_monitor.alerts.model import Event, Notification
from ses_dkim_monitor.models import Severity
from ses_dkim_monitor.notify import sns
from ses_dkim_monitor.variables import VARIABLES

ROOT = Path(__file__).resolve().parent.parent

Table = Callable[[Sequence[str], Iterable[Sequence[str]]], str]


def _template() -> dict[str, Any]:
    return load_yaml((ROOT / "template.yaml").read_text())


def variables_table(table: Table) -> str:
    return table(
        ["variable", "default", "meaning", "stops start-up when"],
        ([f"`{v.name}`", v.default, v.meaning, v.refused or "-"] for v in VARIABLES),
    )


def _allowed(spec: dict[str, Any]) -> str:
    if "AllowedValues" in spec:
        return ", ".join(f"`{value}`" for value in spec["AllowedValues"])
    limits = [f"{word} {spec[key]}" for key, word in (("MinValue", "at least"), ("MaxValue", "at most")) if key in spec]
    return ", ".join(limits) or "-"


def parameters_table(table: Table) -> str:
    parameters = _template()["Parameters"]
    rows = []
    for name, spec in parameters.items():
        default = spec.get("Default", "")
        shown = f"`{default}`" if str(default) != "" else "*(empty)*"
        rows.append([f"`{name}`", shown, _allowed(spec), " ".join(str(spec.get("Description", "")).split())])
    return table(["Parameter", "Default", "Allowed", "Meaning"], rows)


MISSING_DATA = {
    "breaching": "breaching: silence fires it",
    "notBreaching": "fine: stays or turns OK",
    "ignore": "keeps the last state",
    "missing": "keeps the last state (and says INSUFFICIENT_DATA)",
}


def alarms_table(table: Table) -> str:
    rows = []
    for name, resource in _template()["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        p = resource["Properties"]
        metric = f"`{p.get('Namespace', '')}` `{p.get('MetricName', '')}`"
        missing = p.get("TreatMissingData", "missing")
        rows.append([f"`{name}`", metric, " ".join(str(p.get("AlarmDescription", "")).split()), MISSING_DATA[missing]])
    return table(["Alarm", "Metric", "Fires when", "Missing data counts as"], rows)


def _sample(**changes: Any) -> Notification:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    base: dict[str, Any] = {
        "event": Event.OPENED,
        "channels": ("sns",),
        "account": "123456789012",
        "region": "us-east-1",
        "identity": "example.com",
        "check": "dkim-record-missing",
        "key": "dkim-record-missing#abc",
        "severity": Severity.CRITICAL,
        "message": "",
        "fix": "",
        "first_seen": at,
        "at": at,
        "cause": "doubled-domain",
    }
    base.update(changes)
    return Notification(**base)


ATTRIBUTE_MEANING = {
    "severity": "`critical`, `warning` or `info`",
    "event": "`opened`, `reminder` or `resolved` (a digest adds `digest`)",
    "check": "the check id",
    "region": "the identity's region",
    "account": "the identity's account",
    "cause": "the finding's cause, only when it has one",
}


def sns_attributes_table(table: Table) -> str:
    """One row per attribute, with each type ``notify.sns`` sends it as.

    "One notification" covers a bundle too (one check of one identity, several records): an attribute
    whose values differ between its records is sent as an array.
    """
    single = sns.single_message(_sample())["MessageAttributes"]
    bundled = sns.single_message([_sample(), _sample(key="dkim-record-missing#def", cause="target-missing-dot")])[
        "MessageAttributes"
    ]
    digest = sns.digest_message([_sample(), _sample(region="eu-west-1", cause="")])["MessageAttributes"]
    rows = []
    for name in single:
        one = single[name]["DataType"]
        if bundled[name]["DataType"] != one:
            one += f"; {bundled[name]['DataType']} for a bundle whose records differ in it"
        rows.append([f"`{name}`", one, digest[name]["DataType"], ATTRIBUTE_MEANING[name]])
    return table(["attribute", "one notification", "digest (every value in it)", "holds"], rows)
