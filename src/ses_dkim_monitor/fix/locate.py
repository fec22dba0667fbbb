"""The whole plan: each fix placed in the Route 53 hosted zone DNS serves for it (batches within Route 53's
limits) or, elsewhere, at its SOA apex as instructions for a human.

A fix belongs to the zone of the record it publishes. Before any zone is
looked at, ``safety.screen`` sets aside what this command never applies
(another account's identity, a target SES did not confirm, a MAIL FROM name
that receives mail). Route 53 is read with the command's own credentials; a
hosted zone is written only when DNS serves it for the names in question
(``served.py``): otherwise, and when Route 53 cannot be read at all, the
fixes are given as instructions for a DNS provider's form (and a read that
failed makes the command exit 3), so a user whose DNS is elsewhere still
gets what to type.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import error_code, error_message
from ..i18n import _
from ..models import DnsRecord
from .batch import Change, Conflict, ZonePlan, plan_zone
from .batches import split
from .elsewhere import Instruction, find_apexes, instructions, reread_txt
from .records import fqdn, route53_txt, txt_text
from .route53 import HostedZone, ZoneDetails, ZoneFinder, read_snapshot, zone_details
from .safety import COPY_NOT_READ, is_copy, screen
from .served import SERVED, DnsView, Verdict, ask_dns, between, delegation_verdict, name_verdict
from .triage import Owner, RecordFix, Triage, Withheld


@dataclass(frozen=True, kw_only=True)
class UnusedZone:
    """A hosted zone of the account that holds some fixes' names but is not what DNS serves for them."""

    zone: str
    hosted_zone_id: str
    reason: str
    names: tuple[str, ...]
    written_to: str = ""  # the twin of the same name DNS does serve, which holds the changes instead


@dataclass(frozen=True)
class FixPlan:
    triage: Triage
    zones: tuple[ZonePlan, ...] = ()  # Route 53 hosted zones, one or more batches each
    elsewhere: tuple[Instruction, ...] = ()  # records to publish by hand at another provider
    notes: tuple[str, ...] = ()
    route53_error: str = ""  # Route 53 could not be read: why
    unused: tuple[UnusedZone, ...] = ()  # hosted zones not written: DNS does not serve them for these names
    dns_errors: tuple[str, ...] = ()  # lookups that failed, so a zone could not be shown to be served
    route53_account: str | None = None  # the account whose Route 53 the credentials write

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
            or self.triage.withheld
            or self.notes
        )

    def by_hand(self) -> set[Owner]:
        """The identities with something --apply cannot do: a conflict, another provider, a finding DNS does
        not fix, a fix left out or withheld."""
        return {
            *(c.owner for z in self.zones for c in z.conflicts),
            *(s.owner for s in self.elsewhere),
            *(n.owner for n in self.triage.not_fixable),
            *(x.owner for x in self.triage.left_out),
            *(w.owner for w in self.triage.withheld),
        }


def build_plan(
    triage: Triage,
    *,
    route53: Any,
    resolver: Any,
    route53_account: str | None,
    fix_for: Collection[str] = (),
) -> FixPlan:
    """Place every fix: a Route 53 zone DNS serves (its record sets read now) or elsewhere (apex through SOA).

    ``route53_account`` None: the credentials' account is unknown, so nothing
    is written and every fix is given as instructions.
    """
    triage = screen(triage, route53_account=route53_account, fix_for=fix_for)
    if route53_account is None:
        return _manual_plan(triage, resolver, _("the account of these credentials is unknown"))
    finder = ZoneFinder(route53)
    placement = _Placement()
    try:
        groups = _candidates(finder, triage.fixes, placement)
        details = {zone: zone_details(route53, zone.id) for zones in groups for zone in zones}
    except (ClientError, BotoCoreError) as exc:
        return _manual_plan(triage, resolver, f"{error_code(exc)}: {error_message(exc)}", route53_account)
    view = ask_dns(
        resolver,
        [zone.name for zone in details],
        [name for fixes in groups.values() for fix in fixes for name in _names(fix)],
    )
    chosen = _choose(groups, details, view, placement)
    zones: list[ZonePlan] = []
    for zone, fixes in sorted(chosen.items(), key=lambda item: item[0].name):
        if placement.error:
            placement.manual.extend(fixes)
            continue
        names = [n for fix in fixes for name in _names(fix) for n in (name, *between(zone.name, name))]
        try:
            snapshot = read_snapshot(route53, zone.id, names, record_count=details[zone].record_count)
        except (ClientError, BotoCoreError) as exc:
            placement.error = f"{error_code(exc)}: {error_message(exc)}"
            placement.manual.extend(fixes)
            continue
        writable = []
        for fix in fixes:
            verdict = _served_for(zone, fix, view, snapshot)
            if verdict.served:
                writable.append(fix)
            else:
                placement.unused(zone, verdict, fix)
        if writable:
            plan = plan_zone(zone.name, zone.id, writable, snapshot)
            zones.append(replace(_in_batches(plan), record_count=details[zone].record_count))
    return _finish(triage, resolver, zones, placement, route53_account)


