"""Invariants of the alert decision over generated histories of runs.

Each example is a sequence of hourly-ish runs over two identities whose
findings, status (ok / problem / unknown), presence (deleted, region not
listable) and channel outcomes (each channel may fail on a run) are drawn by
hypothesis. The runs go through the real ``run_alerting`` against the
in-memory state store, so claim, deliver and commit are exercised as in
production. After every run:

* a channel never received ``opened`` twice for one key without a
  ``resolved`` between them;
* nothing was resolved while its identity was ``unknown``;
* no state lists a channel as both pending and delivered;
* a run that scanned before the previous one (it reaches alerting late)
  never moves a state back in time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from ses_dkim_monitor.alerts.model import AlertPolicy, AlertStatus, Event
from ses_dkim_monitor.alerts.run import run_alerting
from ses_dkim_monitor.catalogue import finding
from ses_dkim_monitor.models import DnsRecord, Finding, IdentityReport, IdentityStatus, ScanReport, Severity
from tests.support.alert_builders import ACCOUNT, REGION, T0, identity_report, lookup_failed, scan
from tests.support.fakes import RecordingNotifier, WriteLog

IDENTITIES = ("a.example", "b.example")
CHANNELS = ("sns", "slack")


def candidate_findings(domain: str) -> list[Finding]:
    """A small fixed vocabulary of findings, so that keys recur across runs."""
    return [
        finding("dkim-signing-disabled", f"DKIM signing is disabled for {domain}", identity=domain, region=REGION),
        finding(
            "dkim-record-missing",
            f"t1._domainkey.{domain} does not exist",
            subject="t1",
            source="dns",
            record=DnsRecord(f"t1._domainkey.{domain}.", "CNAME", "t1.dkim.amazonses.com."),
        ),
        finding(
            "dmarc-record-missing",
            f"_dmarc.{domain} has no TXT record",
            source="dns",
            record=DnsRecord(f"_dmarc.{domain}.", "TXT", '"v=DMARC1; p=none"'),
        ),
    ]


@dataclass(frozen=True)
class IdentityDraw:
    present: bool
    unknown: bool
    findings: tuple[tuple[int, Severity], ...]  # indexes into candidate_findings, with a severity


@dataclass(frozen=True)
class RunDraw:
    late: bool  # this run scanned half an hour before the previous run, and reaches alerting after it
    hours: int
    region_failed: bool
    identities: tuple[IdentityDraw, ...]
    channel_ok: tuple[bool, ...]


severities = st.sampled_from([Severity.CRITICAL, Severity.WARNING, Severity.INFO])
identity_draws = st.builds(
    IdentityDraw,
    present=st.sampled_from([True, True, True, False]),  # now and then deleted
    unknown=st.booleans(),
    findings=st.lists(st.tuples(st.integers(0, 2), severities), max_size=3).map(tuple),
)
run_draws = st.builds(
    RunDraw,
    late=st.sampled_from([False] * 4 + [True]),
    hours=st.sampled_from([0, 1, 1, 1, 5, 25, 49]),
    region_failed=st.sampled_from([False] * 5 + [True]),  # now and then the region cannot be listed
    identities=st.tuples(identity_draws, identity_draws),
    channel_ok=st.tuples(st.booleans(), st.booleans()),
)
policies = st.builds(
    AlertPolicy,
    reminder_interval=st.sampled_from([timedelta(hours=2), timedelta(hours=24)]),
    min_severity=st.sampled_from([Severity.WARNING, Severity.INFO, Severity.CRITICAL]),
    unknown_runs_threshold=st.integers(1, 3),
)


def report_for(draw: RunDraw) -> tuple[ScanReport, dict[str, bool]]:
    reports: list[IdentityReport] = []
    unknown: dict[str, bool] = {}
    for name, ident in zip(IDENTITIES, draw.identities, strict=True):
        if not ident.present:
            continue
        vocabulary = candidate_findings(name)
        found = [replace_severity(vocabulary[i], sev) for i, sev in ident.findings]
        if ident.unknown:
            found.append(lookup_failed(name))
            status = IdentityStatus.UNKNOWN
        else:
            status = None
        reports.append(identity_report(name, *found, status=status))
        unknown[name] = ident.unknown
    if draw.region_failed:
        return scan(regions=(REGION,), failed=(REGION,)), {}
    return scan(*reports), unknown


def replace_severity(f: Finding, severity: Severity) -> Finding:
    return replace(f, severity=severity)


@given(policy=policies, runs=st.lists(run_draws, min_size=1, max_size=10))
def test_decide_keeps_its_invariants_over_any_history(policy, runs):
    store = WriteLog()
    now = T0
    heard: dict[tuple[str, str], list[Event]] = {}  # (state_id, channel) -> delivered events, in order
    for draw in runs:
        scan_time = now - timedelta(minutes=30) if draw.late else now + timedelta(hours=draw.hours, minutes=1)
        now = max(now, scan_time)
        report, unknown = report_for(draw)
        before = dict(store.states)
        notifiers = [RecordingNotifier(ch, succeed=ok) for ch, ok in zip(CHANNELS, draw.channel_ok, strict=True)]
        run_alerting(report, account_id=ACCOUNT, store=store, notifiers=notifiers, now=scan_time, policy=policy)

        for notifier in notifiers:
            if notifier.succeed:
                for n in notifier.received:
                    heard.setdefault((n.state_id, notifier.name), []).append(n.event)

        for (sid, channel), events in heard.items():
            opened_since_resolved = 0
            for event in events:
                if event is Event.OPENED:
                    opened_since_resolved += 1
                    assert opened_since_resolved == 1, f"{channel} heard 'opened' twice for {sid}: {events}"
                elif event is Event.RESOLVED:
                    opened_since_resolved = 0

        for sid, after in store.states.items():
            prev = before.get(sid)
            if unknown.get(after.identity) and prev is not None and prev.status is AlertStatus.OPEN:
                assert after.status is not AlertStatus.RESOLVED, f"{sid} resolved while its identity was unknown"
            if prev is not None:
                assert after.decided_at >= prev.decided_at, f"{sid} moved back in time"
            overlap = set(after.pending_channels) & set(after.delivered_channels)
            assert not overlap, f"{sid} is both pending and delivered on {overlap}"
