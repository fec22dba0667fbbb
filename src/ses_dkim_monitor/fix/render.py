"""What ``fix`` prints: the plan as text (untrusted text escaped) or as the JSON document of docs/fix.md.

The JSON document is a contract like the check report: fields are only ever
added, and ``version`` changes only if one is ever removed or renamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import IdentityReport, ScanReport, Severity
from ..render.json_report import summary
from ..untrusted import visible
from .apply import ApplyResult
from .batch import Change, Conflict
from .elsewhere import Instruction
from .locate import FixPlan
from .triage import Owner

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
        after = {_key(r): r for r in self.after.identities}
        return not self.after.errors and all(_key(b) in after and not _actionable(after[_key(b)]) for b in self.before)


def _key(report: IdentityReport) -> tuple[str, str, str]:
    return (report.identity.account, report.identity.region, report.identity.name)


def _actionable(report: IdentityReport) -> list[str]:
    return [f.check for f in report.findings if f.severity.at_least(Severity.WARNING)]


def _who(owners: Iterable[Owner]) -> str:
    return ", ".join(dict.fromkeys(visible(f"{o.identity} ({o.region})") for o in owners))


def _record_json(change: Change) -> dict[str, Any]:
    values = list(change.values)
    return {
        "name": change.name,
        "type": change.type,
        "value": values[0] if len(values) == 1 else "\n".join(values),
        "values": values,
        "ttl": change.ttl,
    }


def _owner_json(owners: Sequence[Owner]) -> dict[str, Any]:
    return {
        "identity": ", ".join(dict.fromkeys(o.identity for o in owners)),
        "region": ", ".join(dict.fromkeys(o.region for o in owners)),
        "account": ", ".join(dict.fromkeys(o.account for o in owners)),
    }


def _conflict_json(c: Conflict) -> dict[str, Any]:
    return {**_owner_json([c.owner]), "check": c.check, "name": c.name, "type": c.type, "reason": c.reason}


def to_json(
    plan: FixPlan, *, result: ApplyResult | None, recheck: Recheck | None, errors: Sequence[str]
) -> dict[str, Any]:
    zones: list[dict[str, Any]] = []
    for z in plan.zones:
        outcome = result.outcome(z) if result else None
        zones.append(
            {
                "zone": z.zone,
                "hosted_zone_id": z.hosted_zone_id,
                "changes": [
                    {
                        "action": c.action,
                        "record": _record_json(c),
                        **_owner_json(c.owners),
                        "check": c.check,
                        "cause": c.cause,
                    }
                    for c in z.changes
                ],
                "conflicts": [_conflict_json(c) for c in z.conflicts],
                "applied": bool(outcome and outcome.applied),
                "change_id": outcome.change_id if outcome else None,
                "status": (outcome.status or None) if outcome else None,
                "error": (outcome.error or None) if outcome else None,
            }
        )
    for apex, steps in _by_apex(plan.elsewhere):
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
                "applied": False,
                "change_id": None,
                "status": None,
                "error": None,
            }
        )
    return {
        "version": FIX_DOCUMENT_VERSION,
        "applied": bool(result and not result.aborted and any(o.applied for o in result.outcomes)),
        "zones": zones,
        "elsewhere": [_instruction_json(s) for s in plan.elsewhere],
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
    after = {_key(r): r for r in recheck.after.identities}
    rows = []
    for before in recheck.before:
        ident = before.identity
        now = after.get(_key(before))
        rows.append(
            {
                "identity": ident.name,
                "region": ident.region,
                "account": ident.account,
                "before": before.status.value,
                "after": now.status.value if now else None,
                "findings_before": _actionable(before),
                "findings_after": _actionable(now) if now else [],
            }
        )
    return {"clean": recheck.clean, "identities": rows, "summary": summary(recheck.after)}


def _by_apex(steps: Sequence[Instruction]) -> list[tuple[str | None, list[Instruction]]]:
    groups: dict[str | None, list[Instruction]] = {}
    for s in steps:
        groups.setdefault(s.zone_apex, []).append(s)
    return sorted(groups.items(), key=lambda item: item[0] or "~")


# ---------------------------------------------------------------- text


def to_text(plan: FixPlan, *, identities: int, applying: bool) -> str:
    lines: list[str] = []
    if not plan.pending:
        return f"Nothing to fix: {identities} identities checked, no finding needs a change.\n"
    mode = "" if applying else " (dry run: nothing is changed; add --apply to make the Route 53 changes)"
    lines.append(f"ses-dkim-monitor fix: plan for {identities} identities{mode}")
    for z in plan.zones:
        lines += [
            "",
            f"Route 53 hosted zone {visible(z.zone)} ({z.hosted_zone_id}): "
            f"{len(z.changes)} change(s) in one atomic batch",
        ]
        for c in z.changes:
            value = " ".join(visible(v) for v in c.values)
            lines.append(f"  {c.action:<6}  {visible(c.name)}  {c.type}  {c.ttl}  {value}")
            lines.append(f"          for {_who(c.owners)}: {c.check}{f' ({c.cause})' if c.cause else ''}")
        for conflict in z.conflicts:
            lines.append(f"  NOT CHANGED  {visible(conflict.name)} {conflict.type} for {_who([conflict.owner])}:")
            lines.append(f"          {visible(conflict.reason)}")
    for apex, steps in _by_apex(plan.elsewhere):
        lines += ["", _elsewhere_heading(apex)]
        for s in steps:
            lines += _step_lines(s)
        binds = [s.bind for s in steps if s.bind]
        if binds:
            lines.append("  The same records as BIND zone-file lines (for providers that import them):")
            lines += [f"    {visible(b)}" for b in binds]
        lines += _form_help(apex, steps)
    if plan.triage.not_fixable:
        lines += ["", "Not fixable by DNS (do these yourself; fix never runs them):"]
        for n in plan.triage.not_fixable:
            lines.append(f"  {_who([n.owner])} [{n.owner.account}]: {n.check}")
            lines.append(f"    {visible(n.message)}")
            lines.append(f"    fix: {visible(n.fix)}")
    if plan.triage.left_out:
        lines += ["", "Left out of the plan:"]
        for x in plan.triage.left_out:
            lines.append(f"  {_who([x.owner])}: {visible(x.record.name)} {x.record.type} ({x.check}): {x.reason}")
    if plan.notes:
        lines += [""] + [f"Note: {visible(n)}" for n in plan.notes]
    return "\n".join(lines) + "\n"


def _elsewhere_heading(apex: str | None) -> str:
    if apex is None:
        return "Zone not found (no Route 53 hosted zone, and SOA did not answer): publish these at your DNS provider"
    return (
        f"Zone {visible(apex)} (apex found through SOA) is not a Route 53 hosted zone of this account; at its provider:"
    )


def _step_lines(s: Instruction) -> list[str]:
    who = f"          for {_who([s.owner])}: {s.check}{f' ({s.cause})' if s.cause else ''}"
    if s.action == "delete":
        out = [f"  delete  host {visible(s.host)}  type {s.type}  value {visible(s.value)}", who]
    else:
        value = visible(s.form_value)
        plain = "" if s.value_without_dot == s.value else f"  (without the dot: {visible(s.value_without_dot)})"
        out = [f"  {s.action:<6}  host {visible(s.host)}  type {s.type}  TTL {s.ttl}  value {value}{plain}", who]
    if s.note:
        out.append(f"          {visible(s.note)}")
    return out


def _form_help(apex: str | None, steps: Sequence[Instruction]) -> list[str]:
    zone = (apex or "your zone.").rstrip(".")
    lines = [
        f"  Host: relative to the zone, as forms that append the zone want it (they add .{zone}; @ is {zone} itself)."
    ]
    dotted = next((s for s in steps if s.action != "delete" and s.value_without_dot != s.value), None)
    if dotted is not None:
        target = dotted.value_without_dot.split(" ")[-1]
        lines.append(
            f"  Value: keep the trailing dot. A form that appends the zone to a value without it turns "
            f"{visible(target)} into {visible(target)}.{zone} (the target-missing-dot finding); enter the value "
            f"without the dot only where the form refuses it, then run ses-dkim-monitor check --identity NAME."
        )
    return lines


def applied_text(result: ApplyResult, recheck: Recheck | None) -> str:
    lines: list[str] = [""]
    if result.aborted:
        lines.append(f"Not applied: {visible(result.aborted)}")
    for o in result.outcomes:
        zone = f"{visible(o.plan.zone)} ({o.plan.hosted_zone_id})"
        if o.applied:
            state = o.status or "status unknown"
            lines.append(f"Applied to {zone}: change {o.change_id}, {state}{f'; {o.error}' if o.error else ''}")
        elif not result.aborted:
            lines.append(f"Failed for {zone}: {visible(o.error)}")
    if recheck is not None:
        lines += ["", "Re-checked through DNS:"]
        after = {_key(r): r for r in recheck.after.identities}
        for before in recheck.before:
            ident = before.identity
            now = after.get(_key(before))
            was = f"{before.status.value} ({', '.join(_actionable(before)) or 'nothing'})"
            is_now = f"{now.status.value} ({', '.join(_actionable(now)) or 'nothing'})" if now else "not found"
            lines.append(f"  {visible(ident.name)} ({ident.region}): {was} -> {is_now}")
        if not recheck.clean:
            lines.append(
                "  Something is still reported: SES re-checks DKIM on its own schedule, and a resolver may keep "
                "a cached negative answer until its TTL ends; run ses-dkim-monitor check --identity NAME later."
            )
    return "\n".join(lines) + "\n"
