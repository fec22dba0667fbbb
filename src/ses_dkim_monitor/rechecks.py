"""Event-driven re-checks: look again minutes after a change made inside AWS.

A composition module, like ``runs``; its state-table and queue adapters are in
``recheck_store``. Two kinds of work:

* ``on_event``: an EventBridge event (a CloudTrail record of an SES or
  Route 53 call, or SES's own event) becomes the identities it puts in doubt
  (``triggers.events``: SES events name theirs; a Route 53 change batch names
  record sets, mapped through the identity index the scheduled run keeps onto
  the identities of the account the change was made in, and of the accounts
  ``DNS_ACCOUNT_MAP`` says its zones serve), debounced per identity (a burst of
  200 changes is one re-check each), bounded per source account and hour
  (``MAX_RECHECKS_PER_ACCOUNT_HOUR``, whatever arrives), and queued as delayed
  jobs (``triggers.jobs``).
* ``on_job``: a job from the re-check queue, already checked against what the
  configuration monitors (``monitored``, by the handler), and charged to the
  account it looks at, each look (whoever may send to the queue skips
  ``on_event`` and its budget). It waits for its
  Route 53 change to be ``INSYNC`` (by queueing itself again), then scans just
  its identities (``GetEmailIdentity`` each, DNS from the zones' authoritative
  servers), alerts through the same state and decision as the schedule (the
  report's scope keeps every other identity's alerts untouched), and queues
  the confirming second look. What SES itself says about an identity is read
  from SES at that moment, never taken from the message.

The hourly scan stays the safety net: an event lost or dropped here is a
change seen at the next scheduled run instead of minutes after it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from . import catalogue as c
from . import runs
from .accounts import AccountError, AccountTarget, assumed_session
from .aws_clients import CLIENT_CONFIG
from .aws_errors import error_code
from .i18n import _, sentence, sentences
from .models import IdentityReport, ScanReport, SesIdentity, domain_and_parents
from .monitored import Monitored
from .recheck_store import LOOKS_PARTITION, Debouncer, IdentityIndex, RecheckBudget, RecheckQueue, change_in_sync
from .scan import recommendations
from .scan.deadline import Deadline
from .scan.engine import run_scan
from .settings import Settings
from .triggers import jobs
from .triggers.affected import affected, dns_accounts
from .triggers.events import MalformedEvent, parse_recheck
from .untrusted import quoted
from .wiring import ALERTING_CLIENT_CONFIG, build_probe, build_shards, build_zone_memory

log = logging.getLogger(__name__)

# What a whole-account job (every identity of a region: the list and the batch reads, twice) costs of the
# hourly budget, in identity re-checks: at 10,000 identities a region's re-read is about 210 SES calls a
# look, about what a hundred identities' re-checks cost. Never more than the whole hour's budget: a budget
# below it (MAX_RECHECKS_PER_ACCOUNT_HOUR accepts 1) would otherwise never grant one.
WHOLE_ACCOUNT_COST = 100


def whole_account_cost(per_hour: int) -> int:
    """What a whole-account job costs of an hourly budget of ``per_hour``: 100, or the whole budget if less."""
    return min(WHOLE_ACCOUNT_COST, per_hour)


# ---------------------------------------------------------------- context


@dataclass
class Context:
    """What both kinds of work need, built by the handler."""

    settings: Settings
    session: Any
    now: datetime
    own_account: str
    partition: str
    metrics: Any
    monitored: Monitored = field(init=False)

    def __post_init__(self) -> None:
        self.monitored = Monitored(self.settings, self.session, own_account=self.own_account, partition=self.partition)

    def dynamodb(self) -> Any:
        return self.session.client("dynamodb", config=ALERTING_CLIENT_CONFIG)

    def queue(self) -> RecheckQueue:
        return RecheckQueue(self.session.client("sqs", config=ALERTING_CLIENT_CONFIG), self.settings.recheck_queue_url)

    def target(self, account: str) -> AccountTarget | None:
        """How to reach ``account``; None when the configuration does not monitor it."""
        return self.monitored.target(account)

    def count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


# ---------------------------------------------------------------- events


def event_time(event: dict[str, Any], fallback: datetime) -> datetime:
    """When the change happened: the CloudTrail record's eventTime, else the envelope's time."""
    detail = event.get("detail")
    for raw in ((detail or {}).get("eventTime") if isinstance(detail, dict) else None, event.get("time")):
        if isinstance(raw, str):
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if parsed.tzinfo is not None:
                return parsed
    return fallback


def on_event(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Queue the re-checks an EventBridge event calls for. Never raises for the event's own shape."""
    ctx.count("TriggerEventsReceived")
    try:
        recheck = parse_recheck(event)
    except MalformedEvent as exc:
        # Retrying cannot fix an event's shape: say so, count it (alarmed), and drop it.
        log.error("event dropped: not one this monitor handles", extra={"reason": str(exc), "id": event.get("id")})
        ctx.count("TriggerEventsMalformed")
        return {"dropped": str(exc)}
    if recheck is None:
        ctx.count("TriggerEventsIgnored")
        return {"ignored": "a failed call changes nothing"}
    if not ctx.settings.recheck_queue_url:
        log.warning("event-driven re-checks are off (no RECHECK_QUEUE_URL): the next scheduled scan will see it")
        ctx.count("TriggerEventsIgnored")
        return {"ignored": "re-checks are not configured"}

    db = ctx.dynamodb()
    known = IdentityIndex(db, ctx.settings.state_table).load()
    regions = set(ctx.settings.regions)
    # A DNS change reaches the identities of its own account, and of the accounts DNS_ACCOUNT_MAP says its
    # zones serve: a record of the same name in anyone else's zone is not their DNS.
    reach = dns_accounts(recheck.account, ctx.settings.dns_account_map)
    candidates = affected(recheck, known, dns_accounts=reach)
    found = [k for k in candidates if k.region in regions and ctx.target(k.account) is not None]
    # A whole-account event names no identity: it is re-checked in its own region even before the
    # scheduled run has indexed that account.
    whole_region = recheck.whole_account and recheck.region in regions and ctx.target(recheck.account) is not None
    if not found and not whole_region:
        log.info("event ignored: it touches no monitored identity", extra={"reason": recheck.reason})
        ctx.count("TriggerEventsIgnored")
        return {"ignored": "no monitored identity", "reason": recheck.reason}

    when = event_time(event, ctx.now)
    debouncer = Debouncer(db, ctx.settings.state_table)
    budget = RecheckBudget(db, ctx.settings.state_table, per_hour=ctx.settings.max_rechecks_per_account_hour)
    queue = ctx.queue()
    queued = debounced = dropped = 0
    # GetChange is asked in the account that made the change: only where the function may assume a role.
    plans = jobs.plan(recheck, found, event_time=when, ask_change=ctx.target(recheck.account) is not None)
    for job in plans:
        delay = jobs.first_delay(job, delay_seconds=ctx.settings.recheck_delay_seconds)
        horizon = ctx.now + timedelta(seconds=delay + jobs.POLL_SECONDS * jobs.MAX_POLLS)
        fresh = [
            k for k in job.debounce_keys if debouncer.claim(job.account, job.region, k, now=ctx.now, until=horizon)
        ]
        debounced += len(job.debounce_keys) - len(fresh)
        kept = _within_budget(budget, recheck.account, job, fresh, now=ctx.now)
        for key in fresh[len(kept) :]:  # not queued: the next event may claim it again
            debouncer.release(job.account, job.region, key, now=ctx.now)
        if len(kept) < len(fresh):
            dropped += len(fresh) - len(kept)
            log.warning(
                "re-checks dropped: the account the events come from spent this hour's re-checks",
                extra={
                    "source_account": recheck.account,
                    "account": job.account,
                    "region": job.region,
                    "dropped": len(fresh) - len(kept),
                    "per_hour": ctx.settings.max_rechecks_per_account_hour,
                },
            )
        if not kept:
            continue
        if not job.whole_account:
            job = jobs.with_identities(job, kept)
        queue.send(job, delay=delay)
        queued += 1
        log.info(
            "re-check queued",
            extra={"account": job.account, "region": job.region, "identities": list(job.identities), "delay": delay},
        )
    ctx.count("RechecksQueued", queued)
    ctx.count("RechecksDebounced", debounced)
    ctx.count("RechecksDropped", dropped)
    result = {"queued": queued, "debounced": debounced, "reason": recheck.reason}
    return {**result, "over_budget": dropped} if dropped else result


