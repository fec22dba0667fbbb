"""The whole plan: each fix placed in its Route 53 hosted zone (one batch per zone) or, elsewhere, at its SOA apex.

A fix belongs to the zone of the record it publishes. Route 53 is read with
the command's own credentials; when it cannot be read at all, every fix is
given as instructions for a provider's form (and the command exits 3), so a
user whose DNS is elsewhere and who has no Route 53 permission still gets
what to type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import error_code, error_message
from .batch import ZonePlan, plan_zone
from .elsewhere import Instruction, find_apexes, instructions
from .route53 import AmbiguousZone, HostedZone, ZoneFinder, read_snapshot
from .triage import Owner, RecordFix, Triage


@dataclass(frozen=True)
class FixPlan:
    triage: Triage
    zones: tuple[ZonePlan, ...] = ()  # Route 53 hosted zones, one batch each
    elsewhere: tuple[Instruction, ...] = ()  # records to publish by hand at another provider
    notes: tuple[str, ...] = ()
    route53_error: str = ""  # Route 53 could not be read: why

    @property
    def change_count(self) -> int:
        return sum(len(z.changes) for z in self.zones)

    @property
    def to_apply(self) -> tuple[ZonePlan, ...]:
        return tuple(z for z in self.zones if z.changes)

    @property
    def pending(self) -> bool:
        """Anything at all left to do, by this command or by hand."""
        return bool(
            self.change_count
            or any(z.conflicts for z in self.zones)
            or self.elsewhere
            or self.triage.not_fixable
            or self.triage.left_out
            or self.notes
        )

    def by_hand(self) -> set[Owner]:
        """The identities with something --apply cannot do: a conflict, another provider, a finding DNS does
        not fix, a fix left out."""
        return {
            *(c.owner for z in self.zones for c in z.conflicts),
            *(s.owner for s in self.elsewhere),
            *(n.owner for n in self.triage.not_fixable),
            *(x.owner for x in self.triage.left_out),
        }


def build_plan(triage: Triage, *, route53: Any, resolver: Any) -> FixPlan:
    """Place every fix: Route 53 (read its record sets now) or elsewhere (apex through SOA)."""
    finder = ZoneFinder(route53)
    by_zone: dict[HostedZone, list[RecordFix]] = {}
    manual: list[RecordFix] = []
    notes: list[str] = []
    error = ""
    for fix in triage.fixes:
        if error:
            manual.append(fix)
            continue
        try:
            zone = finder.find(fix.publish.name)
        except AmbiguousZone as exc:
            note = f"{exc}: fix does not guess which one {fix.publish.name} is served from; publish it by hand"
            if note not in notes:
                notes.append(note)
            manual.append(fix)
            continue
        except (ClientError, BotoCoreError) as exc:
            error = f"{error_code(exc)}: {error_message(exc)}"
            manual.append(fix)
            continue
        if zone is None:
            manual.append(fix)
        else:
            by_zone.setdefault(zone, []).append(fix)

    zones: list[ZonePlan] = []
    for zone, fixes in sorted(by_zone.items(), key=lambda item: item[0].name):
        if error:
            manual.extend(fixes)
            continue
        try:
            snapshot = read_snapshot(route53, zone.id, _names(fixes))
        except (ClientError, BotoCoreError) as exc:
            error = f"{error_code(exc)}: {error_message(exc)}"
            manual.extend(fixes)
            continue
        zones.append(plan_zone(zone.name, zone.id, fixes, snapshot))
    if error:
        notes.append(
            f"Route 53 could not be read ({error}): the records below are given for a DNS provider's form; "
            f"if the zone is in Route 53, grant the permissions in docs/fix.md and run fix again"
        )
    apexes = find_apexes(resolver, [fix.publish.name for fix in manual])
    placed = [step for fix in manual for step in instructions(fix, apexes[_key(fix.publish.name)])]
    return FixPlan(triage=triage, zones=tuple(zones), elsewhere=tuple(placed), notes=tuple(notes), route53_error=error)


def _key(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _names(fixes: Sequence[RecordFix]) -> list[str]:
    names = [fix.publish.name for fix in fixes]
    names += [fix.remove.name for fix in fixes if fix.remove is not None]
    return names
