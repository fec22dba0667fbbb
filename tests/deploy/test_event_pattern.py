"""The EventBridge pattern matcher (tests/deploy/event_pattern.py) must be right before it judges rules.

Hand-made cases for each feature, matching and not matching, then a cross-check against moto's
independent implementation on every sample event, every rule and some edits of them.
tests/triggers/test_patterns.py evaluates the patterns with moto alone; it has no matcher of its
own to reuse, and moto does not descend into arrays of objects, which EventBridge does.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from ses_dkim_monitor.triggers.patterns import PATTERNS
from tests.deploy.event_pattern import UnsupportedPattern, matches
from tests.support.paths import EVENTS

EVENT = {
    "source": "aws.ses",
    "detail-type": "AWS API Call via CloudTrail",
    "account": "123456789012",
    "resources": ["arn:aws:ses:eu-west-1:123456789012:identity/example.com", "arn:aws:iam::123456789012:role/x"],
    "detail": {
        "eventName": "DeleteEmailIdentity",
        "readOnly": False,
        "eventVersion": "1.09",
        "requestParameters": {"emailIdentity": "example.com"},
        "responseElements": None,
        "count": 3,
        "changes": [
            {"action": "UPSERT", "resourceRecordSet": {"name": "www.example.com.", "type": "A"}},
            {"action": "DELETE", "resourceRecordSet": {"name": "x._domainkey.example.com.", "type": "CNAME"}},
        ],
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values
        ({"source": ["aws.ses"]}, True),
        ({"source": ["aws.route53"]}, False),
        ({"source": ["aws.route53", "aws.ses"]}, True),  # alternatives are OR
        ({"source": ["AWS.SES"]}, False),  # case-sensitive
        ({"source": ["aws"]}, False),  # whole value, not a substring
        ({"detail": {"readOnly": [False]}}, True),
        ({"detail": {"readOnly": [True]}}, False),
        ({"detail": {"readOnly": ["false"]}}, False),  # a string is not a boolean
        ({"detail": {"count": [3]}}, True),
        ({"detail": {"count": ["3"]}}, False),
        ({"detail": {"responseElements": [None]}}, True),
        ({"detail": {"requestParameters": [None]}}, False),
        # every field must match (AND)
        ({"source": ["aws.ses"], "detail-type": ["AWS API Call via CloudTrail"]}, True),
        ({"source": ["aws.ses"], "detail-type": ["Scheduled Event"]}, False),
        # a field the event lacks matches no value
        ({"region": ["eu-west-1"]}, False),
        # prefix
        ({"source": [{"prefix": "aws."}]}, True),
        ({"source": [{"prefix": "ses"}]}, False),
        ({"detail": {"count": [{"prefix": "3"}]}}, False),  # prefix applies to strings only
        ({"region": [{"prefix": ""}]}, False),
        # exists
        ({"detail": {"errorCode": [{"exists": False}]}}, True),
        ({"detail": {"errorCode": [{"exists": True}]}}, False),
        ({"detail": {"eventName": [{"exists": True}]}}, True),
        ({"detail": {"eventName": [{"exists": False}]}}, False),
        ({"detail": {"responseElements": [{"exists": True}]}}, True),  # null is a value
        # nested objects
        ({"detail": {"requestParameters": {"emailIdentity": ["example.com"]}}}, True),
        ({"detail": {"requestParameters": {"emailIdentity": ["example.org"]}}}, False),
        ({"detail": {"missing": {"x": ["y"]}}}, False),
        ({"detail": {"eventName": {"x": ["y"]}}}, False),  # a string is not an object
        # arrays in the event: any element may match
        ({"resources": ["arn:aws:iam::123456789012:role/x"]}, True),
        ({"resources": [{"prefix": "arn:aws:ses:"}]}, True),
        ({"resources": ["arn:aws:ses:us-east-1:123456789012:identity/example.com"]}, False),
        ({"detail": {"changes": {"action": ["DELETE"]}}}, True),
        ({"detail": {"changes": {"action": ["CREATE"]}}}, False),
        ({"detail": {"changes": {"resourceRecordSet": {"type": ["CNAME"]}}}}, True),
        ({"detail": {"changes": {"resourceRecordSet": {"type": ["MX"]}}}}, False),
        ({"detail": {"changes": {"resourceRecordSet": {"name": [{"prefix": "x._domainkey."}]}}}}, True),
    ],
)
def test_matcher_on_hand_made_cases(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_array_alternatives_need_only_one_element_to_match():
    event = {"source": "aws.ses", "tags": ["a", "b"]}
    assert matches({"tags": ["b", "z"]}, event)
    assert not matches({"tags": ["z"]}, event)
    assert not matches({"tags": ["z"]}, {"source": "aws.ses", "tags": []})


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": [{"anything-but": "aws.ses"}]},
        {"source": [{"suffix": ".ses"}]},
        {"detail": {"count": [{"numeric": [">", 1]}]}},
        {"source": [{"prefix": "a", "exists": True}]},
        {"source": [{"prefix": ["a"]}]},
        {"detail": {"errorCode": [{"exists": "false"}]}},
        {"$or": [{"source": ["aws.ses"]}]},
        {"source": "aws.ses"},
        {"source": []},
        ["aws.ses"],
    ],
)
def test_unsupported_patterns_raise_instead_of_guessing(pattern):
    with pytest.raises(UnsupportedPattern):
        matches(pattern, EVENT)


# ---------------------------------------------------------------- against moto's implementation


def samples() -> list[tuple[str, dict[str, Any]]]:
    found = [(p.name, json.loads(p.read_text())) for p in sorted((EVENTS / "triggers").glob("*.json"))]
    found += [(p.name, json.loads(p.read_text())) for p in sorted(EVENTS.glob("*.json"))]
    assert len(found) >= 10, "the samples are missing: the cross-check would prove nothing"
    return found


def edited(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event and a few near misses of it."""
    out = [event]
    for path, value in (
        (("source",), "aws.sesv2"),
        (("detail-type",), "AWS Service Event via CloudTrail"),
        (("detail", "eventName"), "GetEmailIdentity"),
        (("detail", "eventSource"), "route53.amazonaws.com"),
        (("detail", "errorCode"), "AccessDenied"),
    ):
        copy_ = copy.deepcopy(event)
        node = copy_
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = value
            out.append(copy_)
    return out


def moto_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


@pytest.mark.parametrize(("name", "event"), samples())
def test_matcher_agrees_with_moto_on_every_sample_and_rule(name, event):
    checked = 0
    for variant in edited(event):
        for rule, pattern in PATTERNS.items():
            assert matches(pattern, variant) is moto_matches(pattern, variant), (name, rule, variant.get("detail"))
            checked += 1
    assert checked >= len(PATTERNS) * 2


def test_the_cross_check_sees_both_outcomes():
    # If every comparison were "no match" the agreement above would be hollow.
    outcomes = {
        matches(pattern, variant)
        for _, event in samples()
        for variant in edited(event)
        for pattern in PATTERNS.values()
    }
    assert outcomes == {True, False}