def _within_budget(
    budget: RecheckBudget, source: str, job: jobs.RecheckJob, fresh: list[str], *, now: datetime
) -> list[str]:
    """The debounce keys of ``fresh`` this hour's budget of ``source`` still covers, in order."""
    if not fresh:
        return []
    if job.whole_account:
        cost = whole_account_cost(budget.per_hour)
        return fresh if budget.take(source, cost, now=now) >= cost else []
    return fresh[: budget.take(source, len(fresh), now=now)]


# ---------------------------------------------------------------- jobs


def on_job(job: jobs.RecheckJob, ctx: Context, *, deadline: Deadline) -> dict[str, Any]:
    """One step of a queued job: poll its change, or look. Raises when SES or the state cannot be read."""
    queue = ctx.queue()
    if job.waits_for_change:
        next_poll = jobs.after_poll(job, in_sync=_change_in_sync(job, ctx))
        if next_poll is not None:
            queue.send(next_poll, delay=jobs.POLL_SECONDS)
            return {"waiting_for": job.change_id, "polls": next_poll.polls}

    # The handler has checked the job against what is monitored (monitored.Monitored.job): a target exists.
    target = ctx.monitored.job(job.account, job.region, job.change_account)
    debouncer = Debouncer(ctx.dynamodb(), ctx.settings.state_table)
    if job.look == jobs.FIRST_LOOK:
        for key in job.debounce_keys:
            debouncer.release(job.account, job.region, key, now=ctx.now)

    granted, dropped = _looks_within_budget(job, ctx)
    if dropped:
        ctx.count("RechecksDropped", dropped)
        log.warning(
            "re-check looks dropped: the account looked at spent this hour's re-checks",
            extra={
                "account": job.account,
                "region": job.region,
                "look": job.look,
                "dropped": dropped,
                "per_hour": ctx.settings.max_rechecks_per_account_hour,
            },
        )
    if granted is None:
        return {"look": job.look, "over_budget": dropped}
    job = granted

    report = _look(job, target, ctx, deadline=deadline)
    ctx.count("RechecksRun")
    if report.errors:
        raise RuntimeError("; ".join(f"{e.account}/{e.region}: {e.reason}" for e in report.errors))
    alerting = runs.alert(report, ctx.settings, ctx.session, ctx.now, ctx.metrics)
    follow = jobs.second_look(job)
    if follow is not None:
        queue.send(follow, delay=ctx.settings.recheck_confirm_seconds)
    log.info(
        "re-check done",
        extra={"look": job.look, "identities": len(report.identities), "reason": job.reason, **alerting},
    )
    return {"look": job.look, "identities": len(report.identities), **alerting}


