"""Scale-out under production conditions: several accounts through assumed roles, an organization,
a denied account, a throttled region, a time budget, and off-zone CNAMEs against a paced SES.

SES, STS and Organizations are moto's server over HTTP (an assumed role's
credentials land in that role's account, as in AWS); DNS is a real knotd.
The shards are built by the same wiring the CLI and the Lambda use.
"""

from __future__ import annotations

import itertools
import math

import boto3
import pytest

from ses_dkim_monitor import catalogue as c
from ses_dkim_monitor.accounts import organization_targets
from ses_dkim_monitor.models import IdentityStatus
from ses_dkim_monitor.render.json_report import summary
from ses_dkim_monitor.scan.deadline import Deadline
from ses_dkim_monitor.scan.dns_probe import DnsProbe, make_resolver
from ses_dkim_monitor.scan.engine import run_scan
from ses_dkim_monitor.scan.zone_memory import DynamoDbZoneMemory
from ses_dkim_monitor.settings import Settings, parse_nameserver
from ses_dkim_monitor.wiring import account_targets, build_shards
from tests.support.alert_builders import create_state_table
from tests.support.ses_world import ACCOUNT_ID, customer_cname_records, easy_dkim_zone_records, tokens_for
from tests.support.throttling import ses_denied, ses_throttled

MEMBER_B, MEMBER_C = "111111111111", "222222222222"
REGIONS = ("us-east-1", "eu-west-1")


def probe(knot) -> DnsProbe:
    resolver = make_resolver([parse_nameserver(knot.address, setting="t")], timeout=2, lifetime=4)
    return DnsProbe(resolver, authoritative_port=knot.port)


def settings(**env: str) -> Settings:
    return Settings.from_env({"SCAN_REGIONS": ",".join(REGIONS), **env})


SES_ZONE: list[str] = []  # every token published so far: the zone is rewritten whole each time


def healthy(ses, knot, domain: str, *, account: str, region: str = "us-east-1") -> None:
    tokens = ses(region, account=account).add_domain(domain)
    knot.set_zone(domain, customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    SES_ZONE.append(easy_dkim_zone_records(tokens))
    knot.set_zone("dkim.amazonses.com", "\n".join(SES_ZONE))


def scan_with(config: Settings, knot, *, targets=None, **kw):
    session = boto3.Session()
    targets = targets or account_targets(config, session, own_account=ACCOUNT_ID, partition="aws")
    plan = build_shards(config, session, targets, regions=config.regions, run_id="test")
    return run_scan(
        plan.shards, probe(knot), failed=plan.failed, throttled=lambda: plan.pacing.total().throttled, **kw
    ), plan


def test_accounts_behind_assumed_roles_are_scanned_each_as_itself(ses, knot):
    healthy(ses, knot, "b-scale.test", account=MEMBER_B)
    healthy(ses, knot, "c-scale.test", account=MEMBER_C, region="eu-west-1")
    healthy(ses, knot, "own-scale.test", account=ACCOUNT_ID)  # not asked for: must not appear
    roles = f"arn:aws:iam::{MEMBER_B}:role/scan,arn:aws:iam::{MEMBER_C}:role/scan"

    report, plan = scan_with(settings(SCAN_ROLE_ARNS=roles), knot)

    got = {(r.identity.account, r.identity.region, r.identity.name): r.status for r in report.identities}
    assert got == {
        (MEMBER_B, "us-east-1", "b-scale.test"): IdentityStatus.OK,
        (MEMBER_C, "eu-west-1", "c-scale.test"): IdentityStatus.OK,
    }
    assert report.accounts == (MEMBER_B, MEMBER_C) and report.errors == ()
    assert sorted(plan.pacing.shards()) == sorted(itertools.product((MEMBER_B, MEMBER_C), REGIONS))
    # Paced a little under the configured quota (1/s by default): exactly at it, jitter gets throttled.
    assert plan.pacing.rate == pytest.approx(0.95)
    assert summary(report)["accounts"] == [MEMBER_B, MEMBER_C]


def test_every_active_account_of_an_organization_is_scanned(ses, knot):
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    created = org.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]
    member = created["AccountId"]
    healthy(ses, knot, "member-org-scale.test", account=member)
    healthy(ses, knot, "mgmt-org-scale.test", account=ACCOUNT_ID)
    config = settings(SCAN_ORGANIZATION_ROLE_NAME="ses-dkim-monitor-scan")
    targets = organization_targets(
        org, role_name=config.organization_role_name, own_account=ACCOUNT_ID, partition="aws"
    )

    report, _ = scan_with(config, knot, targets=targets)

    names = {(r.identity.account, r.identity.name) for r in report.identities}
    assert (member, "member-org-scale.test") in names
    assert (ACCOUNT_ID, "mgmt-org-scale.test") in names  # the management account, with our own role
    assert set(report.accounts) == {t.account_id for t in targets} and report.errors == ()


