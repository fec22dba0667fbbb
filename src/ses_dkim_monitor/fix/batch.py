"""One Route 53 change batch per hosted zone, from the fixes and the record sets the zone holds now. Pure.

Rules, so a batch can only ever do what the plan shows:

* a record that is not there is created with ``CREATE`` (Route 53 refuses a
  CREATE of a record set that exists, so a record that appeared since the
  plan fails the batch instead of being overwritten);
* a misplaced record is removed with ``DELETE`` carrying the exact record
  set the plan read (Route 53 refuses a DELETE that does not match), and only
  when ``safety.DELETIONS`` allows it and the same batch creates the record
  that replaces it; any other misplaced record is left in place and reported
  (``Kept``); a TXT at the doubled name is copied byte for byte from the
  record set Route 53 holds there;
* ``UPSERT`` only where the plan read the record set at that name and type
  and changes it in place (a wrong CNAME target SES confirmed, an SPF or DMARC
  value added beside other TXT values); ``apply`` re-reads it just before
  applying and stops when it changed;
* nothing else is touched: a record that stands in the way (a TXT beside the
  CNAME to create, an alias, a weighted record set, an MX that receives
  mail) makes a conflict, shown and left to a human.

``batches.py`` then splits the changes into requests within Route 53's limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..catalogue import DKIM_RECORD_WRONG_TARGET
from ..i18n import _
from ..models import DnsRecord
from ..scan.parsers import is_dmarc_record, is_spf_record, spf_authorises_ses
from .records import (
    DEFAULT_TTL,
    fqdn,
    same_value,
    spf_with_ses,
    txt_text,
    txt_value,
)
from .safety import TYPES_WRITTEN, deletion, is_copy, is_feedback_host, mx_exchange
from .triage import Owner, RecordFix

RecordSet = dict[str, Any]  # a ResourceRecordSet as Route 53 returns and accepts it
_WRITTEN = ", ".join(TYPES_WRITTEN)
Snapshot = Mapping[str, Sequence[RecordSet]]  # absolute lower-case name -> the record sets at it


@dataclass(frozen=True, kw_only=True)
class Change:
    action: str  # CREATE | DELETE | UPSERT
    record_set: RecordSet
    owners: tuple[Owner, ...]
    check: str
    cause: str

    @property
    def name(self) -> str:
        return fqdn(str(self.record_set["Name"]))

    @property
    def type(self) -> str:
        return str(self.record_set["Type"])

    @property
    def ttl(self) -> int | None:
        ttl = self.record_set.get("TTL")
        return int(ttl) if ttl is not None else None

    @property
    def values(self) -> tuple[str, ...]:
        return values_of(self.record_set)

    def as_api(self) -> dict[str, Any]:
        return {"Action": self.action, "ResourceRecordSet": self.record_set}


@dataclass(frozen=True, kw_only=True)
class Conflict:
    """A fix the batch cannot make without touching something no finding names, and why."""

    owner: Owner
    check: str
    name: str
    type: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Kept:
    """A misplaced record a finding names that fix leaves where it stands (``safety.DELETIONS``), and why."""

    owner: Owner
    check: str
    cause: str
    name: str
    type: str
    values: tuple[str, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class ZonePlan:
    zone: str  # absolute name, e.g. "example.com."
    hosted_zone_id: str | None
    changes: tuple[Change, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    snapshot: Mapping[str, tuple[RecordSet, ...]] = field(default_factory=dict)  # what the plan read, per name
    kept: tuple[Kept, ...] = ()
    batches: tuple[tuple[Change, ...], ...] = ()  # the requests (batches.py); empty: all changes in one
    record_count: int | None = None  # GetHostedZone's ResourceRecordSetCount: how to re-read cheaply

    @property
    def in_batches(self) -> tuple[tuple[Change, ...], ...]:
        """The requests to send, in order."""
        return self.batches or ((self.changes,) if self.changes else ())


def values_of(record_set: RecordSet) -> tuple[str, ...]:
    return tuple(str(r["Value"]) for r in record_set.get("ResourceRecords", ()))


def _sets(snapshot: Snapshot, name: str, rtype: str) -> list[RecordSet]:
    return [s for s in snapshot.get(fqdn(name), ()) if str(s.get("Type", "")).upper() == rtype]


def _special(sets: Sequence[RecordSet]) -> bool:
    """Alias records and routing policies (weighted, latency, ...): never changed by this command."""
    return len(sets) > 1 or any("AliasTarget" in s or "SetIdentifier" in s or "TTL" not in s for s in sets)


def _record_set(name: str, rtype: str, ttl: int, values: Sequence[str]) -> RecordSet:
    return {"Name": fqdn(name), "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values]}


def plan_zone(zone: str, hosted_zone_id: str | None, fixes: Sequence[RecordFix], snapshot: Snapshot) -> ZonePlan:
    conflicts: list[Conflict] = []
    kept: list[Kept] = []
    deletes: dict[tuple[str, str], tuple[RecordSet, list[RecordFix]]] = {}
    wanted: dict[tuple[str, str], list[RecordFix]] = {}
    ttl_of: dict[tuple[str, str], int] = {}  # a copy keeps the TTL of the record it copies

    def conflict(fix: RecordFix, record: DnsRecord, reason: str) -> None:
        conflicts.append(Conflict(owner=fix.owner, check=fix.check, name=record.name, type=record.type, reason=reason))

    for fix in fixes:
        if fix.publish.type not in TYPES_WRITTEN:
            conflict(fix, fix.publish, _("fix writes only {types} records: publish it by hand").format(types=_WRITTEN))
            continue
        remove, rule = fix.remove, deletion(fix)
        if remove is not None and rule is not None:
            sets = _sets(snapshot, remove.name, remove.type)
            if rule.deletes:
                removed = _removable(remove, sets, zone)
                if isinstance(removed, str):
                    conflict(fix, remove, removed)
                    continue
                deletes.setdefault((remove.name, remove.type), (removed, []))[1].append(fix)
            else:
                held = values_of(sets[0]) if len(sets) == 1 else (remove.value,)
                kept.append(
                    Kept(
                        owner=fix.owner,
                        check=fix.check,
                        cause=fix.cause,
                        name=remove.name,
                        type=remove.type,
                        values=held,
                        reason=_("fix never deletes a {record}: {why}").format(record=_(rule.record), why=_(rule.why)),
                    )
                )
                if is_copy(fix):
                    source = _copy_source(remove, sets, zone)
                    if isinstance(source, str):
                        conflict(fix, fix.publish, source)
                        continue
                    value, ttl = source
                    fix = replace(fix, publish=DnsRecord(fix.publish.name, fix.publish.type, value))
                    ttl_of[(fix.publish.name, fix.publish.type)] = ttl
        wanted.setdefault((fix.publish.name, fix.publish.type), []).append(fix)

    published: list[Change] = []
    placed: set[int] = set()  # ids of the fixes whose record this batch publishes
    for (name, rtype), group in sorted(wanted.items()):
        change = _publish(name, rtype, group, snapshot, deletes, zone, ttl_of.get((name, rtype)))
        if isinstance(change, Change):
            published.append(change)
            placed |= {id(f) for f in group}
        else:
            for fix in group:
                conflict(fix, fix.publish, change)
    # A misplaced record is deleted only together with the record that replaces it.
    removals: list[Change] = []
    for _key, (rs, group) in sorted(deletes.items(), key=lambda item: item[0]):
        placing = [f for f in group if id(f) in placed]
        if placing:
            owners = tuple(dict.fromkeys(f.owner for f in placing))
            first = placing[0]
            removals.append(
                Change(action="DELETE", record_set=dict(rs), owners=owners, check=first.check, cause=first.cause)
            )
    removals.sort(key=_by_identity)
    published.sort(key=_by_identity)  # a plan reads identity by identity
    return ZonePlan(
        zone=fqdn(zone),
        hosted_zone_id=hosted_zone_id,
        changes=tuple(removals + published),
        conflicts=tuple(conflicts),
        snapshot={name: tuple(sets) for name, sets in snapshot.items()},
        kept=tuple(kept),
    )


def _by_identity(change: Change) -> tuple[str, str, str, str, str]:
    owner = change.owners[0]
    return (owner.account, owner.region, owner.identity, change.name, change.type)


def _removable(record: DnsRecord, sets: list[RecordSet], zone: str) -> RecordSet | str:
    said = {"name": record.name, "type": record.type, "zone": zone}
    if not sets:
        return _(
            "Route 53 holds no {type} record at {name}, though DNS answers with one: is the domain delegated to this "
            "hosted zone ({zone})? Delete it where DNS is served"
        ).format(**said)
    if _special(sets):
        return _alias().format(**said)
    values = values_of(sets[0])
    if not any(same_value(record.type, v, record.value) for v in values):
        return _("Route 53 holds {name} {type} {values}, not the {value} DNS answered with").format(
            values=", ".join(values), value=record.value, **said
        )
    if len(values) > 1:
        # A DELETE removes the whole record set: the values beside the named one are not this plan's to remove.
        others = [v for v in values if not same_value(record.type, v, record.value)]
        return _("{name} {type} also holds {count} value(s) no finding names ({values}): change it by hand").format(
            count=len(others), values=", ".join(others), **said
        )
    return sets[0]


def _alias() -> str:
    """One sentence, said of a record to delete and of one to change."""
    return _("{name} {type} is an alias or uses a routing policy: change it by hand")


def _copy_source(record: DnsRecord, sets: list[RecordSet], zone: str) -> tuple[str, int] | str:
    """The value (as Route 53 spells it, every string) and TTL of the TXT a copy reproduces at the right name."""
    if not sets:
        return _(
            "Route 53 holds no TXT record at {name}, though DNS answers with one: is the domain delegated to this "
            "hosted zone ({zone})?"
        ).format(name=record.name, zone=zone)
    if _special(sets):
        return _("{name} TXT is an alias or uses a routing policy: copy it by hand").format(name=record.name)
    matching = [v for v in values_of(sets[0]) if same_value("TXT", v, record.value)]
    if len(matching) != 1:
        return _("Route 53's {name} TXT does not hold exactly the record DNS answered with: copy it by hand").format(
            name=record.name
        )
    return matching[0], int(sets[0]["TTL"])


def _publish(
    name: str,
    rtype: str,
    group: list[RecordFix],
    snapshot: Snapshot,
    deletes: Mapping[tuple[str, str], tuple[RecordSet, list[RecordFix]]],
    zone: str,
    copied_ttl: int | None,
) -> Change | str:
    """The change that publishes ``group``'s record at (name, type), or the reason it cannot."""
    values: list[str] = []
    for fix in group:
        if not any(same_value(rtype, v, fix.publish.value) for v in values):
            values.append(fix.publish.value)
    owners = tuple(dict.fromkeys(fix.owner for fix in group))
    first = group[0]
    said = {"name": name, "type": rtype, "zone": zone, "values": ", ".join(values)}
    if rtype in ("CNAME", "MX") and len(values) > 1:
        return _("the identities want different {type} values at {name} ({values}): choose one by hand").format(**said)
    others = sorted(
        {
            str(s["Type"])
            for s in snapshot.get(name, ())
            if str(s["Type"]) != rtype and (name, str(s["Type"])) not in deletes
        }
    )
    if rtype == "CNAME" and others:
        if any(f.remove is not None and fqdn(f.remove.name) == name for f in group):
            return _(
                "a CNAME cannot share its name, and {name} holds {others}, which fix never deletes (it may be a key "
                "that works today): check it, delete it by hand, then run fix again"
            ).format(others=", ".join(others), **said)
        return _(
            "a CNAME cannot share its name with other records, and {name} also holds {others} that no finding names: "
            "remove them by hand, then run fix again"
        ).format(others=", ".join(others), **said)
    if rtype != "CNAME" and "CNAME" in others:
        return _("{name} is a CNAME, so it cannot also hold {type}: change it by hand").format(**said)
    # "TTL: 300 for new records unless the existing one had a TTL": a record put back in its right
    # place or form keeps the TTL of the one it replaces (or copies).
    deleted = deletes.get((name, rtype)) or next(
        (
            deletes[(f.remove.name, f.remove.type)]
            for f in group
            if f.remove and (f.remove.name, f.remove.type) in deletes
        ),
        None,
    )
    sets = [] if (name, rtype) in deletes else _sets(snapshot, name, rtype)
    if not sets:
        ttl = int(deleted[0]["TTL"]) if deleted is not None else (copied_ttl or DEFAULT_TTL)
        return Change(
            action="CREATE",
            record_set=_record_set(name, rtype, ttl, values),
            owners=owners,
            check=first.check,
            cause=first.cause,
        )
    if _special(sets):
        return _alias().format(**said)
    current = sets[0]
    existing = list(values_of(current))
    updated = _merged(rtype, existing, values, wrong_target=any(f.check == DKIM_RECORD_WRONG_TARGET for f in group))
    if updated is None:
        return _(
            "Route 53 already holds {name} {type} {values}, but DNS does not answer with it: is the domain delegated "
            "to this hosted zone ({zone})?"
        ).format(**said)
    if isinstance(updated, str):
        return updated
    return Change(
        action="UPSERT",
        record_set=_record_set(name, rtype, int(current["TTL"]), updated),
        owners=owners,
        check=first.check,
        cause=first.cause,
    )


