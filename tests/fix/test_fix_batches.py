"""Route 53's request limits: a zone's changes go out in as many batches as the limits need, each identity's
changes in one batch, each batch re-read just before it goes, and the report says which batches applied.

moto enforces none of the limits but the record count: ``tests/support/route53.py``'s ``route53_limits``
makes it refuse an oversized request with ``InvalidChangeBatch``, as Route 53 does.
"""

from __future__ import annotations

import json
from collections import defaultdict

import boto3
import pytest
from botocore.exceptions import ClientError

from ses_dkim_monitor.exit_codes import EXIT_APPLY_FAILED, EXIT_OK
from ses_dkim_monitor.fix.command import Hooks
from tests.support.route53 import MAX_CHANGES, MAX_RECORDS, MAX_VALUE_CHARACTERS, route53_limits
from tests.support.ses_world import easy_dkim_zone_records, tokens_for

DMARC = ("_dmarc", "TXT", 300, ['"v=DMARC1; p=none"'])


def test_the_stand_in_refuses_a_request_over_route53s_limits_as_route53_does(route53, hosted_zone):
    zone = hosted_zone("limits.fixtest", [])
    too_many = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": f"r{i}.limits.fixtest.",
                "Type": "TXT",
                "TTL": 60,
                "ResourceRecords": [{"Value": '"' + "x" * 200 + '"'}],
            },
        }
        for i in range(90)
    ]  # 90 changes and records, but 2 x 90 x 202 = 36,360 characters: an UPSERT counts twice
    with route53_limits() as limits, pytest.raises(ClientError) as refused:
        route53.change_resource_record_sets(HostedZoneId=zone.id, ChangeBatch={"Changes": too_many})
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert [(r.changes, r.records, r.accepted) for r in limits.requests] == [(90, 180, False)]
    assert limits.requests[0].characters > MAX_VALUE_CHARACTERS


def bulk_domains(ses, knot, zone_name: str, count: int) -> list[str]:
    """``count`` verified identities whose three CNAMEs are all missing, SES's zone in knotd."""
    names = [f"c{i:03d}.{zone_name}" for i in range(count)]
    ses("us-east-1").add_many_domains(names)
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(tokens_for(n, "us-east-1")) for n in names))
    return names


@pytest.fixture()
def confirm_every_zone(monkeypatch):
    # Every missing CNAME's target must be confirmed by SES before fix applies it (one GetEmailIdentity each).
    monkeypatch.setenv("MAX_ZONE_CONFIRMATIONS", "1000")


def test_400_identities_missing_1200_cnames_are_applied_in_batches_within_route53s_limits(
    ses, knot, tld, fix, hosted_zone, confirm_every_zone
):
    zone_name = f"bulk.{tld}"
    names = bulk_domains(ses, knot, zone_name, 400)
    zone = hosted_zone(zone_name, [DMARC])

    with route53_limits() as limits:
        run = fix("--format", "json", "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert run.code == EXIT_OK, run.err
    doc = json.loads(run.out)
    [z] = doc["zones"]
    assert len(z["changes"]) == 1200 and {c["action"] for c in z["changes"]} == {"CREATE"}
    assert limits.requests and all(r.accepted for r in limits.requests), "a request over the limits was sent"
    for r in limits.requests:
        assert r.changes <= MAX_CHANGES and r.records <= MAX_RECORDS and r.characters <= MAX_VALUE_CHARACTERS
    assert [b["batch"] for b in z["batches"]] == list(range(1, len(limits.requests) + 1))
    assert all(b["applied"] and b["status"] == "INSYNC" and b["change_id"] for b in z["batches"])
    assert z["applied"] is True and doc["after"]["clean"] is True
    batches_of = defaultdict(set)
    for change in z["changes"]:
        batches_of[change["identity"]].add(change["batch"])
    assert set(batches_of) == set(names) and all(len(b) == 1 for b in batches_of.values()), (
        "an identity's changes were split across batches"
    )
    assert [b["changes"] for b in z["batches"]] == [r.changes for r in limits.requests]
    created = {(n, t) for n, t, _, _ in zone.record_sets() if t == "CNAME"}
    assert created == {(f"{t}._domainkey.{n}.", "CNAME") for n in names for t in tokens_for(n, "us-east-1")}


def test_a_record_changed_between_batches_stops_that_batch_and_the_rest_and_says_which_applied(
    ses, knot, tld, fix, hosted_zone, confirm_every_zone
):
    zone_name = f"midway.{tld}"
    bulk_domains(ses, knot, zone_name, 40)  # 120 changes: more than one batch
    zone = hosted_zone(zone_name, [DMARC])
    plan = json.loads(fix("--format", "json").out)["zones"][0]
    assert len(plan["batches"]) >= 2
    second = next(c for c in plan["changes"] if c["batch"] == 2)
    # Someone publishes a record at a name of the second batch while the first one is applied.
    other = boto3.client("route53")

    def someone_edits_dns(accepted: int) -> None:
        if accepted == 1:
            other.change_resource_record_sets(
                HostedZoneId=zone.id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "CREATE",
                            "ResourceRecordSet": {
                                "Name": second["record"]["name"],
                                "Type": "TXT",
                                "TTL": 60,
                                "ResourceRecords": [{"Value": '"placed by hand"'}],
                            },
                        }
                    ]
                },
            )

    with route53_limits(after_accepted=someone_edits_dns):
        run = fix("--format", "json", "--apply", "--yes", hooks=Hooks(wait_for_dns=zone.mirror))

    assert run.code == EXIT_APPLY_FAILED, run.err
    [z] = json.loads(run.out)["zones"]
    applied = [b["applied"] for b in z["batches"]]
    assert applied == [True] + [False] * (len(applied) - 1)
    assert second["record"]["name"] in z["batches"][1]["error"] and "since the plan" in z["batches"][1]["error"]
    assert all(b["error"] == "not attempted" for b in z["batches"][2:])
    assert z["applied"] is False
    in_route53 = {n for n, t, _, _ in zone.record_sets() if t == "CNAME"}
    first = {c["record"]["name"] for c in z["changes"] if c["batch"] == 1}
    assert in_route53 == first