def test_an_account_whose_ses_denies_every_call_fails_alone(ses, knot):
    healthy(ses, knot, "ok-denied-scale.test", account=MEMBER_B)
    ses("us-east-1", account=MEMBER_C).add_domain("hidden-denied-scale.test")
    roles = f"arn:aws:iam::{MEMBER_B}:role/scan,arn:aws:iam::{MEMBER_C}:role/scan"

    with ses_denied(MEMBER_C):
        report, _ = scan_with(settings(SCAN_ROLE_ARNS=roles), knot)

    assert [r.identity.name for r in report.identities] == ["ok-denied-scale.test"]
    assert {(e.account, e.region) for e in report.errors} == {(MEMBER_C, r) for r in REGIONS}
    assert all("access denied" in e.reason for e in report.errors)
    assert summary(report)["shards_failed"][0]["account"] == MEMBER_C


def test_a_throttled_region_is_paced_below_its_limit_and_read_completely(ses, knot):
    world = ses("us-east-1")
    names = [f"d{i}.throttle-scale.test" for i in range(250)]  # 3 v1 batches of each kind, so 7 SES calls
    world.add_many_domains(names)
    knot.set_zone(
        "throttle-scale.test",
        "\n".join(
            customer_cname_records(tokens_for(n, "us-east-1")).replace("._domainkey", f"._domainkey.{n.split('.')[0]}")
            for n in names
        )
        + '\n_dmarc TXT "v=DMARC1; p=none"',
    )
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(tokens_for(n, "us-east-1")) for n in names))

    with ses_throttled(rate=10) as server:  # the server allows 10/s per account and region
        report, plan = scan_with(Settings.from_env({"SCAN_REGIONS": "us-east-1", "SES_REQUESTS_PER_SECOND": "8"}), knot)

    assert len(report.identities) == 250 and all(r.status is IdentityStatus.OK for r in report.identities)
    assert report.errors == ()
    calls = sum(report.ses_calls.values())
    assert calls <= math.ceil(250 / 1000) + 2 * math.ceil(250 / 100) + 2
    # Paced below the server's limit: a handful of throttled responses at most (a burst at the start).
    assert report.ses_throttled == server.throttled(ACCOUNT_ID, "us-east-1") <= 2
    assert plan.pacing.total().calls >= calls


