"""What ``fix`` prints as text: the plan, what was applied batch by batch, and the re-check.

Untrusted text (names and values from DNS and Route 53, messages quoting
them) passes through ``untrusted.visible``. Every change line names the
identity, its region and its account. The JSON document is ``document.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import form_advice, providers
from ..i18n import _, pgettext, sentences
from ..render.text_report import pad, wide
from ..untrusted import visible
from .apply import NOT_ATTEMPTED, ApplyResult
from .batch import Change, ZonePlan
from .document import Recheck, actionable, by_apex, key
from .elsewhere import Instruction
from .locate import FixPlan
from .safety import RECEIVES_MAIL
from .triage import Owner, Withheld


def who(owners: Iterable[Owner]) -> str:
    """``identity (region, account A)``, for each identity once."""
    return ", ".join(
        dict.fromkeys(
            visible(
                _("{identity} ({region}, account {account})").format(
                    identity=o.identity, region=o.region, account=o.account or _("unknown")
                )
            )
            for o in owners
        )
    )


def to_text(plan: FixPlan, *, identities: int, applying: bool) -> str:
    lines: list[str] = []
    if not plan.pending:
        return (
            _("Nothing to fix: {count} identities checked, no finding needs a change.").format(count=identities) + "\n"
        )
    if applying:
        lines.append(_("ses-dkim-monitor fix: plan for {count} identities").format(count=identities))
    else:
        lines.append(
            _(
                "ses-dkim-monitor fix: plan for {count} identities (dry run: nothing is changed; add --apply to make "
                "the Route 53 changes)"
            ).format(count=identities)
        )
    for z in plan.zones:
        lines += ["", *_zone_lines(z)]
    for unused in plan.unused:
        heading = _("Route 53 hosted zone {zone} ({id}) is not written").format(
            zone=visible(unused.zone), id=unused.hosted_zone_id
        )
        lines += ["", f"{heading}: {visible(unused.reason)}"]
        instead = (
            _("written to {zone} ({id}) instead, the zone of that name DNS serves").format(
                zone=visible(unused.zone), id=unused.written_to
            )
            if unused.written_to
            else _("given below as instructions instead")
        )
        names = ", ".join(visible(n) for n in unused.names)
        lines.append("  " + _("for {names}: {instead}").format(names=names, instead=instead))
    not_served = {u.zone for u in plan.unused if not u.written_to}
    for apex, steps in by_apex(plan.elsewhere):
        lines += ["", _elsewhere_heading(apex, hosted=apex in not_served)]
        served = form_advice.served_sentence(apex.rstrip("."), steps[0].nameservers) if apex else ""
        if served:
            lines.append(f"  {visible(served)}")
        for s in steps:
            lines += _step_lines(s)
        binds = [s.bind for s in steps if s.bind]
        if binds:
            lines.append("  " + _("The same records as BIND zone-file lines (for providers that import them):"))
            lines += [f"    {visible(b)}" for b in binds]
        lines += _form_help(apex, steps)
    if plan.triage.withheld:
        lines += [
            "",
            _("Not fixed here (fix never applies these; check them, then make them by hand if they are right):"),
        ]
        for items in _grouped(plan.triage.withheld):
            lines += _withheld_lines(items)
    if plan.triage.not_fixable:
        lines += ["", _("Not fixable by DNS (do these yourself; fix never runs them):")]
        for n in plan.triage.not_fixable:
            lines.append(f"  {who([n.owner])}: {n.check}")
            lines.append(f"    {visible(n.message)}")
            lines.append("    " + _("fix:") + f" {visible(n.fix)}")
    if plan.triage.left_out:
        lines += ["", _("Left out of the plan:")]
        for x in plan.triage.left_out:
            lines.append(f"  {who([x.owner])}: {visible(x.record.name)} {x.record.type} ({x.check}): {x.reason}")
    if plan.notes:
        lines += [""] + [_("Note: {note}").format(note=visible(n)) for n in plan.notes]
    return "\n".join(lines) + "\n"


def _zone_lines(z: ZonePlan) -> list[str]:
    batches = z.in_batches
    zone = visible(z.zone)
    if len(batches) > 1:
        head = _(
            "Route 53 hosted zone {zone} ({id}): {count} change(s) in {batches} batches (each atomic; an identity's "
            "changes are always in one batch)"
        )
    else:
        head = _("Route 53 hosted zone {zone} ({id}): {count} change(s) in one atomic batch")
    lines = [head.format(zone=zone, id=z.hosted_zone_id, count=len(z.changes), batches=len(batches))]
    for index, batch in enumerate(batches, 1):
        if len(batches) > 1:
            lines.append(
                "  "
                + _("batch {index} of {batches}: {count} change(s)").format(
                    index=index, batches=len(batches), count=len(batch)
                )
            )
        lines += [line for c in batch for line in _change_lines(c)]
    for conflict in z.conflicts:
        lines.append(
            "  "
            + _("NOT CHANGED  {name} {type} for {who}:").format(
                name=visible(conflict.name), type=conflict.type, who=who([conflict.owner])
            )
        )
        lines.append(f"          {visible(conflict.reason)}")
    for kept in z.kept:
        cause = f" ({kept.cause})" if kept.cause else ""
        lines.append(
            "  "
            + _("LEFT IN PLACE  {name} {type} for {who}: {check}").format(
                name=visible(kept.name), type=kept.type, who=who([kept.owner]), check=kept.check
            )
            + cause
        )
        lines.append(f"          {visible(kept.reason)}")
    return lines


def _change_lines(c: Change) -> list[str]:
    value = " ".join(visible(v) for v in c.values)
    cause = f" ({c.cause})" if c.cause else ""
    return [
        f"  {c.action:<6}  {visible(c.name)}  {c.type}  {c.ttl}  {value}",
        "          " + _("for {who}: {check}").format(who=who(c.owners), check=c.check) + cause,
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
            copy = _("copy {source} to {name}, every string as it is").format(
                source=f"{visible(w.remove.name)} {w.remove.type}", name=visible(w.record.name)
            )
            lines.append(f"    {w.check}{cause}: {copy}")
        if w.remove is not None and w.record.value and w.kind != RECEIVES_MAIL:
            instead = f"{visible(w.remove.name)} {w.remove.type} {visible(w.remove.value)}"
            lines.append("      " + _("in place of {record}").format(record=instead))
    lines.append("    " + _("why: {reason}").format(reason=visible(first.reason)))
    return lines


def _grouped(withheld: Sequence[Withheld]) -> list[list[Withheld]]:
    groups: dict[tuple[Owner, str, str], list[Withheld]] = {}
    for w in withheld:
        groups.setdefault((w.owner, w.kind, w.reason), []).append(w)
    return list(groups.values())


def _elsewhere_heading(apex: str | None, *, hosted: bool) -> str:
    if apex is None:
        return _("Zone not found (no Route 53 hosted zone, and SOA did not answer): publish these at your DNS provider")
    if hosted:
        return _(
            "Zone {zone} (apex found through SOA): DNS does not serve the Route 53 hosted zone of that name (above); "
            "at the provider that serves it:"
        ).format(zone=visible(apex))
    return _(
        "Zone {zone} (apex found through SOA) is not a Route 53 hosted zone of this account; at its provider:"
    ).format(zone=visible(apex))


def _actions() -> dict[str, str]:
    """What to do in the provider's form, in the current language (``Instruction.action`` stays as it is)."""
    return {
        # TRANSLATORS: the first word of a plan line: add this record in the DNS provider's form.
        "add": pgettext("form action", "add"),
        # TRANSLATORS: change the value of the record at this host in the DNS provider's form.
        "change": pgettext("form action", "change"),
        # TRANSLATORS: delete this record in the DNS provider's form.
        "delete": pgettext("form action", "delete"),
    }