def _served_for(zone: HostedZone, fix: RecordFix, view: DnsView, snapshot: Any) -> Verdict:
    """The first of the fix's names the zone does not serve, or SERVED."""
    for name in _names(fix):
        verdict = name_verdict(zone.name, name, view.apexes.get(fqdn(name)), snapshot)
        if not verdict.served:
            return verdict
    return SERVED


def _in_batches(plan: ZonePlan) -> ZonePlan:
    batches, too_large = split(plan.changes)
    return replace(
        plan,
        changes=tuple(c for b in batches for c in b),
        batches=tuple(batches),
        conflicts=plan.conflicts + tuple(_too_large(too_large)),
    )


class _Placement:
    """Where the fixes went so far: by hand (and why), and the zones not used."""

    def __init__(self) -> None:
        self.manual: list[RecordFix] = []
        self.notes: list[str] = []
        self.error = ""
        self.dns_errors: list[str] = []
        self._unused: dict[tuple[HostedZone, str, str], list[str]] = {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def unused(
        self, zone: HostedZone, verdict: Verdict, fix: RecordFix, *, by_hand: bool = True, twin: str = ""
    ) -> None:
        """``zone`` is not written for ``fix`` (``by_hand``: the fix goes to the instructions)."""
        if by_hand:
            self.manual.append(fix)
        self._unused.setdefault((zone, verdict.reason, twin), []).append(fix.publish.name)
        if verdict.error and verdict.error not in self.dns_errors:
            self.dns_errors.append(verdict.error)

    def unused_zones(self) -> tuple[UnusedZone, ...]:
        return tuple(
            UnusedZone(
                zone=zone.name,
                hosted_zone_id=zone.id,
                reason=reason,
                names=tuple(dict.fromkeys(names)),
                written_to=twin,
            )
            for (zone, reason, twin), names in self._unused.items()
        )


def _candidates(
    finder: ZoneFinder, fixes: Sequence[RecordFix], placement: _Placement
) -> dict[tuple[HostedZone, ...], list[RecordFix]]:
    groups: dict[tuple[HostedZone, ...], list[RecordFix]] = {}
    finder.prefetch([fix.publish.name for fix in fixes])
    for fix in fixes:
        zones = finder.candidates(fix.publish.name)
        if zones:
            groups.setdefault(tuple(zones), []).append(fix)
        else:
            placement.manual.append(fix)
    return groups


def _choose(
    groups: dict[tuple[HostedZone, ...], list[RecordFix]],
    details: dict[HostedZone, ZoneDetails],
    view: DnsView,
    placement: _Placement,
) -> dict[HostedZone, list[RecordFix]]:
    """The zone DNS serves among each group's candidates (twins of one name are told apart by their name servers)."""
    chosen: dict[HostedZone, list[RecordFix]] = {}
    for zones, fixes in groups.items():
        verdicts = {
            zone: delegation_verdict(zone.name, zone.id, details[zone].name_servers, view.name_servers[zone.name])
            for zone in zones
        }
        served = [zone for zone, verdict in verdicts.items() if verdict.served]
        if len(served) == 1:
            chosen.setdefault(served[0], []).extend(fixes)
            for zone, verdict in verdicts.items():  # a stale twin: said, so nobody edits it by mistake
                for fix in fixes if zone is not served[0] else ():
                    placement.unused(zone, verdict, fix, by_hand=False, twin=served[0].id)
        elif served:
            placement.note(
                _(
                    "{count} public hosted zones named {zone} ({ids}) have the name servers DNS returns: fix does not "
                    "guess which one serves it; publish by hand"
                ).format(count=len(served), zone=served[0].name, ids=", ".join(z.id for z in served))
            )
            placement.manual.extend(fixes)
        else:
            for fix in fixes:
                for i, (zone, verdict) in enumerate(verdicts.items()):
                    placement.unused(zone, verdict, fix, by_hand=i == 0)
    return chosen


def _names(fix: RecordFix) -> list[str]:
    return [fix.publish.name] + ([fix.remove.name] if fix.remove is not None else [])


def _too_large(changes: Sequence[Change]) -> list[Conflict]:
    return [
        Conflict(
            owner=owner,
            check=change.check,
            name=change.name,
            type=change.type,
            reason=_("this identity's changes together exceed one Route 53 request's limits: make them by hand"),
        )
        for change in changes
        for owner in change.owners
    ]


def _manual_plan(triage: Triage, resolver: Any, error: str, route53_account: str | None = None) -> FixPlan:
    placement = _Placement()
    placement.manual.extend(triage.fixes)
    placement.error = error
    return _finish(triage, resolver, [], placement, route53_account)


def _finish(
    triage: Triage, resolver: Any, zones: list[ZonePlan], placement: _Placement, route53_account: str | None
) -> FixPlan:
    if placement.error:
        placement.note(
            _(
                "Route 53 could not be read ({error}): the records below are given for a DNS provider's form; if the "
                "zone is in Route 53, grant the permissions in docs/fix.md and run fix again"
            ).format(error=placement.error)
        )
    manual, withheld = _copies(resolver, placement.manual)
    apexes = find_apexes(resolver, [fix.publish.name for fix in manual])
    placed = [step for fix in manual for step in instructions(fix, apexes[fqdn(fix.publish.name)])]
    return FixPlan(
        triage=replace(triage, withheld=triage.withheld + tuple(withheld)),
        zones=tuple(zones),
        elsewhere=tuple(placed),
        notes=tuple(placement.notes),
        route53_error=placement.error,
        unused=placement.unused_zones(),
        dns_errors=tuple(placement.dns_errors),
        route53_account=route53_account,
    )


def _copies(resolver: Any, fixes: Sequence[RecordFix]) -> tuple[list[RecordFix], list[Withheld]]:
    """Fixes for a human, a moved TXT given the exact strings DNS serves at the doubled name."""
    sources = reread_txt(resolver, [f.remove.name for f in fixes if f.remove is not None and is_copy(f)])
    ready: list[RecordFix] = []
    withheld: list[Withheld] = []
    for fix in fixes:
        if fix.remove is None or not is_copy(fix):
            ready.append(fix)
            continue
        found = sources[fqdn(fix.remove.name)]
        matching = [] if isinstance(found, str) else [s for s in found if _text(s) == txt_text(fix.remove.value)]
        if len(matching) == 1:
            value = route53_txt(matching[0])
            ready.append(replace(fix, publish=DnsRecord(fix.publish.name, fix.publish.type, value)))
            continue
        why = found if isinstance(found, str) else _("DNS no longer answers with exactly that record")
        withheld.append(
            Withheld(
                owner=fix.owner,
                check=fix.check,
                cause=fix.cause,
                kind=COPY_NOT_READ,
                record=fix.publish,
                remove=fix.remove,
                reason=_(
                    "the TXT at {name} could not be read again to copy it byte for byte ({why}): copy it to {target} "
                    "by hand, every string exactly as it is"
                ).format(name=fix.remove.name, why=why, target=fix.publish.name),
            )
        )
    return ready, withheld


def _text(strings: tuple[bytes, ...]) -> str:
    return b"".join(strings).decode("utf-8", errors="backslashreplace")