def test_out_of_time_identities_are_unknown_never_healthy_and_the_next_run_is_whole(ses, knot):
    world = ses("us-east-1")
    names = [f"d{i}.budget-scale.test" for i in range(150)]  # two v1 batches
    world.add_many_domains(names)
    world.add_email("ops@d120.budget-scale.test")  # its domain is in the batch the budget never reaches
    knot.set_zone(
        "budget-scale.test",
        "\n".join(
            customer_cname_records(tokens_for(n, "us-east-1")).replace("._domainkey", f"._domainkey.{n.split('.')[0]}")
            for n in names
        )
        + '\n_dmarc TXT "v=DMARC1; p=none"',
    )
    knot.set_zone("dkim.amazonses.com", "\n".join(easy_dkim_zone_records(tokens_for(n, "us-east-1")) for n in names))
    config = Settings.from_env({"SCAN_REGIONS": "us-east-1", "SES_REQUESTS_PER_SECOND": "50"})
    clock = FakeClock()
    deadline = Deadline(at=100.0, clock=clock)
    session = boto3.Session()
    targets = account_targets(config, session, own_account=ACCOUNT_ID, partition="aws")
    plan = build_shards(config, session, targets, regions=config.regions, run_id="t")
    [shard] = plan.shards
    # SES time: each call takes a "second"; the budget ends after the first batch was read.
    shard.sesv2.meta.events.register("after-call.sesv2", clock.tick)
    shard.ses.meta.events.register("after-call.ses", clock.tick)
    clock.at_call = {3: 1000.0}  # list, DKIM batch, MAIL FROM batch: then the budget is gone

    report = run_scan(plan.shards, probe(knot), deadline=deadline)

    statuses = {r.identity.name: (r.status, [(f.check, f.cause) for f in r.findings]) for r in report.identities}
    assert len(statuses) == 151 and report.errors == ()
    assert all(
        status is IdentityStatus.UNKNOWN and findings == [(c.IDENTITY_NOT_CHECKED, c.OUT_OF_TIME)]
        for status, findings in statuses.values()
    ), "nothing the run did not finish may look healthy or broken"
    assert report.out_of_time == 151
    assert "GetIdentityDkimAttributes" in report.ses_calls and report.ses_calls["GetIdentityDkimAttributes"] == 1

    again = run_scan(plan.shards, probe(knot), deadline=Deadline.never())
    assert len(again.identities) == 151 and all(r.status is IdentityStatus.OK for r in again.identities)


class FakeClock:
    """A clock that moves only when an SES call returns (``tick``), jumping where ``at_call`` says."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls = 0
        self.at_call: dict[int, float] = {}

    def __call__(self) -> float:
        return self.now

    def tick(self, **_: object) -> None:
        self.calls += 1
        self.now = self.at_call.get(self.calls, self.now + 1.0)


def test_off_zone_cnames_cost_at_most_the_cap_in_ses_calls_and_are_never_false_wrong_targets(ses, knot):
    world = ses("us-east-1")
    # 300 identities, 40 confirmations a run: the cap's property, with most identities left unconfirmed twice.
    names = [f"d{i}.offzone-scale.test" for i in range(300)]
    world.add_many_domains(names)
    # Every identity's CNAMEs point into a zone its owner controls, not SES's: only SES can say
    # whether that is wrong (it is, here: SES's SigningHostedZone is dkim.amazonses.com).
    knot.set_zone(
        "offzone-scale.test",
        "\n".join(
            customer_cname_records(tokens_for(n, "us-east-1"), zone="attacker-scale.test").replace(
                "._domainkey", f"._domainkey.{n.split('.')[0]}"
            )
            for n in names
        )
        + '\n_dmarc TXT "v=DMARC1; p=none"',
    )
    knot.set_zone("attacker-scale.test", "\n".join(easy_dkim_zone_records(tokens_for(n, "us-east-1")) for n in names))
    table = create_state_table(boto3.client("dynamodb"), "zones-scale")
    memory = DynamoDbZoneMemory(boto3.client("dynamodb"), table)
    config = Settings.from_env(
        {"SCAN_REGIONS": "us-east-1", "SES_REQUESTS_PER_SECOND": "50", "MAX_ZONE_CONFIRMATIONS": "40"}
    )

    first, _ = scan_with(config, knot, zones=memory, max_confirmations=config.max_zone_confirmations)
    second, _ = scan_with(config, knot, zones=memory, max_confirmations=config.max_zone_confirmations)

    for report, confirmed in ((first, 40), (second, 80)):
        assert report.ses_calls.get("GetEmailIdentity", 0) == 40, "the cap bounds the SES time an attacker can cost"
        wrong = [r for r in report.identities if any(f.check == c.DKIM_RECORD_WRONG_TARGET for f in r.findings)]
        unconfirmed = [r for r in report.identities if any(f.cause == c.ZONE_UNCONFIRMED for f in r.findings)]
        assert len(wrong) == confirmed, "a wrong target is reported only once SES confirmed the zone"
        assert all(r.identity.zone_confirmed for r in wrong)
        assert len(unconfirmed) == len(names) - confirmed
        assert all(r.status is IdentityStatus.UNKNOWN for r in unconfirmed)
    assert len(memory.load(ACCOUNT_ID, "us-east-1")) == 80  # remembered: later runs do not ask again
