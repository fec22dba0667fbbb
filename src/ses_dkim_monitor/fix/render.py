"""What ``fix`` prints as text: the plan, what was applied batch by batch, and the re-check.

Untrusted text (names and values from DNS and Route 53, messages quoting
them) passes through ``untrusted.visible``. Every change line names the
identity, its region and its account. The JSON document is ``document.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..untrusted import visible
from .apply import ApplyResult
from .batch import Change, ZonePlan
from .document import Recheck, actionable, by_apex, key
from .elsewhere import Instruction
from .locate import FixPlan
from .safety import RECEIVES_MAIL
from .triage import Owner, Withheld


def who(owners: Iterable[Owner]) -> str:
    """``identity (region, account A)``, for each identity once."""
    return ", ".join(
        dict.fromkeys(visible(f"{o.identity} ({o.region}, account {o.account or 'unknown'})") for o in owners)
    )


def to_text(plan: FixPlan, *, identities: int, applying: bool) -> str:
    lines: list[str] = []
    if not plan.pending:
        return f"Nothing to fix: {identities} identities checked, no finding needs a change.\n"
    mode = "" if applying else " (dry run: nothing is changed; add --apply to make the Route 53 changes)"
    lines.append(f"ses-dkim-monitor fix: plan for {identities} identities{mode}")
    for z in plan.zones:
        lines += ["", *_zone_lines(z)]
    for unused in plan.unused:
        heading = f"Route 53 hosted zone {visible(unused.zone)} ({unused.hosted_zone_id}) is not written"
        lines += ["", f"{heading}: {visible(unused.reason)}"]
        instead = (
            f"written to {visible(unused.zone)} ({unused.written_to}) instead, the zone of that name DNS serves"
            if unused.written_to
            else "given below as instructions instead"
        )
        lines.append(f"  for {', '.join(visible(n) for n in unused.names)}: {instead}")
    not_served = {u.zone for u in plan.unused if not u.written_to}
    for apex, steps in by_apex(plan.elsewhere):
        lines += ["", _elsewhere_heading(apex, hosted=apex in not_served)]
        for s in steps:
            lines += _step_lines(s)
        binds = [s.bind for s in steps if s.bind]
        if binds:
            lines.append("  The same records as BIND zone-file lines (for providers that import them):")
            lines += [f"    {visible(b)}" for b in binds]
        lines += _form_help(apex, steps)
    if plan.triage.withheld:
        lines += ["", "Not fixed here (fix never applies these; check them, then make them by hand if they are right):"]
        for items in _grouped(plan.triage.withheld):
            lines += _withheld_lines(items)
    if plan.triage.not_fixable:
        lines += ["", "Not fixable by DNS (do these yourself; fix never runs them):"]
        for n in plan.triage.not_fixable:
            lines.append(f"  {who([n.owner])}: {n.check}")
            lines.append(f"    {visible(n.message)}")
            lines.append(f"    fix: {visible(n.fix)}")
    if plan.triage.left_out:
        lines += ["", "Left out of the plan:"]
        for x in plan.triage.left_out:
            lines.append(f"  {who([x.owner])}: {visible(x.record.name)} {x.record.type} ({x.check}): {x.reason}")
    if plan.notes:
        lines += [""] + [f"Note: {visible(n)}" for n in plan.notes]
    return "\n".join(lines) + "\n"


def _zone_lines(z: ZonePlan) -> list[str]:
    batches = z.in_batches
    if len(batches) > 1:
        how = f"in {len(batches)} batches (each atomic; an identity's changes are always in one batch)"
    else:
        how = "in one atomic batch"
    lines = [f"Route 53 hosted zone {visible(z.zone)} ({z.hosted_zone_id}): {len(z.changes)} change(s) {how}"]
    for index, batch in enumerate(batches, 1):
        if len(batches) > 1:
            lines.append(f"  batch {index} of {len(batches)}: {len(batch)} change(s)")
        lines += [line for c in batch for line in _change_lines(c)]
    for conflict in z.conflicts:
        lines.append(f"  NOT CHANGED  {visible(conflict.name)} {conflict.type} for {who([conflict.owner])}:")
        lines.append(f"          {visible(conflict.reason)}")
    for kept in z.kept:
        cause = f" ({kept.cause})" if kept.cause else ""
        lines.append(f"  LEFT IN PLACE  {visible(kept.name)} {kept.type} for {who([kept.owner])}: {kept.check}{cause}")
        lines.append(f"          {visible(kept.reason)}")
    return lines


def _change_lines(c: Change) -> list[str]:
    value = " ".join(visible(v) for v in c.values)
    return [
        f"  {c.action:<6}  {visible(c.name)}  {c.type}  {c.ttl}  {value}",
        f"          for {who(c.owners)}: {c.check}{f' ({c.cause})' if c.cause else ''}",
    ]


def _withheld_lines(items: Sequence[Withheld]) -> list[str]:
    """One identity's items that share a reason: the records, then the reason once."""
    first = items[0]
    lines = [f"  {who([first.owner])}:"]
    for w in items:
        cause = f" ({w.cause})" if w.cause else ""
        if w.record.value:
            lines.append(f"    {w.check}{cause}: {visible(w.record.name)} {w.record.type} {visible(w.record.value)}")
        elif w.remove is not None:
            source = f"{visible(w.remove.name)} {w.remove.type}"
            lines.append(f"    {w.check}{cause}: copy {source} to {visible(w.record.name)}, every string as it is")
        if w.remove is not None and w.record.value and w.kind != RECEIVES_MAIL:
            lines.append(f"      in place of {visible(w.remove.name)} {w.remove.type} {visible(w.remove.value)}")
    lines.append(f"    why: {visible(first.reason)}")
    return lines


