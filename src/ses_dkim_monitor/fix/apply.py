"""Applying the plan: batch by batch, each re-read just before it goes, then wait for INSYNC.

Route 53 applies a batch whole or not at all, and a zone's changes may need
several batches (Route 53's request limits, ``batches.py``). Just before each
batch, the record sets at its names are read again: when one is not what the
plan read (someone changed it in between), that batch and every one after it
are left unsent, and the result says which batches applied. A batch Route 53
refuses stops the rest the same way. Once every batch is sent, each change is
polled until Route 53 reports it INSYNC, within one shared time limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import error_code, error_message
from ..i18n import _
from .batch import Change, ZonePlan, changed_names
from .route53 import change_batch, read_snapshot, wait_insync

NOT_ATTEMPTED = "not attempted"  # the fix JSON document's word for a batch never sent (docs/fix.md)


@dataclass(frozen=True, kw_only=True)
class BatchOutcome:
    plan: ZonePlan
    index: int  # 1-based, in the zone's order
    changes: tuple[Change, ...]
    applied: bool = False
    change_id: str | None = None
    status: str = ""  # GetChange's last answer: INSYNC or PENDING
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class ZoneOutcome:
    """A zone's batches summed up: applied only when every batch was; the last change id; INSYNC only when all are."""

    plan: ZonePlan
    applied: bool = False
    change_id: str | None = None
    status: str = ""
    error: str = ""


@dataclass(frozen=True)
class ApplyResult:
    batches: tuple[BatchOutcome, ...]
    aborted: str = ""  # why the apply stopped before the last batch

    @property
    def failed(self) -> bool:
        """Something was not applied, or applied without Route 53 confirming it (INSYNC)."""
        return bool(self.aborted) or any(not b.applied or b.error or b.status != "INSYNC" for b in self.batches)

    @property
    def outcomes(self) -> tuple[ZoneOutcome, ...]:
        plans = list(dict.fromkeys(id(b.plan) for b in self.batches))
        return tuple(self._zone(p) for p in plans)

    def outcome(self, plan: ZonePlan) -> ZoneOutcome | None:
        return self._zone(id(plan)) if any(b.plan is plan for b in self.batches) else None

    def of_batch(self, plan: ZonePlan, index: int) -> BatchOutcome | None:
        return next((b for b in self.batches if b.plan is plan and b.index == index), None)

    def _zone(self, plan_id: int) -> ZoneOutcome:
        mine = [b for b in self.batches if id(b.plan) == plan_id]
        applied = [b for b in mine if b.applied]
        statuses = {b.status for b in mine}
        return ZoneOutcome(
            plan=mine[0].plan,
            applied=len(applied) == len(mine),
            change_id=applied[-1].change_id if applied else None,
            status="INSYNC" if statuses == {"INSYNC"} else ("PENDING" if applied else ""),
            error=next((b.error for b in mine if b.error), ""),
        )


@dataclass(frozen=True)
class Waiting:
    """How to wait for INSYNC: injected so tests need no real sleep."""

    sleep: Callable[[float], None]
    clock: Callable[[], float]
    timeout: float = 300.0  # Route 53 usually reports INSYNC within 60 s
    interval: float = 5.0


def apply_plans(client: Any, plans: Sequence[ZonePlan], *, waiting: Waiting, comment: str) -> ApplyResult:
    todo = [
        (plan, index, batch)
        for plan in plans
        if plan.hosted_zone_id and plan.changes
        for index, batch in enumerate(plan.in_batches, 1)
    ]
    sent: list[BatchOutcome] = []
    stopped = ""
    for plan, index, batch in todo:
        error = _send_check(client, plan, batch)
        change_id = None
        if not error:
            try:
                change_id = change_batch(client, str(plan.hosted_zone_id), batch, comment=comment)
            except (ClientError, BotoCoreError) as exc:
                error = f"{error_code(exc)}: {error_message(exc)}"
        if error:
            sent.append(BatchOutcome(plan=plan, index=index, changes=batch, error=error))
            stopped = _("batch {index} of {zone} was not applied ({error}); the batches after it were not sent").format(
                index=index, zone=plan.zone, error=error
            )
            break
        sent.append(BatchOutcome(plan=plan, index=index, changes=batch, applied=True, change_id=change_id))
    unsent = [
        BatchOutcome(plan=plan, index=index, changes=batch, error=NOT_ATTEMPTED)
        for plan, index, batch in todo[len(sent) :]
    ]
    return ApplyResult((*_wait_all(client, sent, waiting), *unsent), aborted=stopped)


def _send_check(client: Any, plan: ZonePlan, batch: Sequence[Change]) -> str:
    """Why the batch must not go (its names changed since the plan, or could not be read again); "" to send."""
    names = list(dict.fromkeys(change.name for change in batch))
    try:
        now = read_snapshot(client, str(plan.hosted_zone_id), names, record_count=plan.record_count)
    except (ClientError, BotoCoreError) as exc:
        return _("could not re-read its records before applying ({error})").format(
            error=f"{error_code(exc)}: {error_message(exc)}"
        )
    changed = changed_names({name: plan.snapshot.get(name, ()) for name in names}, now)
    if changed:
        return _("changed in {zone} since the plan: {names}; run fix again for a new plan").format(
            zone=plan.zone, names=", ".join(changed)
        )
    return ""


def _wait_all(client: Any, sent: Sequence[BatchOutcome], waiting: Waiting) -> list[BatchOutcome]:
    """Each applied batch with GetChange's last answer, all within one ``waiting.timeout``."""
    deadline = waiting.clock() + waiting.timeout
    done: list[BatchOutcome] = []
    for outcome in sent:
        if not outcome.applied or outcome.change_id is None:
            done.append(outcome)
            continue
        try:
            status = wait_insync(
                client,
                outcome.change_id,
                sleep=waiting.sleep,
                clock=waiting.clock,
                timeout=max(0.0, deadline - waiting.clock()),
                interval=waiting.interval,
            )
        except (ClientError, BotoCoreError) as exc:
            error = _("applied, but its status could not be read ({error})").format(error=error_code(exc))
            done.append(replace(outcome, error=error))
            continue
        done.append(replace(outcome, status=status))
    return done
