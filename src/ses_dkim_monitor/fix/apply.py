"""Applying the plan: re-read, then one atomic batch per hosted zone, then wait for INSYNC.

Every zone's record sets are re-read before any batch is sent: when one of
them is not what the plan read (someone changed it in between), nothing at
all is applied. Route 53 applies a batch whole or not at all; a later zone's
batch failing leaves the earlier zones applied, and the result says which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import error_code, error_message
from .batch import ZonePlan, changed_names
from .route53 import change_batch, read_snapshot, wait_insync


@dataclass(frozen=True, kw_only=True)
class ZoneOutcome:
    plan: ZonePlan
    applied: bool = False
    change_id: str | None = None
    status: str = ""  # GetChange's last answer: INSYNC or PENDING
    error: str = ""


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[ZoneOutcome, ...]
    aborted: str = ""  # why nothing was applied

    @property
    def failed(self) -> bool:
        """Something was not applied, or applied without Route 53 confirming it (INSYNC)."""
        return bool(self.aborted) or any(not o.applied or o.error or o.status != "INSYNC" for o in self.outcomes)

    def outcome(self, plan: ZonePlan) -> ZoneOutcome | None:
        return next((o for o in self.outcomes if o.plan is plan), None)


@dataclass(frozen=True)
class Waiting:
    """How to wait for INSYNC: injected so tests need no real sleep."""

    sleep: Callable[[float], None]
    clock: Callable[[], float]
    timeout: float = 300.0  # Route 53 usually reports INSYNC within 60 s
    interval: float = 5.0


def apply_plans(client: Any, plans: Sequence[ZonePlan], *, waiting: Waiting, comment: str) -> ApplyResult:
    todo = [p for p in plans if p.hosted_zone_id and p.changes]
    try:
        for plan in todo:
            assert plan.hosted_zone_id is not None
            now = read_snapshot(client, plan.hosted_zone_id, list(plan.snapshot))
            changed = changed_names(plan.snapshot, now)
            if changed:
                return ApplyResult(
                    tuple(ZoneOutcome(plan=p) for p in todo),
                    aborted=f"changed in {plan.zone} since the plan: {', '.join(changed)}; nothing was applied, "
                    f"run fix again for a new plan",
                )
    except (ClientError, BotoCoreError) as exc:
        return ApplyResult(
            tuple(ZoneOutcome(plan=p) for p in todo),
            aborted=f"could not re-read the records before applying ({error_code(exc)}: {error_message(exc)}); "
            f"nothing was applied",
        )

    outcomes: list[ZoneOutcome] = []
    for index, plan in enumerate(todo):
        assert plan.hosted_zone_id is not None
        try:
            change_id = change_batch(client, plan.hosted_zone_id, plan.changes, comment=comment)
        except (ClientError, BotoCoreError) as exc:
            outcomes.append(ZoneOutcome(plan=plan, error=f"{error_code(exc)}: {error_message(exc)}"))
            # Stop here: the zones after this one are left as they are, and the result says so.
            outcomes.extend(ZoneOutcome(plan=p, error="not attempted") for p in todo[index + 1 :])
            break
        try:
            status = wait_insync(
                client,
                change_id,
                sleep=waiting.sleep,
                clock=waiting.clock,
                timeout=waiting.timeout,
                interval=waiting.interval,
            )
        except (ClientError, BotoCoreError) as exc:
            outcomes.append(
                ZoneOutcome(
                    plan=plan,
                    applied=True,
                    change_id=change_id,
                    error=f"applied, but its status could not be read ({error_code(exc)})",
                )
            )
            continue
        outcomes.append(ZoneOutcome(plan=plan, applied=True, change_id=change_id, status=status))
    return ApplyResult(tuple(outcomes))