def _grouped(withheld: Sequence[Withheld]) -> list[list[Withheld]]:
    groups: dict[tuple[Owner, str, str], list[Withheld]] = {}
    for w in withheld:
        groups.setdefault((w.owner, w.kind, w.reason), []).append(w)
    return list(groups.values())


def _elsewhere_heading(apex: str | None, *, hosted: bool) -> str:
    if apex is None:
        return "Zone not found (no Route 53 hosted zone, and SOA did not answer): publish these at your DNS provider"
    if hosted:
        return (
            f"Zone {visible(apex)} (apex found through SOA): DNS does not serve the Route 53 hosted zone of that "
            f"name (above); at the provider that serves it:"
        )
    return (
        f"Zone {visible(apex)} (apex found through SOA) is not a Route 53 hosted zone of this account; at its provider:"
    )


def _step_lines(s: Instruction) -> list[str]:
    line = f"          for {who([s.owner])}: {s.check}{f' ({s.cause})' if s.cause else ''}"
    if s.action == "delete":
        out = [f"  delete  host {visible(s.host)}  type {s.type}  value {visible(s.value)}", line]
    else:
        value = visible(s.form_value)
        plain = "" if s.value_without_dot == s.value else f"  (without the dot: {visible(s.value_without_dot)})"
        out = [f"  {s.action:<6}  host {visible(s.host)}  type {s.type}  TTL {s.ttl}  value {value}{plain}", line]
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
    for b in result.batches:
        zone = f"{visible(b.plan.zone)} ({b.plan.hosted_zone_id})"
        count = len(b.plan.in_batches)
        which = f", batch {b.index} of {count}" if count > 1 else ""
        if b.applied:
            state = b.status or "status unknown"
            lines.append(f"Applied to {zone}{which}: change {b.change_id}, {state}{f'; {b.error}' if b.error else ''}")
        else:
            lines.append(f"Not applied to {zone}{which}: {visible(b.error)}")
    if result.aborted:
        lines.append(f"Stopped: {visible(result.aborted)}")
    if recheck is not None:
        lines += ["", "Re-checked through DNS:"]
        after = {key(r): r for r in recheck.after.identities}
        for before in recheck.before:
            ident = before.identity
            now = after.get(key(before))
            was = f"{before.status.value} ({', '.join(actionable(before)) or 'nothing'})"
            is_now = f"{now.status.value} ({', '.join(actionable(now)) or 'nothing'})" if now else "not found"
            lines.append(f"  {visible(ident.name)} ({ident.region}): {was} -> {is_now}")
        if not recheck.clean:
            lines.append(
                "  Something is still reported: SES re-checks DKIM on its own schedule, and a resolver may keep "
                "a cached negative answer until its TTL ends; run ses-dkim-monitor check --identity NAME later."
            )
    return "\n".join(lines) + "\n"
