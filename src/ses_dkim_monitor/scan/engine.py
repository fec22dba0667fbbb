"""The scan engine: inventory -> DNS probe -> checks, for every (account, region) shard side by side.

One engine behind the CLI and the Lambda. It receives shards (each with its
own paced SES clients), a DNS probe and a deadline; the composition roots
decide how those are built.

How the work flows, and why:

* Each shard's SES inventory is read in a thread of its own: SES limits each
  account and region to about 1 request/s, so shards side by side cost the
  time of the slowest one, not the sum.
* Identities go from those threads into one bounded queue that a pool of
  asyncio workers drains through the shared DNS probe (one bound on queries
  in flight, an optional rate cap). A full queue blocks the readers, so
  memory does not grow with the number of identities, and DNS work on the
  first batch starts while SES is still being read.
* Before a CNAME is reported as pointing at the wrong target, or a fix is
  printed from a predicted zone, SES is asked for the real signing zone
  (GetEmailIdentity). Those answers are remembered across runs and at most
  ``max_confirmations`` new ones are asked per shard and run, so nobody who
  controls some domains' DNS can make a run too long. What is left
  unconfirmed is reported as not checked, never as a false wrong target.
* At the deadline, whatever is not finished is reported ``unknown`` with the
  cause ``out-of-time``: never healthy, never missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .. import catalogue as c
from ..models import (
    IdentityReport,
    IdentityType,
    ScanReport,
    SesIdentity,
    ShardError,
    domain_and_parents,
)
from . import recommendations
from .checks import evaluate, not_checked
from .checks.identity import detail_unfetched
from .checks.replica import rests_on_origin
from .deadline import Deadline
from .dns_answers import DomainDns, fix_needs_real_zone, in_sample, points_off_zone, servers_may_explain
from .dns_probe import DnsProbe
from .domain_probe import DomainProbe, ProbeRequest
from .inventory import InventoryError, OutOfTime, SesInventory
from .ses_detail import with_signing_detail
from .shard_run import Shard as Shard
from .shard_run import ShardRun, remembered, sort_key, unfetched
from .zone_memory import ConfirmedZone, DetailLedger, RememberedDetail, ZoneMemory, tokens_fingerprint

log = logging.getLogger(__name__)

QUEUE_SIZE = 500  # identities waiting for DNS at most: bounds memory whatever the inventory's size
MAX_READER_THREADS = 32


def run_scan(
    shards: Sequence[Shard],
    probe: DnsProbe | DomainProbe,
    *,
    check_dmarc: bool = True,
    only: Iterable[str] = (),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    deadline: Deadline | None = None,
    zones: ZoneMemory | None = None,
    max_confirmations: int = 60,
    max_details: int = 100,
    nameservers: str = "suspect",
    nameserver_period: float = 3600.0,
    failed: Sequence[ShardError] = (),
    throttled: Callable[[], int] = lambda: 0,
    fresh: bool = False,
    ses_recommendations: bool = False,
) -> ScanReport:
    """Scan every shard; a shard that cannot be read is recorded, not fatal.

    ``only`` restricts the report (and the DNS work) to the named identities;
    their shards are still listed so an address can find its domain.
    ``failed`` are shards that could not even start (a role that could not be
    assumed). ``throttled`` reports the throttled SES responses seen so far.
    ``nameservers`` says whose authoritative servers are compared: ``sample``
    (the suspects, and the identities whose daily turn falls in the last
    ``nameserver_period`` seconds before ``now``: ``dns_answers.in_sample``),
    ``suspect``, ``all`` or ``off``.
    ``fresh`` (event-driven re-checks) asks each zone's authoritative servers
    and believes them over a resolver's cache where they all agree.
    ``ses_recommendations`` adds SES's open recommendations our checks do not
    explain (``recommendations.py``). ``max_details`` caps the GetEmailIdentity
    calls per shard that read identities the batch calls cannot describe;
    ``max_confirmations`` those that confirm a signing zone; both answers are
    remembered in ``zones`` across runs.
    """
    started = now()
    engine = _Engine(
        probe=probe if isinstance(probe, DomainProbe) else DomainProbe(probe),
        check_dmarc=check_dmarc,
        only={name.lower() for name in only},
        deadline=deadline or Deadline.never(),
        zones=zones,
        max_confirmations=max_confirmations,
        max_details=max_details,
        started=started,
        nameservers=nameservers,
        fresh=fresh,
        sampled=lambda name: in_sample(name, at=started, period=nameserver_period),
    )
    runs = [ShardRun(s, SesInventory(sesv2=s.sesv2, ses=s.ses, region=s.region, account=s.account)) for s in shards]
    if runs:
        asyncio.run(engine.main(runs))
    unevaluated: set[str] = set()
    if ses_recommendations:
        for run in runs:
            if run.error is not None:
                continue
            found = None
            if not engine.deadline.passed():
                found = recommendations.read(run.shard.sesv2, account=run.shard.account, region=run.shard.region)
            if found is None:
                unevaluated.add(c.SES_RECOMMENDATION)
            elif found:
                run.reports = recommendations.merge(run.reports, found)
    reports = sorted((r for run in runs for r in run.reports), key=sort_key)
    calls: dict[str, int] = {}
    for run in runs:
        for op, count in run.inventory.calls.items():
            calls[op] = calls.get(op, 0) + count
    errors = [*failed, *(run.error for run in runs if run.error is not None)]
    accounts = dict.fromkeys([*(s.account for s in shards), *(e.account for e in failed)])
    regions = dict.fromkeys([*(s.region for s in shards), *(e.region for e in failed)])
    out_of_time = sum(1 for r in reports for f in r.findings if f.cause == c.OUT_OF_TIME)
    if out_of_time:
        log.warning("identities not checked: out of time", extra={"identities": out_of_time})
    return ScanReport(
        identities=tuple(reports),
        regions=tuple(regions),
        generated_at=started.isoformat(timespec="seconds"),
        dns_lookups=probe.lookups,
        dns_lookups_failed=probe.failed,
        ses_calls=calls,
        errors=tuple(errors),
        accounts=tuple(a for a in accounts if a),
        ses_throttled=throttled(),
        out_of_time=out_of_time,
        unevaluated=frozenset(unevaluated),
    )


@dataclass(kw_only=True)
class _Engine:
    probe: DomainProbe
    check_dmarc: bool
    only: set[str]
    deadline: Deadline
    zones: ZoneMemory | None
    max_confirmations: int
    nameservers: str
    max_details: int = 100
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    fresh: bool = False
    sampled: Callable[[str], bool] = lambda name: False

    @property
    def workers(self) -> int:
        """Each worker checks one domain at a time, its questions concurrent, then waits for the slowest: twice
        as many workers as four questions each would fill keep the in-flight bound busy (the probe's semaphore
        holds it). Measured through Unbound: 25 workers 20 % more identities/s than 12 (docs/benchmarks.md)."""
        return max(1, self.probe.max_in_flight // 2)

    async def main(self, runs: list[ShardRun]) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[ShardRun, SesIdentity] | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        with ThreadPoolExecutor(max_workers=min(MAX_READER_THREADS, len(runs)), thread_name_prefix="shard") as pool:
            workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.workers)]
            await asyncio.gather(*(loop.run_in_executor(pool, self._read, run, loop, queue) for run in runs))
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
            await asyncio.gather(*(loop.run_in_executor(pool, self._confirm, run, loop) for run in runs))
        for run in runs:
            self._finish_emails(run)

    # -- SES, in one thread per shard -------------------------------------------

    def _read(self, run: ShardRun, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        shard = run.shard
        details: dict[str, RememberedDetail] = {}
        if self.zones is not None:
            try:
                run.remembered = self.zones.load(shard.account, shard.region)
                details = self.zones.load_details(shard.account, shard.region)
            except Exception as exc:  # remembered answers only save SES calls: never fail the scan for them
                log.warning("remembered zones unavailable", extra={**_where(shard), "error": type(exc).__name__})
        zones = self.zones
        run.inventory.ledger = DetailLedger(
            details,
            budget=self.max_details,
            now=self.started.timestamp(),
            keep=(lambda d: zones.remember_detail(shard.account, shard.region, d)) if zones else lambda d: None,
        )
        try:
            names = shard.identities
            batches = (
                run.inventory.stream(self.deadline) if names is None else run.inventory.targeted(names, self.deadline)
            )
            for batch in batches:
                selected = []
                for ident in batch:
                    if ident.type is IdentityType.EMAIL_ADDRESS:
                        run.emails.append(ident)
                        continue
                    run.domains[ident.domain] = ident
                    if self._selected(ident):
                        selected.append((run, ident))
                if selected:  # one hop into the event loop per SES batch (up to 100), not one per identity
                    asyncio.run_coroutine_threadsafe(_put_all(queue, selected), loop).result()
        except InventoryError as exc:
            log.error("shard could not be scanned", extra={**_where(shard), "reason": exc.reason})
            run.error = ShardError(region=shard.region, reason=exc.reason, account=shard.account)
        except OutOfTime as exc:
            if not exc.listed:
                reason = "out of time before its identities were listed"
                log.error("shard could not be scanned", extra={**_where(shard), "reason": reason})
                run.error = ShardError(region=shard.region, reason=reason, account=shard.account)
                return
            for ident in exc.unfinished:
                run.unfinished_domains.add(ident.domain)
                if self._selected(ident):
                    run.reports.append(not_checked(ident, c.OUT_OF_TIME))

    # -- DNS, in the event loop -------------------------------------------------

    async def _worker(self, queue: asyncio.Queue[tuple[ShardRun, SesIdentity] | None]) -> None:
        while (item := await queue.get()) is not None:
            run, ident = item
            try:
                await self._check(run, ident)
            except Exception as exc:
                # A bug met on one identity must neither kill this worker (with every worker gone, the SES
                # readers would wait on the full queue for ever) nor pass for a verdict: the shard is reported
                # failed, so its alert states are kept rather than resolved, and the other identities go on.
                log.exception("identity could not be checked", extra={**_where(run.shard), "identity": ident.name})
                if run.error is None:
                    reason = f"internal error while checking {ident.name}: {type(exc).__name__} (see the log)"
                    run.error = ShardError(region=run.shard.region, reason=reason, account=run.shard.account)

    async def _check(self, run: ShardRun, ident: SesIdentity) -> None:
        if self.deadline.passed() or unfetched(run, ident) == "absent":  # absent: nothing known of its DKIM
            run.reports.append(not_checked(ident, c.OUT_OF_TIME if self.deadline.passed() else c.DETAIL_UNFETCHED))
            return
        ident = remembered(run, ident)
        request = self._request(ident)
        dns = await self.probe.probe(request)
        suspects = self.nameservers in ("suspect", "sample") and not (request.nameservers or request.fresh)
        if suspects and servers_may_explain(ident, dns):
            dns = await self.probe.with_servers(dns, byodkim=ident.is_byodkim)
        if ident.zone_confirmed or ident.is_byodkim:
            self._report(run, ident, dns)
        elif points_off_zone(ident, dns):
            run.off_zone.append((ident, dns))
        elif fix_needs_real_zone(ident, dns):
            run.predicted.append((ident, dns))
        else:
            report = evaluate(ident, dns, run.domains)
            if rests_on_origin(report):
                # Advice right for Easy DKIM and harmful to a replica: ask SES how it signs first.
                run.predicted.append((ident, dns))
            else:
                self._append(run, report)

    # -- zone confirmations, in the shard's thread (paced SES) ------------------

    def _confirm(self, run: ShardRun, loop: asyncio.AbstractEventLoop) -> None:
        """Confirm signing zones: off-zone CNAMEs first (a false wrong target is the worse error)."""
        budget = self.max_confirmations
        for ident, dns in run.off_zone:
            if run.learned_zone and not points_off_zone(replace(ident, signing_hosted_zone=run.learned_zone), dns):
                self._report(run, replace(ident, signing_hosted_zone=run.learned_zone), dns)
                continue
            if run.error is not None or budget <= 0 or self.deadline.passed():
                cause = c.OUT_OF_TIME if self.deadline.passed() else c.ZONE_UNCONFIRMED
                run.reports.append(not_checked(ident, cause))
                continue
            budget -= 1
            confirmed = self._ask_ses(run, ident)
            if confirmed is None:
                continue
            if confirmed.zone_confirmed or confirmed.is_byodkim:
                self._report(run, confirmed, self._reprobe(confirmed, ident, dns, loop))
            else:
                run.reports.append(not_checked(ident, c.ZONE_UNCONFIRMED))
        for ident, dns in run.predicted:
            # A missing CNAME is certain; only its fix rests on the zone. Confirm while the budget
            # lasts, otherwise report it with the zone learnt this run (or predicted).
            if budget > 0 and run.error is None and not self.deadline.passed():
                budget -= 1
                confirmed = self._ask_ses(run, ident)
                if confirmed is None:
                    continue
                self._report(run, confirmed, self._reprobe(confirmed, ident, dns, loop))
            else:
                zone = run.learned_zone or ident.signing_hosted_zone
                self._report(run, replace(ident, signing_hosted_zone=zone), dns)

    def _ask_ses(self, run: ShardRun, ident: SesIdentity) -> SesIdentity | None:
        """The identity with GetEmailIdentity's answer merged (None: deleted meanwhile)."""
        shard = run.shard
        try:
            detail = run.inventory.signing_detail(ident.name)
        except InventoryError as exc:
            log.warning(
                "could not confirm signing zone", extra={**_where(shard), "identity": ident.name, "reason": exc.reason}
            )
            return ident
        if detail is None:
            return None
        if detail.hosted_zone and detail.origin == "AWS_SES":
            run.learned_zone = detail.hosted_zone
        confirmed = with_signing_detail(ident, detail)
        if self.zones is not None:
            memo = ConfirmedZone(
                identity=ident.name,
                tokens=tokens_fingerprint(confirmed.dkim_tokens),
                zone=detail.hosted_zone,
                origin=detail.origin,
            )
            try:
                self.zones.remember(shard.account, shard.region, memo)
            except Exception as exc:
                log.warning("could not remember a signing zone", extra={**_where(shard), "error": type(exc).__name__})
        return confirmed

    def _reprobe(
        self, confirmed: SesIdentity, before: SesIdentity, dns: DomainDns, loop: asyncio.AbstractEventLoop
    ) -> DomainDns:
        if confirmed.dkim_tokens == before.dkim_tokens and confirmed.is_byodkim == before.is_byodkim:
            return dns
        future = asyncio.run_coroutine_threadsafe(self.probe.probe(self._request(confirmed)), loop)
        return future.result()

    # -- reporting --------------------------------------------------------------

    def _report(self, run: ShardRun, ident: SesIdentity, dns: DomainDns | None) -> None:
        self._append(run, evaluate(ident, dns, run.domains))

    def _append(self, run: ShardRun, report: IdentityReport) -> None:
        ident = report.identity
        if unfetched(run, ident) == "partial":
            report = replace(report, findings=(*report.findings, detail_unfetched(ident, self.max_details)))
        for f in report.findings:
            log.info(
                "finding",
                extra={**_where(run.shard), "identity": ident.name, "check": f.check, "severity": f.severity.value},
            )
        run.reports.append(report)

    def _finish_emails(self, run: ShardRun) -> None:
        if run.error is not None:
            return  # the shard's domains are not all known: its addresses cannot be judged
        for ident in run.emails:
            if not self._selected(ident):
                continue
            if any(d in run.unfinished_domains for d in domain_and_parents(ident.domain)):
                run.reports.append(not_checked(ident, c.OUT_OF_TIME))
            else:
                self._report(run, ident, None)

    def _selected(self, ident: SesIdentity) -> bool:
        return not self.only or ident.name.lower() in self.only

    def _request(self, ident: SesIdentity) -> ProbeRequest:
        return ProbeRequest(
            domain=ident.domain,
            tokens=ident.dkim_tokens,
            byodkim=ident.is_byodkim,
            mail_from=ident.mail_from.domain if ident.mail_from else None,
            dmarc=self.check_dmarc,
            nameservers=self.nameservers == "all" or (self.nameservers == "sample" and self.sampled(ident.name)),
            fresh=self.fresh,
        )


async def _put_all(queue: asyncio.Queue[Any], items: list[tuple[ShardRun, SesIdentity]]) -> None:
    for item in items:
        await queue.put(item)


def _where(shard: Shard) -> dict[str, str]:
    """The log fields naming a shard (the dashboard's log widget reads them: tests/deploy/test_dashboard.py)."""
    return {"account": shard.account, "region": shard.region}