def _step_lines(s: Instruction) -> list[str]:
    cause = f" ({s.cause})" if s.cause else ""
    line = "          " + _("for {who}: {check}").format(who=who([s.owner]), check=s.check) + cause
    actions = _actions()
    action = pad(actions.get(s.action, s.action), max(wide(word) for word in actions.values()))
    host_label, type_label = pgettext("form field", "host"), pgettext("form field", "type")
    value_label = pgettext("form field", "value")
    host, rtype = f"{host_label} {visible(s.host)}", f"{type_label} {s.type}"
    if s.action == "delete":
        out = [f"  {action}  {host}  {rtype}  {value_label} {visible(s.value)}", line]
    else:
        value = visible(s.form_value)
        plain = (
            ""
            if s.value_without_dot == s.value
            else "  " + _("(without the dot: {value})").format(value=visible(s.value_without_dot))
        )
        out = [f"  {action}  {host}  {rtype}  TTL {s.ttl}  {value_label} {value}{plain}", line]
    if s.note:
        out.append(f"          {visible(s.note)}")
    form = _in_the_form(s)
    if form:
        out.append(f"          {visible(form)}")
    return out


def _in_the_form(s: Instruction) -> str:
    """Exactly what to type in the form of the provider serving the zone, when it is recognised."""
    served = providers.served_by(s.nameservers)
    if served is None or s.zone_apex is None or s.action == "delete":
        return ""
    try:
        entry = providers.form_entry(served.provider, name=s.name, zone_apex=s.zone_apex, rtype=s.type, value=s.value)
    except ValueError:
        return ""
    return _("In {provider}'s form: {entry}").format(
        provider=form_advice.provider_name(served.provider), entry=form_advice.entry_text(entry)
    )


