"""The EventBridge rules against every sample in events/triggers/, evaluated by moto's EventPattern.

Each sample must match exactly the rules listed for it, every rule must be used
by a sample, and a rule must hand the parser only events of its own kind.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from ses_dkim_monitor.triggers.events import SES_API_CALLS, EventKind, classify
from ses_dkim_monitor.triggers.patterns import PATTERNS
from tests.support.paths import EVENTS

SAMPLES = EVENTS / "triggers"

# Sample file -> the rules it must match (and no other).
EXPECTED: dict[str, set[str]] = {
    "ses-create-email-identity.json": {"SesApiCalls"},
    "ses-delete-email-identity.json": {"SesApiCalls"},
    "ses-put-dkim-attributes.json": {"SesApiCalls"},
    "ses-put-dkim-signing-attributes.json": {"SesApiCalls"},
    "ses-put-mail-from-attributes.json": {"SesApiCalls"},
    "ses-v1-verify-domain-dkim.json": {"SesApiCalls"},
    "ses-v1-set-identity-dkim-enabled.json": {"SesApiCalls"},
    "ses-v1-set-identity-mail-from-domain.json": {"SesApiCalls"},
    "ses-v1-delete-identity.json": {"SesApiCalls"},
    "ses-v1-verify-domain-identity.json": {"SesApiCalls"},
    "ses-v1-verify-email-identity.json": {"SesApiCalls"},
    "ses-v1-verify-email-address.json": {"SesApiCalls"},
    "ses-v1-delete-verified-email-address.json": {"SesApiCalls"},
    "route53-change-delete-dkim-cname.json": {"Route53Changes"},
    "route53-change-burst.json": {"Route53Changes"},
    "route53-delete-hosted-zone.json": {"Route53Changes"},
    "ses-recommendation-open.json": {"SesRecommendations"},
    "ses-recommendation-resolved.json": {"SesRecommendations"},
    "ses-sending-disabled.json": {"SesSendingStatus"},
    "ses-sending-enabled.json": {"SesSendingStatus"},
    # errorCode: the rules exclude failed calls ("exists": false), so it matches none.
    "cloudtrail-failed-call.json": set(),
}

RULE_KIND = {
    "SesApiCalls": EventKind.SES_API,
    "Route53Changes": EventKind.ROUTE53,
    "SesRecommendations": EventKind.SES_RECOMMENDATION,
    "SesSendingStatus": EventKind.SES_SENDING_STATUS,
}


def load(name: str, folder: Path = SAMPLES) -> dict[str, Any]:
    return json.loads((folder / name).read_text())


def matching(event: dict[str, Any], patterns: dict[str, dict[str, Any]] = PATTERNS) -> set[str]:
    return {rule for rule, pattern in patterns.items() if EventPattern.load(json.dumps(pattern)).matches_event(event)}


def test_every_sample_has_an_expectation():
    files = sorted(p.name for p in SAMPLES.glob("*.json"))
    assert files == sorted(EXPECTED), f"events/triggers/ holds {files}; give each an entry in EXPECTED"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_matches_exactly_its_rules(name):
    assert matching(load(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_has_the_full_eventbridge_envelope(name):
    event = load(name)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["account"] == "123456789012"
    assert isinstance(event["resources"], list) and isinstance(event["detail"], dict)


def test_every_rule_is_used_by_a_sample():
    used = set().union(*EXPECTED.values())
    assert used == set(PATTERNS)


@pytest.mark.parametrize("name", sorted(n for n, rules in EXPECTED.items() if rules))
def test_a_rule_delivers_only_events_of_its_kind(name):
    (rule,) = EXPECTED[name]
    assert classify(load(name)) is RULE_KIND[rule]


def test_samples_cover_every_ses_call_the_rule_names():
    names = {load(n)["detail"]["eventName"] for n, rules in EXPECTED.items() if rules == {"SesApiCalls"}}
    assert names == set(SES_API_CALLS)
    assert sorted(PATTERNS["SesApiCalls"]["detail"]["eventName"]) == sorted(SES_API_CALLS)


def test_route53_rule_names_both_calls():
    assert sorted(PATTERNS["Route53Changes"]["detail"]["eventName"]) == ["ChangeResourceRecordSets", "DeleteHostedZone"]
    assert PATTERNS["Route53Changes"]["source"] == ["aws.route53"]
    assert PATTERNS["Route53Changes"]["detail"]["eventSource"] == ["route53.amazonaws.com"]


def test_ses_event_rules_use_the_documented_strings():
    assert PATTERNS["SesRecommendations"] == {
        "source": ["aws.ses"],
        "detail-type": [
            "Advisor Recommendation Status Open",
            "Advisor Recommendation Status Resolved",
            "Advisor Recommendation Status Closed",
        ],
    }
    assert PATTERNS["SesSendingStatus"] == {
        "source": ["aws.ses"],
        "detail-type": ["Sending Status Enabled", "Sending Status Disabled"],
    }


def test_failed_ses_call_matches_no_rule():
    event = load("ses-delete-email-identity.json")
    event["detail"]["errorCode"] = "NotFoundException"
    event["detail"]["errorMessage"] = "Email identity example.com does not exist."
    assert matching(event) == set()


def test_error_filter_is_what_drops_the_failed_call():
    without_filter = copy.deepcopy(PATTERNS)
    for pattern in without_filter.values():
        pattern.get("detail", {}).pop("errorCode", None)
    assert matching(load("cloudtrail-failed-call.json"), without_filter) == {"Route53Changes"}


@pytest.mark.parametrize(
    ("sample", "event_name"),
    [
        ("ses-delete-email-identity.json", "SendEmail"),
        ("ses-delete-email-identity.json", "GetEmailIdentity"),
        ("route53-delete-hosted-zone.json", "ListHostedZones"),
        ("route53-delete-hosted-zone.json", "CreateHostedZone"),
    ],
)
def test_other_calls_of_the_same_services_match_no_rule(sample, event_name):
    event = load(sample)
    event["detail"]["eventName"] = event_name
    assert matching(event) == set()


@pytest.mark.parametrize("name", ["scheduled.json", "manual-scan.json", "manual-scan-and-notify.json"])
def test_the_handlers_existing_events_match_no_rule(name):
    assert matching(load(name, EVENTS)) == set()


def test_ses_sending_events_of_other_kinds_match_no_rule():
    event = load("ses-sending-disabled.json")
    event["detail-type"] = "Email Bounced"
    assert matching(event) == set()


def test_patterns_are_plain_json():
    assert json.loads(json.dumps(PATTERNS)) == PATTERNS