def _merged(rtype: str, existing: list[str], values: list[str], *, wrong_target: bool) -> list[str] | str | None:
    """The record set's new values; None when they are already there; a reason when it cannot be merged."""
    if rtype == "CNAME":
        if same_value(rtype, existing[0], values[0]):
            return None
        if wrong_target:  # the finding names this CNAME's target as wrong, with the target SES confirmed
            return [values[0]]
        return _("Route 53 holds CNAME {value} there, but DNS did not answer with it: change it by hand").format(
            value=existing[0]
        )
    if rtype != "TXT":
        if all(any(same_value(rtype, e, v) for e in existing) for v in values):
            return None
        inbound = [e for e in existing if rtype == "MX" and not is_feedback_host(mx_exchange(e))]
        if inbound:
            return _(
                "the name receives mail (MX {exchanges}): fix never deletes or replaces an MX that is not SES's "
                "feedback host; use a dedicated subdomain (bounce.<domain>) as the MAIL FROM domain"
            ).format(exchanges=", ".join(inbound))
        return _("Route 53 holds {type} {values} there and DNS showed none: change it by hand").format(
            type=rtype, values=", ".join(existing)
        )
    updated = list(existing)
    for value in values:
        text = txt_text(value)
        if is_spf_record(text):
            spf = [i for i, e in enumerate(updated) if is_spf_record(txt_text(e))]
            if any(spf_authorises_ses(txt_text(updated[i])) for i in spf):
                continue
            if len(spf) > 1:
                return _("the name holds several SPF records (SPF fails with more than one): merge them by hand")
            if spf:
                updated[spf[0]] = txt_value(spf_with_ses(txt_text(updated[spf[0]])))
                continue
        elif is_dmarc_record(text) and any(is_dmarc_record(txt_text(e)) for e in updated):
            continue
        if not any(same_value("TXT", e, value) for e in updated):
            updated.append(value)
    return None if updated == existing else updated


def changed_names(before: Mapping[str, Sequence[RecordSet]], now: Mapping[str, Sequence[RecordSet]]) -> list[str]:
    """Names whose record sets differ between the plan's read and a later one."""
    return sorted(name for name in before if _canonical(before[name]) != _canonical(now.get(name, ())))


def _canonical(sets: Sequence[RecordSet]) -> list[tuple[Any, ...]]:
    return sorted(
        (str(s.get("Type")), s.get("TTL"), s.get("SetIdentifier"), repr(s.get("AliasTarget")), sorted(values_of(s)))
        for s in sets
    )
