"""One Route 53 change batch per hosted zone, from the fixes and the record sets the zone holds now. Pure.

Rules, so a batch can only ever do what the plan shows:

* a record that is not there is created with ``CREATE`` (Route 53 refuses a
  CREATE of a record set that exists, so a record that appeared since the
  plan fails the batch instead of being overwritten);
* a misplaced record is removed with ``DELETE`` carrying the exact record
  set the plan read (Route 53 refuses a DELETE that does not match);
* ``UPSERT`` only where the plan read the record set at that name and type
  and changes it in place (a wrong CNAME target, an SPF or DMARC value added
  beside other TXT values); ``apply`` re-reads it just before applying and
  stops when it changed;
* nothing else is touched: a record that stands in the way and that no
  finding names (a TXT beside the CNAME to create, an alias, a weighted
  record set) makes a conflict, shown and left to a human.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import DnsRecord
from .records import (
    DEFAULT_TTL,
    fqdn,
    is_dmarc,
    is_spf,
    same_value,
    spf_authorises_ses,
    spf_with_ses,
    txt_text,
    txt_value,
)
from .triage import Owner, RecordFix

RecordSet = dict[str, Any]  # a ResourceRecordSet as Route 53 returns and accepts it
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
class ZonePlan:
    zone: str  # absolute name, e.g. "example.com."
    hosted_zone_id: str | None
    changes: tuple[Change, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    snapshot: Mapping[str, tuple[RecordSet, ...]] = field(default_factory=dict)  # what the plan read, per name


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
    deletes: dict[tuple[str, str], tuple[RecordSet, RecordFix]] = {}
    wanted: dict[tuple[str, str], list[RecordFix]] = {}

    def conflict(fix: RecordFix, record: DnsRecord, reason: str) -> None:
        conflicts.append(Conflict(owner=fix.owner, check=fix.check, name=record.name, type=record.type, reason=reason))

    for fix in fixes:
        if fix.remove is not None:
            removed = _removable(fix.remove, _sets(snapshot, fix.remove.name, fix.remove.type), zone)
            if isinstance(removed, str):
                conflict(fix, fix.remove, removed)
                continue
            deletes[(fix.remove.name, fix.remove.type)] = (removed, fix)
        wanted.setdefault((fix.publish.name, fix.publish.type), []).append(fix)

    changes = [
        Change(action="DELETE", record_set=dict(rs), owners=(fix.owner,), check=fix.check, cause=fix.cause)
        for (_, _), (rs, fix) in sorted(deletes.items())
    ]
    for (name, rtype), group in sorted(wanted.items()):
        change = _publish(name, rtype, group, snapshot, deletes, zone)
        if isinstance(change, Change):
            changes.append(change)
        elif change:
            for fix in group:
                conflict(fix, fix.publish, change)
    return ZonePlan(
        zone=fqdn(zone),
        hosted_zone_id=hosted_zone_id,
        changes=tuple(changes),
        conflicts=tuple(conflicts),
        snapshot={name: tuple(sets) for name, sets in snapshot.items()},
    )


def _removable(record: DnsRecord, sets: list[RecordSet], zone: str) -> RecordSet | str:
    if not sets:
        return (
            f"Route 53 holds no {record.type} record at {record.name}, though DNS answers with one: "
            f"is the domain delegated to this hosted zone ({zone})? Delete it where DNS is served"
        )
    if _special(sets):
        return f"{record.name} {record.type} is an alias or uses a routing policy: change it by hand"
    values = values_of(sets[0])
    if not any(same_value(record.type, v, record.value) for v in values):
        return (
            f"Route 53 holds {record.name} {record.type} {', '.join(values)}, not the {record.value} DNS answered with"
        )
    if len(values) > 1:
        # A DELETE removes the whole record set: the values beside the named one are not this plan's to remove.
        return (
            f"{record.name} {record.type} also holds {len(values) - 1} value(s) no finding names "
            f"({', '.join(v for v in values if not same_value(record.type, v, record.value))}): change it by hand"
        )
    return sets[0]


def _publish(
    name: str,
    rtype: str,
    group: list[RecordFix],
    snapshot: Snapshot,
    deletes: Mapping[tuple[str, str], tuple[RecordSet, RecordFix]],
    zone: str,
) -> Change | str | None:
    """The change that publishes ``group``'s record at (name, type); a reason when it cannot; None when in place."""
    values: list[str] = []
    for fix in group:
        if not any(same_value(rtype, v, fix.publish.value) for v in values):
            values.append(fix.publish.value)
    owners = tuple(dict.fromkeys(fix.owner for fix in group))
    first = group[0]
    if rtype in ("CNAME", "MX") and len(values) > 1:
        return f"the identities want different {rtype} values at {name} ({', '.join(values)}): choose one by hand"
    others = sorted(
        {
            str(s["Type"])
            for s in snapshot.get(name, ())
            if str(s["Type"]) != rtype and (name, str(s["Type"])) not in deletes
        }
    )
    if rtype == "CNAME" and others:
        return (
            f"a CNAME cannot share its name with other records, and {name} also holds {', '.join(others)} "
            f"that no finding names: remove them by hand, then run fix again"
        )
    if rtype != "CNAME" and "CNAME" in others:
        return f"{name} is a CNAME, so it cannot also hold {rtype}: change it by hand"
    # "TTL: 300 for new records unless the existing one had a TTL": a record put back in its right
    # place or form keeps the TTL of the one it replaces.
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
        ttl = int(deleted[0]["TTL"]) if deleted is not None else DEFAULT_TTL
        return Change(
            action="CREATE",
            record_set=_record_set(name, rtype, ttl, values),
            owners=owners,
            check=first.check,
            cause=first.cause,
        )
    if _special(sets):
        return f"{name} {rtype} is an alias or uses a routing policy: change it by hand"
    current = sets[0]
    existing = list(values_of(current))
    updated = _merged(rtype, existing, values)
    if updated is None:
        return (
            f"Route 53 already holds {name} {rtype} {', '.join(values)}, but DNS does not answer with it: "
            f"is the domain delegated to this hosted zone ({zone})?"
        )
    if isinstance(updated, str):
        return updated
    return Change(
        action="UPSERT",
        record_set=_record_set(name, rtype, int(current["TTL"]), updated),
        owners=owners,
        check=first.check,
        cause=first.cause,
    )


def _merged(rtype: str, existing: list[str], values: list[str]) -> list[str] | str | None:
    """The record set's new values; None when they are already there; a reason when it cannot be merged."""
    if rtype == "CNAME":
        return None if same_value(rtype, existing[0], values[0]) else [values[0]]
    if rtype != "TXT":
        if all(any(same_value(rtype, e, v) for e in existing) for v in values):
            return None
        return f"Route 53 holds {rtype} {', '.join(existing)} there and DNS showed none: change it by hand"
    updated = list(existing)
    for value in values:
        text = txt_text(value)
        if is_spf(text):
            spf = [i for i, e in enumerate(updated) if is_spf(txt_text(e))]
            if any(spf_authorises_ses(txt_text(updated[i])) for i in spf):
                continue
            if len(spf) > 1:
                return "the name holds several SPF records (SPF fails with more than one): merge them by hand"
            if spf:
                updated[spf[0]] = txt_value(spf_with_ses(txt_text(updated[spf[0]])))
                continue
        elif is_dmarc(text) and any(is_dmarc(txt_text(e)) for e in updated):
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