def _looks_within_budget(job: jobs.RecheckJob, ctx: Context) -> tuple[jobs.RecheckJob | None, int]:
    """(the job cut to what this hour still covers, or None: nothing; how many identities were dropped).

    ``on_event`` charges the source account when it queues a job, but whoever may send to the queue
    skips ``on_event``. So each look is charged too, to the account it looks at: every identity a
    look, a whole-account look what ``on_event`` charges for the whole job, against twice the hourly
    budget (a re-check is two looks), in a counter of its own so a job ``on_event`` queued is not
    charged twice. A job names at most the budget's worth of identities (the most ``on_event`` puts
    in one); the rest are dropped before anything is charged for them.
    """
    per_hour = ctx.settings.max_rechecks_per_account_hour
    looks = RecheckBudget(ctx.dynamodb(), ctx.settings.state_table, per_hour=2 * per_hour, partition=LOOKS_PARTITION)
    if job.whole_account:
        cost = whole_account_cost(per_hour)
        return (job, 0) if looks.take(job.account, cost, now=ctx.now) >= cost else (None, 1)
    names = list(dict.fromkeys(job.identities))
    capped = names[:per_hour]
    kept = capped[: looks.take(job.account, len(capped), now=ctx.now)]
    dropped = len(names) - len(kept)
    if not kept:
        return None, dropped
    return jobs.with_identities(job, kept), dropped


