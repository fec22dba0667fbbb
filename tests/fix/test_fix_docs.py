"""docs/fix.md says what the code does: the table of what fix never does is ``safety.DELETIONS``, the IAM
policy grants exactly ``fix/route53.py``'s actions and the record types fix writes, and the module table
names every module of the package."""

from __future__ import annotations

import json
import re

from ses_dkim_monitor.fix.route53 import IAM_ACTIONS
from ses_dkim_monitor.fix.safety import DELETIONS, TYPES_WRITTEN
from tests.support.paths import DOCS, SRC

FIX_MD = (DOCS / "fix.md").read_text()


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|")][2:]  # past the header and its rule
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


def test_the_table_of_what_fix_never_does_is_the_rule_the_code_applies():
    block = FIX_MD.split("<!-- deletions:begin -->")[1].split("<!-- deletions:end -->")[0]
    documented = table_rows(block)
    assert documented == [[d.record, d.cause, "yes" if d.deletes else "never", d.why] for d in DELETIONS]


def test_the_iam_policy_grants_the_route53_actions_fix_calls_and_the_types_it_writes():
    [policy] = [
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)```", FIX_MD, re.DOTALL)
        if '"Statement"' in block and "route53:" in block
    ]
    actions: set[str] = set()
    types: list[str] = []
    for statement in policy["Statement"]:
        action = statement["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
        condition = statement.get("Condition", {}).get("ForAllValues:StringEquals", {})
        types += condition.get("route53:ChangeResourceRecordSetsRecordTypes", [])
    assert actions == set(IAM_ACTIONS)
    assert sorted(types) == sorted(TYPES_WRITTEN)


def test_the_module_table_names_every_module_of_the_package():
    section = FIX_MD.split("## Where it lives")[1]
    named = {row[0].strip("`") for row in table_rows(section)}
    assert named == {f"fix/{p.name}" for p in (SRC / "fix").glob("*.py")}


def test_every_option_of_the_fix_command_is_documented():
    from ses_dkim_monitor.cli import build_parser

    fix = build_parser()._subparsers._group_actions[0].choices["fix"]  # type: ignore[union-attr]
    undocumented = [
        action.option_strings
        for action in fix._actions
        if "--help" not in action.option_strings
        and not any(f"`{o}" in FIX_MD or f"[{o}" in FIX_MD for o in action.option_strings)
    ]
    assert undocumented == []
