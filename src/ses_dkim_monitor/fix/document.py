"""The JSON document ``fix --format json`` prints (docs/fix.md), and the re-check both outputs show.

The document is a contract like the check report: fields are only ever
added, and ``version`` changes only if one is ever removed or renamed. Every
change names its identity, region and account (``owners`` lists them pair by
pair when several identities share one record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import DnsRecord, IdentityReport, ScanReport, Severity
from ..render.json_report import summary
from .apply import ApplyResult
from .batch import Change, Conflict, Kept, ZonePlan
from .elsewhere import Instruction
from .locate import FixPlan
from .triage import Owner, Withheld

FIX_DOCUMENT_VERSION = 1
_ACTION_FOR_STEP = {"add": "CREATE", "change": "UPSERT", "delete": "DELETE"}


@dataclass(frozen=True)
class Recheck:
    """Before and after, for the identities the applied changes touched."""

    before: tuple[IdentityReport, ...]
    after: ScanReport

    @property
    def clean(self) -> bool:
        """The touched identities were all found again, with nothing left to fix."""
        after = {key(r): r for r in self.after.identities}
        return not self.after.errors and all(key(b) in after and not actionable(after[key(b)]) for b in self.before)


def key(report: IdentityReport) -> tuple[str, str, str]:
    return (report.identity.account, report.identity.region, report.identity.name)


def actionable(report: IdentityReport) -> list[str]:
    return [f.check for f in report.findings if f.severity.at_least(Severity.WARNING)]


def by_apex(steps: Sequence[Instruction]) -> list[tuple[str | None, list[Instruction]]]:
    groups: dict[str | None, list[Instruction]] = {}
    for s in steps:
        groups.setdefault(s.zone_apex, []).append(s)
    return sorted(groups.items(), key=lambda item: item[0] or "~")


def to_json(
    plan: FixPlan, *, result: ApplyResult | None, recheck: Recheck | None, errors: Sequence[str]
) -> dict[str, Any]:
    zones = [_zone_json(z, result) for z in plan.zones]
    for apex, steps in by_apex(plan.elsewhere):
        zones.append(
            {
                "zone": apex,
                "hosted_zone_id": None,
                "changes": [
                    {
                        "action": _ACTION_FOR_STEP[s.action],
                        "record": {"name": s.name, "type": s.type, "value": s.value, "values": [s.value], "ttl": s.ttl},
                        **_owner_json([s.owner]),
                        "check": s.check,
                        "cause": s.cause,
                    }
                    for s in steps
                ],
                "conflicts": [],
                "left_in_place": [],
                "batches": [],
                "applied": False,
                "change_id": None,
                "status": None,
                "error": None,
            }
        )
    return {
        "version": FIX_DOCUMENT_VERSION,
        "applied": bool(result and any(b.applied for b in result.batches)),
        "route53_account": plan.route53_account,
        "zones": zones,
        "elsewhere": [_instruction_json(s) for s in plan.elsewhere],
        "zones_not_used": [
            {
                "zone": u.zone,
                "hosted_zone_id": u.hosted_zone_id,
                "reason": u.reason,
                "names": list(u.names),
                "written_to": u.written_to or None,
            }
            for u in plan.unused
        ],
        "not_fixed_here": [_withheld_json(w) for w in plan.triage.withheld],
        "not_fixable_by_dns": [
            {**_owner_json([n.owner]), "check": n.check, "cause": n.cause, "message": n.message, "fix": n.fix}
            for n in plan.triage.not_fixable
        ],
        "left_out": [
            {
                **_owner_json([x.owner]),
                "check": x.check,
                "record": {"name": x.record.name, "type": x.record.type, "value": x.record.value},
                "reason": x.reason,
            }
            for x in plan.triage.left_out
        ],
        "notes": list(plan.notes) + ([result.aborted] if result and result.aborted else []),
        "errors": list(errors),
        "after": _recheck_json(recheck) if recheck else None,
    }


def _zone_json(z: ZonePlan, result: ApplyResult | None) -> dict[str, Any]:
    outcome = result.outcome(z) if result else None
    batch_of = {id(c): i for i, batch in enumerate(z.in_batches, 1) for c in batch}
    return {
        "zone": z.zone,
        "hosted_zone_id": z.hosted_zone_id,
        "changes": [
            {
                "action": c.action,
                "record": _record_json(c),
                **_owner_json(c.owners),
                "owners": [_one_owner(o) for o in c.owners],
                "check": c.check,
                "cause": c.cause,
                "batch": batch_of.get(id(c)),
            }
            for c in z.changes
        ],
        "conflicts": [_conflict_json(c) for c in z.conflicts],
        "left_in_place": [_kept_json(k) for k in z.kept],
        "batches": [_batch_json(z, i, batch, result) for i, batch in enumerate(z.in_batches, 1)],
        "applied": bool(outcome and outcome.applied),
        "change_id": outcome.change_id if outcome else None,
        "status": (outcome.status or None) if outcome else None,
        "error": (outcome.error or None) if outcome else None,
    }


def _batch_json(z: ZonePlan, index: int, batch: Sequence[Change], result: ApplyResult | None) -> dict[str, Any]:
    outcome = result.of_batch(z, index) if result else None
    return {
        "batch": index,
        "changes": len(batch),
        "identities": list(dict.fromkeys(o.identity for c in batch for o in c.owners)),
        "applied": bool(outcome and outcome.applied),
        "change_id": outcome.change_id if outcome else None,
        "status": (outcome.status or None) if outcome else None,
        "error": (outcome.error or None) if outcome else None,
    }


def _record_json(change: Change) -> dict[str, Any]:
    values = list(change.values)
    return {
        "name": change.name,
        "type": change.type,
        "value": values[0] if len(values) == 1 else "\n".join(values),
        "values": values,
        "ttl": change.ttl,
    }


def _one_owner(o: Owner) -> dict[str, str]:
    return {"identity": o.identity, "region": o.region, "account": o.account}


def _owner_json(owners: Sequence[Owner]) -> dict[str, Any]:
    return {
        "identity": ", ".join(dict.fromkeys(o.identity for o in owners)),
        "region": ", ".join(dict.fromkeys(o.region for o in owners)),
        "account": ", ".join(dict.fromkeys(o.account for o in owners)),
    }


def _conflict_json(c: Conflict) -> dict[str, Any]:
    return {**_owner_json([c.owner]), "check": c.check, "name": c.name, "type": c.type, "reason": c.reason}


def _kept_json(k: Kept) -> dict[str, Any]:
    return {
        **_owner_json([k.owner]),
        "check": k.check,
        "cause": k.cause,
        "name": k.name,
        "type": k.type,
        "values": list(k.values),
        "reason": k.reason,
    }


def _dns_record_json(record: DnsRecord | None) -> dict[str, Any] | None:
    return None if record is None else {"name": record.name, "type": record.type, "value": record.value}


def _withheld_json(w: Withheld) -> dict[str, Any]:
    return {
        **_owner_json([w.owner]),
        "check": w.check,
        "cause": w.cause,
        "kind": w.kind,
        "record": _dns_record_json(w.record),
        "remove": _dns_record_json(w.remove),
        "reason": w.reason,
    }


def _instruction_json(s: Instruction) -> dict[str, Any]:
    return {
        **_owner_json([s.owner]),
        "action": s.action,
        "check": s.check,
        "cause": s.cause,
        "zone_apex": s.zone_apex,
        "name": s.name,
        "host": s.host,
        "type": s.type,
        "value": s.value,
        "value_without_dot": s.value_without_dot,
        "form_value": s.form_value,
        "ttl": s.ttl if s.action != "delete" else None,
        "bind": s.bind or None,
        "note": s.note or None,
    }


def _recheck_json(recheck: Recheck) -> dict[str, Any]:
    after = {key(r): r for r in recheck.after.identities}
    rows = []
    for before in recheck.before:
        ident = before.identity
        now = after.get(key(before))
        rows.append(
            {
                "identity": ident.name,
                "region": ident.region,
                "account": ident.account,
                "before": before.status.value,
                "after": now.status.value if now else None,
                "findings_before": actionable(before),
                "findings_after": actionable(now) if now else [],
            }
        )
    return {"clean": recheck.clean, "identities": rows, "summary": summary(recheck.after)}
