"""docs/deploy.md keeps up with template.yaml: every parameter in its table, every alarm in its list.

tests/test_docs.py checks the links; these check that what the template offers is documented,
so a new parameter or alarm cannot ship undescribed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.test_template import alarms
from tests.support.paths import DOCS, REPO
from tests.support.template import load_template

DEPLOY_DOC = DOCS / "deploy.md"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def section(title: str) -> str:
    text = DEPLOY_DOC.read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert match, f'docs/deploy.md has no "## {title}" section'
    return match.group(1)


def table_names(text: str) -> list[str]:
    """The first column of a Markdown table's rows, when it is a `code` name."""
    return re.findall(r"^\| `([A-Za-z0-9]+)` \|", text, re.MULTILINE)


def test_every_parameter_has_a_row_with_its_default(template):
    rows = table_names(section("Parameters"))
    assert len(rows) == len(set(rows)), "a parameter listed twice"
    assert set(rows) == set(template["Parameters"]), (
        f"undocumented: {sorted(set(template['Parameters']) - set(rows))}, "
        f"not parameters: {sorted(set(rows) - set(template['Parameters']))}"
    )
    text = section("Parameters")
    for name, param in template["Parameters"].items():
        default = str(param.get("Default", ""))
        shown = "*(empty)*" if default == "" else f"`{default}`"
        assert f"| `{name}` | {shown} |" in text, f"{name}: its row should show the default {shown}"


def test_guided_transcript_asks_for_every_parameter_in_template_order(template):
    text = DEPLOY_DOC.read_text()
    asked = re.findall(r"^Parameter (\w+) \[", text, re.MULTILINE)
    assert asked == list(template["Parameters"]), "sam deploy --guided asks for each parameter in template order"


def test_every_alarm_is_explained(template):
    rows, names = set(table_names(section("What watches the monitor"))), set(alarms(template))
    assert rows == names, f"undocumented: {sorted(names - rows)}, not alarms: {sorted(rows - names)}"


def test_rechecks_section_names_every_rule_and_the_trail_requirement(template):
    text = section("Event-driven re-checks")
    rules = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Events::Rule"]
    assert set(table_names(text)) == set(rules)
    assert "Without a trail" in text and "CreateTrail=true" in text
    assert "templates/event-forwarder.yaml" in text and (REPO / "templates" / "event-forwarder.yaml").is_file()
    assert "EventSourceOrganizationId=" in text
    for command in ("aws cloudformation deploy", "sam deploy", "create-stack-set"):
        assert command in text, command


def test_what_events_of_an_unscanned_account_do_is_said_with_the_dns_account_exception():
    """A Route 53 change from a DNS account the monitor does not scan still re-checks the accounts
    DnsAccountMap maps it to (tests/test_rechecks.py::
    test_a_route53_change_in_another_account_rechecks_this_accounts_identities_only_when_mapped):
    the guide must not say such events are ignored."""
    flat = " ".join(section("Event-driven re-checks").split())
    claims = [s for s in re.split(r"(?<=\.)\s+", flat) if "does not scan" in s]
    assert claims, "the guide says what becomes of events from accounts the monitor does not scan"
    for claim in claims:
        assert "are ignored" not in claim, claim
    assert re.search(r"`DnsAccountMap`[^.]*need not be scanned", flat)