def _change_in_sync(job: jobs.RecheckJob, ctx: Context) -> bool:
    """Ask Route 53 in the account that made the change; one that cannot be asked counts as done."""
    if job.change_id is None:
        return True
    target = ctx.target(job.change_account or job.account)
    if target is None:
        return True
    try:
        session = assumed_session(
            ctx.session, target, run_id=uuid.uuid4().hex[:12], external_id=ctx.settings.role_external_id or None
        )
        return change_in_sync(session.client("route53", config=CLIENT_CONFIG), job.change_id)
    except (AccountError, ClientError, BotoCoreError) as exc:
        log.warning("could not ask Route 53 about the change; looking now", extra={"error": type(exc).__name__})
        return True


def _look(job: jobs.RecheckJob, target: AccountTarget, ctx: Context, *, deadline: Deadline) -> ScanReport:
    settings = ctx.settings
    plan = build_shards(settings, ctx.session, [target], regions=[job.region], run_id=uuid.uuid4().hex[:12])
    names: tuple[str, ...] | None = None
    if not job.whole_account:
        # An address is judged by the DKIM of its domain (or a parent): read those identities too.
        extra = [p for n in job.identities if "@" in n for p in domain_and_parents(n.rpartition("@")[2])]
        names = tuple(dict.fromkeys([*job.identities, *extra]))
    shards = [replace(s, identities=names) for s in plan.shards]
    report = run_scan(
        shards,
        build_probe(settings),
        check_dmarc=settings.check_dmarc,
        only=job.identities,
        now=lambda: ctx.now,
        deadline=deadline,
        zones=build_zone_memory(settings, ctx.session),
        max_confirmations=settings.max_zone_confirmations,
        nameservers="all",
        failed=plan.failed,
        throttled=lambda: plan.pacing.total().throttled,
        # SES's recommendations are account-wide reads: the schedule imports them, a re-check keeps
        # their alerts as they are (only the affected identities' calls are made here).
        fresh=True,
    )
    report = replace(report, unevaluated=report.unevaluated | {c.SES_RECOMMENDATION})
    if not job.whole_account:
        report = replace(report, scope=frozenset((job.region, n.lower()) for n in job.identities))
    if job.quote_recommendations and settings.import_ses_recommendations and plan.shards:
        # SES's own words about these identities, read from SES now: a queue message is not SES.
        shard = plan.shards[0]
        said = recommendations.read(shard.sesv2, account=shard.account, region=shard.region) or []
        report = replace(report, identities=tuple(_with_ses_words(r, said) for r in report.identities))
    return report


def _with_ses_words(report: IdentityReport, said: list[recommendations.Recommendation]) -> IdentityReport:
    """Each finding with what SES's open recommendations of its kind say about the identity, quoted as SES's."""
    mine = [r for r in said if r.identity.lower() == report.identity.name.lower()]
    if not mine:
        return report
    findings = []
    for f in report.findings:
        words = [r.description for r in mine if f.check.startswith(recommendations.EXPLAINED_BY[r.type])]
        if words:
            ses_says = _("SES says: {words}").format(words="; ".join(quoted(w, 300) for w in words))
            f = replace(f, message=sentences(sentence(f.message), ses_says))
        findings.append(f)
    return replace(report, findings=tuple(findings))


# ---------------------------------------------------------------- the index, kept by scheduled runs


def write_index(report: ScanReport, settings: Settings, session: Any, *, now: datetime) -> None:
    """Record each fully read shard's identities for mapping Route 53 changes. Never fails the run."""
    if not settings.state_table or report.scope is not None:
        return
    failed = {(e.account, e.region) for e in report.errors}
    by_shard: dict[tuple[str, str], list[SesIdentity]] = {}
    for r in report.identities:
        by_shard.setdefault((r.identity.account, r.identity.region), []).append(r.identity)
    # Few retries: a table that refuses writes must not hold the run up (the index is a convenience).
    index = IdentityIndex(session.client("dynamodb", config=ALERTING_CLIENT_CONFIG), settings.state_table)
    for account in report.accounts:
        for region in report.regions:
            if (account, region) in failed:
                continue
            try:
                index.write(account, region, by_shard.get((account, region), []), now=now)
            except (ClientError, BotoCoreError) as exc:
                log.warning(
                    "identity index not written: Route 53 events may miss these identities until the next run",
                    extra={"account": account, "region": region, "error": error_code(exc)},
                )
