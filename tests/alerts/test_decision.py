"""The alert decision: every rule, chained over runs the way the Lambda chains them.

``Table`` runs the real alerting run (claim, deliver, commit) against the
in-memory state store and recording channels, so these tests exercise the
same protocol as production without re-implementing it. Tests of ``decide``
itself call it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from ses_dkim_monitor.alerts.decision import decide
from ses_dkim_monitor.alerts.lifecycle import after_delivery, claim
from ses_dkim_monitor.alerts.model import (
    REASON_DELETED,
    REASON_FIXED,
    AlertPolicy,
    AlertState,
    AlertStatus,
    Event,
    Notification,
    state_id,
)
from ses_dkim_monitor.alerts.run import run_alerting
from ses_dkim_monitor.catalogue import MONITOR_CANNOT_VERIFY as CANNOT_VERIFY
from ses_dkim_monitor.models import IdentityReport, IdentityStatus, ScanReport, Severity
from tests.support.alert_builders import (
    ACCOUNT,
    REGION,
    T0,
    dmarc_missing,
    identity_report,
    info_finding,
    lookup_failed,
    missing_token,
    scan,
    signing_disabled,
)
from tests.support.fakes import RecordingNotifier, WriteLog

CHANNELS = ("sns", "slack")
POLICY = AlertPolicy()
HOUR = timedelta(hours=1)


@dataclass
class RunOutcome:
    """What one run sent, and each changed state as it was claimed (before delivery)."""

    notifications: tuple[Notification, ...]
    new_states: tuple[AlertState, ...]
    in_flight: int


class Table:
    """Alert state kept across runs; each run is a real ``run_alerting``."""

    def __init__(self) -> None:
        self.store = WriteLog()

    @property
    def states(self) -> dict[str, AlertState]:
        return self.store.states

    def run(
        self,
        report: ScanReport,
        now: datetime,
        *,
        policy: AlertPolicy = POLICY,
        channels=CHANNELS,
        ok: tuple[str, ...] | None = None,
    ) -> RunOutcome:
        """One run whose channels succeed when in ``ok`` (default: all)."""
        notifiers = [RecordingNotifier(ch, succeed=ok is None or ch in ok) for ch in channels]
        start = len(self.store.writes)
        result = run_alerting(report, account_id=ACCOUNT, store=self.store, notifiers=notifiers, now=now, policy=policy)
        first: dict[str, AlertState] = {}
        for state in self.store.writes[start:]:
            first.setdefault(state.state_id, state)
        return RunOutcome(result.notifications, tuple(first.values()), result.in_flight)

    def state(self, identity: str, key: str, region: str = REGION) -> AlertState:
        return self.states[state_id(ACCOUNT, region, identity, key)]


def events(decision: RunOutcome) -> list[tuple[str, str, str]]:
    return sorted((n.event.value, n.identity, n.key) for n in decision.notifications)


def test_new_critical_finding_opens_on_first_run_on_every_channel():
    decision = Table().run(scan(identity_report("example.com", signing_disabled("example.com"))), T0)

    [note] = decision.notifications
    assert (note.event, note.identity, note.region, note.check) == (
        Event.OPENED,
        "example.com",
        REGION,
        "dkim-signing-disabled",
    )
    assert note.channels == CHANNELS
    assert note.severity is Severity.CRITICAL
    assert "--signing-enabled" in note.fix
    [state] = decision.new_states
    assert state.pending_event is Event.OPENED and state.pending_channels == CHANNELS
    assert state.version == 1 and state.first_seen == T0 and state.status is AlertStatus.OPEN


def test_opened_notification_carries_the_record_to_publish():
    decision = Table().run(scan(identity_report("example.com", missing_token("example.com", "abc"))), T0)

    [note] = decision.notifications
    assert note.key == "dkim-record-missing#abc"
    assert note.record is not None and note.record.value == "abc.dkim.amazonses.com"
    assert note.fix == "Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com"


def test_second_run_with_same_finding_is_silent_but_records_last_seen():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0)

    decision = table.run(report, T0 + HOUR)

    assert decision.notifications == ()
    state = table.state("example.com", "dkim-signing-disabled")
    assert state.last_seen == T0 + HOUR and state.first_seen == T0
    assert state.last_notified == T0 and state.pending_event is None
    assert state.announced_channels == CHANNELS


def test_reminder_when_still_open_after_the_interval_and_not_before():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0)

    assert table.run(report, T0 + timedelta(hours=23, minutes=59)).notifications == ()
    decision = table.run(report, T0 + timedelta(hours=24))

    assert events(decision) == [("reminder", "example.com", "dkim-signing-disabled")]
    assert decision.notifications[0].first_seen == T0
    assert table.run(report, T0 + timedelta(hours=25)).notifications == ()
    assert events(table.run(report, T0 + timedelta(hours=48))) == [("reminder", "example.com", "dkim-signing-disabled")]


def test_reminder_interval_comes_from_the_policy():
    table = Table()
    policy = AlertPolicy(reminder_interval=timedelta(hours=2))
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0, policy=policy)

    assert table.run(report, T0 + HOUR, policy=policy).notifications == ()
    assert [n.event for n in table.run(report, T0 + 2 * HOUR, policy=policy).notifications] == [Event.REMINDER]


def test_fixed_finding_resolves_with_reason():
    table = Table()
    table.run(scan(identity_report("example.com", signing_disabled("example.com"))), T0)

    decision = table.run(scan(identity_report("example.com")), T0 + HOUR)

    [note] = decision.notifications
    assert note.event is Event.RESOLVED and note.reason == REASON_FIXED and note.channels == CHANNELS
    state = table.state("example.com", "dkim-signing-disabled")
    assert state.status is AlertStatus.RESOLVED and state.resolved_at == T0 + HOUR
    assert table.run(scan(identity_report("example.com")), T0 + 2 * HOUR).notifications == ()


def test_resolved_goes_only_to_channels_that_heard_it_opened():
    table = Table()
    table.run(scan(identity_report("example.com", signing_disabled("example.com"))), T0, ok=("sns",))

    decision = table.run(scan(identity_report("example.com")), T0 + HOUR)

    [note] = decision.notifications
    assert note.event is Event.RESOLVED and note.channels == ("sns",)


def test_resolved_is_silent_when_the_opened_alert_never_got_out():
    table = Table()
    table.run(scan(identity_report("example.com", signing_disabled("example.com"))), T0, ok=())

    decision = table.run(scan(identity_report("example.com")), T0 + HOUR)

    assert decision.notifications == ()
    state = table.state("example.com", "dkim-signing-disabled")
    assert state.status is AlertStatus.RESOLVED and state.pending_event is None


def test_each_missing_dkim_token_is_tracked_on_its_own():
    table = Table()
    both = scan(identity_report("example.com", missing_token("example.com", "t1"), missing_token("example.com", "t2")))
    assert events(table.run(both, T0)) == [
        ("opened", "example.com", "dkim-record-missing#t1"),
        ("opened", "example.com", "dkim-record-missing#t2"),
    ]

    decision = table.run(scan(identity_report("example.com", missing_token("example.com", "t2"))), T0 + HOUR)

    assert events(decision) == [("resolved", "example.com", "dkim-record-missing#t1")]
    assert table.state("example.com", "dkim-record-missing#t2").status is AlertStatus.OPEN


def test_findings_below_min_severity_are_neither_alerted_nor_stored():
    table = Table()
    policy = AlertPolicy(min_severity=Severity.CRITICAL)

    decision = table.run(
        scan(identity_report("example.com", dmarc_missing("example.com"), signing_disabled("example.com"))),
        T0,
        policy=policy,
    )

    assert events(decision) == [("opened", "example.com", "dkim-signing-disabled")]
    assert [s.key for s in table.states.values()] == ["dkim-signing-disabled"]


def test_info_findings_are_ignored_by_default():
    decision = Table().run(scan(identity_report("example.com", info_finding("example.com"))), T0)
    assert decision.notifications == () and decision.new_states == ()


def test_open_alert_that_falls_below_min_severity_is_closed_saying_why():
    table = Table()
    report = scan(identity_report("example.com", dmarc_missing("example.com")))
    table.run(report, T0)

    decision = table.run(report, T0 + HOUR, policy=AlertPolicy(min_severity=Severity.CRITICAL))

    [note] = decision.notifications
    assert note.event is Event.RESOLVED and "below the minimum alert severity (critical)" in note.reason


def test_severity_raised_is_announced_at_once():
    table = Table()
    table.run(scan(identity_report("example.com", dmarc_missing("example.com"))), T0)
    worse = replace(dmarc_missing("example.com"), severity=Severity.CRITICAL)

    decision = table.run(scan(identity_report("example.com", worse)), T0 + HOUR)

    [note] = decision.notifications
    assert note.event is Event.REMINDER and note.severity is Severity.CRITICAL
    assert note.reason == "severity raised from warning to critical"


def test_unknown_identity_keeps_open_alerts_without_resolving_them():
    table = Table()
    table.run(scan(identity_report("example.com", missing_token("example.com", "t1"))), T0)

    decision = table.run(
        scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN)), T0 + HOUR
    )

    assert decision.notifications == ()
    state = table.state("example.com", "dkim-record-missing#t1")
    assert state.status is AlertStatus.OPEN and state.last_seen == T0


def test_unknown_identity_still_opens_the_findings_it_did_see():
    decision = Table().run(
        scan(
            identity_report(
                "example.com",
                signing_disabled("example.com"),
                lookup_failed("example.com"),
                status=IdentityStatus.UNKNOWN,
            )
        ),
        T0,
    )
    assert events(decision) == [("opened", "example.com", "dkim-signing-disabled")]


def test_failed_lookup_never_alerts_by_itself():
    decision = Table().run(
        scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN)), T0
    )
    assert decision.notifications == ()
    assert [s.key for s in decision.new_states] == [CANNOT_VERIFY]
    assert decision.new_states[0].status is AlertStatus.WATCHING


def test_failed_lookup_in_a_problem_identity_is_treated_as_unknown():
    table = Table()
    table.run(scan(identity_report("example.com", missing_token("example.com", "t1"))), T0)

    decision = table.run(
        scan(identity_report("example.com", signing_disabled("example.com"), lookup_failed("example.com"))), T0 + HOUR
    )

    assert events(decision) == [("opened", "example.com", "dkim-signing-disabled")]
    assert table.state("example.com", "dkim-record-missing#t1").status is AlertStatus.OPEN


def test_cannot_verify_opens_once_after_three_unknown_runs():
    table = Table()
    unknown = scan(
        identity_report("example.com", lookup_failed("example.com", "timeout"), status=IdentityStatus.UNKNOWN)
    )

    assert table.run(unknown, T0).notifications == ()
    assert table.run(unknown, T0 + HOUR).notifications == ()
    assert table.state("example.com", CANNOT_VERIFY).unknown_runs == 2
    decision = table.run(unknown, T0 + 2 * HOUR)
    assert table.run(unknown, T0 + 3 * HOUR).notifications == ()

    [note] = decision.notifications
    assert (note.event, note.check, note.severity) == (Event.OPENED, CANNOT_VERIFY, Severity.WARNING)
    assert "3 consecutive runs" in note.message and "timeout" in note.message
    assert "example.com" in note.fix and "3 consecutive runs" in note.fix
    assert note.first_seen == T0
    assert table.state("example.com", CANNOT_VERIFY).unknown_runs == 4


def test_cannot_verify_threshold_comes_from_the_policy():
    policy = AlertPolicy(unknown_runs_threshold=1)
    decision = Table().run(
        scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN)),
        T0,
        policy=policy,
    )
    assert [n.check for n in decision.notifications] == [CANNOT_VERIFY]


def test_cannot_verify_is_sent_even_when_min_severity_is_critical():
    policy = AlertPolicy(unknown_runs_threshold=1, min_severity=Severity.CRITICAL)
    decision = Table().run(
        scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN)),
        T0,
        policy=policy,
    )
    assert [n.check for n in decision.notifications] == [CANNOT_VERIFY]


def test_cannot_verify_resolves_when_the_identity_can_be_checked_again():
    table = Table()
    policy = AlertPolicy(unknown_runs_threshold=1)
    table.run(
        scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN)),
        T0,
        policy=policy,
    )

    decision = table.run(scan(identity_report("example.com")), T0 + HOUR, policy=policy)

    [note] = decision.notifications
    assert (note.event, note.check) == (Event.RESOLVED, CANNOT_VERIFY)
    assert note.reason == "the monitor can check this identity again"


def test_unknown_counter_restarts_when_a_run_succeeds_in_between():
    table = Table()
    unknown = scan(identity_report("example.com", lookup_failed("example.com"), status=IdentityStatus.UNKNOWN))
    table.run(unknown, T0)
    table.run(unknown, T0 + HOUR)

    known = table.run(scan(identity_report("example.com")), T0 + 2 * HOUR)
    assert known.notifications == ()
    assert table.state("example.com", CANNOT_VERIFY).status is AlertStatus.RESOLVED

    assert table.run(unknown, T0 + 3 * HOUR).notifications == ()
    assert table.run(unknown, T0 + 4 * HOUR).notifications == ()
    assert table.state("example.com", CANNOT_VERIFY).unknown_runs == 2
    assert [n.check for n in table.run(unknown, T0 + 5 * HOUR).notifications] == [CANNOT_VERIFY]


def test_deleted_identity_resolves_its_findings_with_reason():
    table = Table()
    table.run(
        scan(
            identity_report("gone.example", missing_token("gone.example", "t1"), signing_disabled("gone.example")),
            identity_report("kept.example"),
        ),
        T0,
    )

    decision = table.run(scan(identity_report("kept.example")), T0 + HOUR)

    assert events(decision) == [
        ("resolved", "gone.example", "dkim-record-missing#t1"),
        ("resolved", "gone.example", "dkim-signing-disabled"),
    ]
    assert {n.reason for n in decision.notifications} == {REASON_DELETED}


def test_deleted_identity_counting_unknown_runs_is_dropped_quietly():
    table = Table()
    table.run(scan(identity_report("gone.example", lookup_failed("gone.example"), status=IdentityStatus.UNKNOWN)), T0)

    decision = table.run(scan(), T0 + HOUR)

    assert decision.notifications == ()
    assert table.state("gone.example", CANNOT_VERIFY).status is AlertStatus.RESOLVED


def test_region_that_could_not_be_listed_keeps_its_alerts_open():
    table = Table()
    table.run(
        scan(
            identity_report("eu.example", signing_disabled("eu.example"), region="eu-west-1"),
            regions=(REGION, "eu-west-1"),
        ),
        T0,
    )

    decision = table.run(scan(regions=(REGION, "eu-west-1"), failed=("eu-west-1",)), T0 + HOUR)

    assert decision.notifications == () and decision.new_states == ()
    assert table.state("eu.example", "dkim-signing-disabled", region="eu-west-1").status is AlertStatus.OPEN


def test_region_that_could_not_be_listed_still_gets_pending_deliveries_retried():
    table = Table()
    table.run(
        scan(identity_report("eu.example", signing_disabled("eu.example"), region="eu-west-1"), regions=("eu-west-1",)),
        T0,
        ok=("sns",),
    )

    decision = table.run(scan(regions=("eu-west-1",), failed=("eu-west-1",)), T0 + HOUR)

    [note] = decision.notifications
    assert (note.event, note.channels) == (Event.OPENED, ("slack",))


def test_failed_channel_is_retried_next_run_and_only_that_channel():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0, ok=("sns",))
    state = table.state("example.com", "dkim-signing-disabled")
    assert state.pending_event is Event.OPENED and state.pending_channels == ("slack",)
    assert state.delivered_channels == ("sns",)

    decision = table.run(report, T0 + HOUR)

    [note] = decision.notifications
    assert (note.event, note.channels) == (Event.OPENED, ("slack",))
    assert table.state("example.com", "dkim-signing-disabled").pending_event is None
    assert table.run(report, T0 + 2 * HOUR).notifications == ()


def test_no_reminder_is_stacked_on_an_undelivered_alert():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0, ok=())

    decision = table.run(report, T0 + timedelta(hours=30), ok=())

    assert [(n.event, n.channels) for n in decision.notifications] == [(Event.OPENED, CHANNELS)]


def test_undelivered_resolved_is_retried_on_the_channel_that_missed_it():
    table = Table()
    table.run(scan(identity_report("example.com", signing_disabled("example.com"))), T0)
    table.run(scan(identity_report("example.com")), T0 + HOUR, ok=("sns",))

    decision = table.run(scan(identity_report("example.com")), T0 + 2 * HOUR)

    [note] = decision.notifications
    assert (note.event, note.channels, note.reason) == (Event.RESOLVED, ("slack",), REASON_FIXED)


def test_state_leased_by_another_run_is_left_alone():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    decision = decide([], report, now=T0, policy=POLICY, channels=CHANNELS, account_id=ACCOUNT)
    leased = claim(decision.new_states[0], owner="other-run", until=T0 + timedelta(minutes=30))
    table.states[leased.state_id] = leased

    during = table.run(scan(identity_report("example.com")), T0 + timedelta(minutes=5))

    assert during.notifications == () and during.new_states == () and during.in_flight == 1


def test_expired_lease_of_a_crashed_run_is_retried():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    decision = decide([], report, now=T0, policy=POLICY, channels=CHANNELS, account_id=ACCOUNT)
    crashed = claim(decision.new_states[0], owner="crashed-run", until=T0 + timedelta(minutes=30))
    table.states[crashed.state_id] = crashed

    later = table.run(report, T0 + HOUR)

    assert [(n.event, n.channels) for n in later.notifications] == [(Event.OPENED, CHANNELS)]


def test_after_delivery_keeps_the_failed_channel_pending_and_releases_the_lease():
    decision = decide(
        [],
        scan(identity_report("example.com", signing_disabled("example.com"))),
        now=T0,
        policy=POLICY,
        channels=CHANNELS,
        account_id=ACCOUNT,
    )
    claimed = claim(decision.new_states[0], owner="me", until=T0 + HOUR)

    partial = after_delivery(claimed, delivered=["sns"], now=T0)

    assert partial.pending_event is Event.OPENED and partial.pending_channels == ("slack",)
    assert partial.announced_channels == ("sns",) and partial.last_notified == T0
    assert partial.lease_owner == "" and partial.lease_until is None
    assert partial.version == claimed.version + 1

    failed = after_delivery(claimed, delivered=[], now=T0)
    assert failed.last_notified is None and failed.pending_channels == CHANNELS


def test_after_delivery_ignores_channels_that_were_not_pending():
    decision = decide(
        [],
        scan(identity_report("example.com", signing_disabled("example.com"))),
        now=T0,
        policy=POLICY,
        channels=("sns",),
        account_id=ACCOUNT,
    )
    done = after_delivery(decision.new_states[0], delivered=["slack", "sns"], now=T0)
    assert done.announced_channels == ("sns",) and done.pending_event is None


def test_finding_back_after_resolution_opens_a_new_episode():
    table = Table()
    broken = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(broken, T0)
    table.run(scan(identity_report("example.com")), T0 + HOUR)

    decision = table.run(broken, T0 + 2 * HOUR)

    [note] = decision.notifications
    assert note.event is Event.OPENED and note.first_seen == T0 + 2 * HOUR and note.reason == ""
    state = table.state("example.com", "dkim-signing-disabled")
    # Three notified runs, each a claim and a commit write.
    assert state.version == 6 and state.resolved_at is None


def test_every_changed_state_is_one_version_above_the_loaded_one():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0)
    loaded = table.state("example.com", "dkim-signing-disabled")

    decision = decide(
        table.states.values(), report, now=T0 + HOUR, policy=POLICY, channels=CHANNELS, account_id=ACCOUNT
    )

    assert [s.version for s in decision.new_states] == [loaded.version + 1]


def test_without_channels_states_are_kept_but_nothing_is_sent():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    decision = table.run(report, T0, channels=())

    assert decision.notifications == ()
    assert table.state("example.com", "dkim-signing-disabled").pending_event is None
    assert table.run(report, T0 + 48 * HOUR, channels=()).notifications == ()


def test_pending_for_a_channel_no_longer_configured_is_dropped():
    table = Table()
    report = scan(identity_report("example.com", signing_disabled("example.com")))
    table.run(report, T0, ok=("sns",))

    decision = table.run(report, T0 + HOUR, channels=("sns",))

    assert decision.notifications == ()
    assert table.state("example.com", "dkim-signing-disabled").pending_event is None


def test_states_of_other_accounts_and_unscanned_regions_are_ignored():
    table = Table()
    table.run(scan(identity_report("example.com", signing_disabled("example.com"))), T0)
    mine = table.state("example.com", "dkim-signing-disabled")
    other_account = replace(mine, account="999999999999")
    other_region = replace(mine, region="ap-south-1")

    decision = decide(
        [other_account, other_region], scan(), now=T0 + HOUR, policy=POLICY, channels=CHANNELS, account_id=ACCOUNT
    )

    assert decision.notifications == () and decision.new_states == ()


def test_same_key_twice_in_one_identity_keeps_the_most_severe():
    worse = replace(dmarc_missing("example.com"), severity=Severity.CRITICAL)
    decision = Table().run(scan(identity_report("example.com", dmarc_missing("example.com"), worse)), T0)
    assert [n.severity for n in decision.notifications] == [Severity.CRITICAL]


def test_naive_clock_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        decide([], scan(), now=T0.replace(tzinfo=None), policy=POLICY, channels=CHANNELS, account_id=ACCOUNT)


@pytest.mark.parametrize("options", [{"reminder_interval": timedelta(0)}, {"unknown_runs_threshold": 0}])
def test_policy_refuses_values_that_would_spam_or_never_fire(options):
    with pytest.raises(ValueError):
        AlertPolicy(**options)


# ---------------------------------------------------------------- targeted reports (event-driven re-checks)


def scoped(report: ScanReport, *names: str) -> ScanReport:
    return replace(report, scope=frozenset((REGION, n.lower()) for n in names))


def test_a_targeted_report_leaves_every_identity_outside_its_scope_alone():
    table = Table()
    table.run(
        scan(
            identity_report("a.example", signing_disabled("a.example")),
            identity_report("b.example", signing_disabled("b.example")),
        ),
        T0,
    )

    # A re-check of a.example alone, now fixed: b.example is absent from it, but not gone.
    decision = table.run(scoped(scan(identity_report("a.example")), "A.example"), T0 + HOUR)

    assert events(decision) == [("resolved", "a.example", "dkim-signing-disabled")]
    assert table.state("b.example", "dkim-signing-disabled").status is AlertStatus.OPEN


def test_an_identity_in_scope_but_absent_was_deleted():
    table = Table()
    table.run(scan(identity_report("gone.example", signing_disabled("gone.example"))), T0)

    decision = table.run(scoped(scan(), "gone.example"), T0 + HOUR)

    assert events(decision) == [("resolved", "gone.example", "dkim-signing-disabled")]
    assert {n.reason for n in decision.notifications} == {REASON_DELETED}


def test_a_check_the_report_did_not_run_keeps_its_open_alert():
    table = Table()
    table.run(scan(identity_report("a.example", signing_disabled("a.example"))), T0)

    # A re-check does not read SES's recommendations, say: its findings' absence proves nothing.
    decision = table.run(
        replace(scan(identity_report("a.example")), unevaluated=frozenset({"dkim-signing-disabled"})), T0 + HOUR
    )

    assert decision.notifications == ()
    assert table.state("a.example", "dkim-signing-disabled").status is AlertStatus.OPEN


def test_identities_a_run_could_not_finish_are_counted_not_alerted_one_by_one():
    """A run that runs out of time must not open (and then resolve) one alert per unchecked identity."""
    from ses_dkim_monitor import catalogue as c

    def unfinished(name: str) -> IdentityReport:
        f = c.finding(
            c.IDENTITY_NOT_CHECKED,
            f"{name} ({REGION}) was not checked: the run reached its time budget first",
            cause=c.OUT_OF_TIME,
            identity=name,
            remedy="give the function more time",
        )
        return identity_report(name, f, status=IdentityStatus.UNKNOWN)

    table = Table()
    table.run(scan(identity_report("slow.example", signing_disabled("slow.example"))), T0)
    runs = [table.run(scan(unfinished("slow.example"), unfinished("quick.example")), T0 + HOUR * i) for i in (1, 2, 3)]

    assert [events(r) for r in runs[:2]] == [[], []], "neither opened nor resolved while the monitor is blind"
    assert table.state("slow.example", "dkim-signing-disabled").status is AlertStatus.OPEN
    opened = {(n.identity, n.check) for n in runs[2].notifications}
    assert opened == {("slow.example", CANNOT_VERIFY), ("quick.example", CANNOT_VERIFY)}  # at the threshold, 3
    assert all("time budget" in n.message for n in runs[2].notifications)