def _form_help(apex: str | None, steps: Sequence[Instruction]) -> list[str]:
    zone = (apex or _("your zone.")).rstrip(".")
    lines = [
        "  "
        + _(
            "Host: relative to the zone, as forms that append the zone want it (they add .{zone}; @ is {zone} itself)."
        ).format(zone=zone)
    ]
    dotted = next((s for s in steps if s.action != "delete" and s.value_without_dot != s.value), None)
    if dotted is not None:
        target = visible(dotted.value_without_dot.split(" ")[-1])
        lines.append(
            "  "
            + _(
                "Value: keep the trailing dot. A form that appends the zone to a value without it turns {target} into "
                "{target}.{zone} (the target-missing-dot finding); enter the value without the dot only where the "
                "form refuses it, then run ses-dkim-monitor check --identity NAME."
            ).format(target=target, zone=zone)
        )
    formed = [s for s in steps if s.action != "delete" and s.zone_apex]
    served = providers.served_by(steps[0].nameservers) if formed else None
    if served is not None:
        s = formed[0]
        cause = form_advice.DOUBLED_DOMAIN if s.cause != form_advice.TARGET_MISSING_DOT else s.cause
        conventions = form_advice.conventions_sentence(
            served.provider,
            cause=cause,
            name=s.name,
            zone=zone,
            rtype=s.type,
            value=s.value,
            identity=s.owner.identity,
        )
        lines.append("  " + visible(sentences(conventions)))
    return lines


def applied_text(result: ApplyResult, recheck: Recheck | None) -> str:
    lines: list[str] = [""]
    for b in result.batches:
        zone = f"{visible(b.plan.zone)} ({b.plan.hosted_zone_id})"
        count = len(b.plan.in_batches)
        which = _(", batch {index} of {count}").format(index=b.index, count=count) if count > 1 else ""
        if b.applied:
            state = (b.status or _("status unknown")) + (f"; {b.error}" if b.error else "")
            lines.append(
                _("Applied to {zone}{which}: change {change}, {state}").format(
                    zone=zone, which=which, change=b.change_id, state=state
                )
            )
        else:
            error = _("not attempted") if b.error == NOT_ATTEMPTED else b.error
            lines.append(
                _("Not applied to {zone}{which}: {error}").format(zone=zone, which=which, error=visible(error))
            )
    if result.aborted:
        lines.append(_("Stopped: {reason}").format(reason=visible(result.aborted)))
    if recheck is not None:
        lines += ["", _("Re-checked through DNS:")]
        after = {key(r): r for r in recheck.after.identities}
        nothing = _("nothing")
        for before in recheck.before:
            ident = before.identity
            now = after.get(key(before))
            was = f"{before.status.value} ({', '.join(actionable(before)) or nothing})"
            is_now = f"{now.status.value} ({', '.join(actionable(now)) or nothing})" if now else _("not found")
            lines.append(f"  {visible(ident.name)} ({ident.region}): {was} -> {is_now}")
        if not recheck.clean:
            lines.append(
                "  "
                + _(
                    "Something is still reported: SES re-checks DKIM on its own schedule, and a resolver may keep a "
                    "cached negative answer until its TTL ends; run ses-dkim-monitor check --identity NAME later."
                )
            )
    return "\n".join(lines) + "\n"
