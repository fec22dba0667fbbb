"""Route 53 adapter for ``fix``: find a name's hosted zone and its delegation set, read record sets, apply one
batch, wait for INSYNC.

CLI only: the Lambda's role is granted none of these writes or zone reads; it
has only ``route53:GetChange`` (``rechecks.py`` waits for a change to be INSYNC
before re-checking). The client is built by the composition root
(``command.py``) and passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .batch import Change, RecordSet
from .records import fqdn

# What `ses-dkim-monitor fix` needs beyond what `check` needs (docs/fix.md has the least-privilege policy).
IAM_ACTIONS = (
    "route53:ListHostedZonesByName",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "route53:ChangeResourceRecordSets",
    "route53:GetChange",
)
_PAGE = "100"
_ZONE_PAGE = 300  # ListResourceRecordSets' largest page


@dataclass(frozen=True)
class HostedZone:
    id: str  # without the "/hostedzone/" prefix
    name: str  # absolute, lower case: "example.com."


class AmbiguousZone(Exception):
    """More than one public hosted zone has the name: which one the domain is delegated to is not known."""

    def __init__(self, name: str, zones: Sequence[HostedZone]):
        self.name = name
        self.zones = tuple(zones)
        super().__init__(f"{len(zones)} public hosted zones are named {name} ({', '.join(z.id for z in zones)})")


def _short_id(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _suffixes(name: str) -> list[str]:
    labels = fqdn(name).rstrip(".").split(".")
    return [".".join(labels[i:]) + "." for i in range(len(labels))]


class ZoneFinder:
    """The longest public hosted zone of the account that holds a name (ListHostedZonesByName, cached).

    Private zones are skipped: they answer only inside their VPCs, never
    for the receivers and SES that must see these records.

    Each name costs a call per label (a zone may sit at any of them), and
    Route 53 answers five requests a second: for many names (``prefetch``)
    every zone of the account is listed once instead, 100 a call.
    """

    PREFETCH_ABOVE = 50  # names to look up one by one before listing every zone is cheaper

    def __init__(self, client: Any):
        self._client = client
        self._named: dict[str, list[HostedZone]] = {}
        self._complete = False  # every zone of the account is in _named

    def prefetch(self, names: Sequence[str]) -> None:
        """List every zone once when looking ``names`` up one by one would take more calls."""
        unknown = {s for name in names for s in _suffixes(name) if s not in self._named}
        if self._complete or len(unknown) <= self.PREFETCH_ABOVE:
            return
        everything: dict[str, list[HostedZone]] = {}
        params: dict[str, str] = {"MaxItems": _PAGE}
        while True:
            page = self._client.list_hosted_zones_by_name(**params)
            for zone in page.get("HostedZones", []):
                if not zone.get("Config", {}).get("PrivateZone", False):
                    name = fqdn(zone["Name"])
                    everything.setdefault(name, []).append(HostedZone(id=_short_id(zone["Id"]), name=name))
            if not page.get("IsTruncated") or not page.get("NextDNSName"):
                break
            params = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"], "MaxItems": _PAGE}
        self._named = everything
        self._complete = True

    def find(self, name: str) -> HostedZone | None:
        """Raises AmbiguousZone when two public zones share the longest matching name, ClientError when denied."""
        zones = self.candidates(name)
        if len(zones) > 1:
            raise AmbiguousZone(zones[0].name, zones)
        return zones[0] if zones else None

    def candidates(self, name: str) -> list[HostedZone]:
        """The public zones of the longest name that holds ``name`` (several when twins share it); ClientError
        when denied."""
        for candidate in _suffixes(name):
            zones = self.zones_named(candidate)
            if zones:
                return zones
        return []

    def zones_named(self, name: str) -> list[HostedZone]:
        name = fqdn(name)
        if name not in self._named:
            self._named[name] = [] if self._complete else self._list(name)
        return self._named[name]

    def _list(self, name: str) -> list[HostedZone]:
        # The answer is sorted by name from DNSName on, so zones of exactly this name come first;
        # paging (DNSName + HostedZoneId) only matters when there are more of them than a page holds.
        found: list[HostedZone] = []
        params: dict[str, str] = {"DNSName": name, "MaxItems": _PAGE}
        while True:
            page = self._client.list_hosted_zones_by_name(**params)
            for zone in page.get("HostedZones", []):
                if fqdn(zone["Name"]) == name and not zone.get("Config", {}).get("PrivateZone", False):
                    found.append(HostedZone(id=_short_id(zone["Id"]), name=name))
            next_name = page.get("NextDNSName")
            if not page.get("IsTruncated") or not next_name or fqdn(next_name) != name:
                return found
            params = {"DNSName": next_name, "HostedZoneId": page["NextHostedZoneId"], "MaxItems": _PAGE}


def read_record_sets(client: Any, zone_id: str, name: str) -> tuple[RecordSet, ...]:
    """Every record set at exactly ``name`` in the zone (all types), as Route 53 returns them."""
    name = fqdn(name)
    found: list[RecordSet] = []
    params: dict[str, str] = {"HostedZoneId": zone_id, "StartRecordName": name, "MaxItems": _PAGE}
    while True:
        page = client.list_resource_record_sets(**params)
        sets = page.get("ResourceRecordSets", [])
        found.extend(s for s in sets if fqdn(s["Name"]) == name)
        next_name = page.get("NextRecordName")
        if not page.get("IsTruncated") or not next_name or fqdn(next_name) != name:
            return tuple(found)
        params = {
            "HostedZoneId": zone_id,
            "StartRecordName": next_name,
            "StartRecordType": page["NextRecordType"],
            "MaxItems": _PAGE,
        }
        if page.get("NextRecordIdentifier"):
            params["StartRecordIdentifier"] = page["NextRecordIdentifier"]


@dataclass(frozen=True)
class ZoneDetails:
    """What GetHostedZone says: the name servers the zone was given, and how many record sets it holds."""

    name_servers: tuple[str, ...]  # absolute, lower case
    record_count: int | None


def zone_details(client: Any, zone_id: str) -> ZoneDetails:
    response = client.get_hosted_zone(Id=zone_id)
    servers = (response.get("DelegationSet") or {}).get("NameServers") or []
    count = response.get("HostedZone", {}).get("ResourceRecordSetCount")
    return ZoneDetails(tuple(fqdn(ns) for ns in servers), int(count) if count is not None else None)


def read_snapshot(
    client: Any, zone_id: str, names: Sequence[str], *, record_count: int | None = None
) -> dict[str, tuple[RecordSet, ...]]:
    """The record sets at each name, with as few calls as Route 53's 5 requests a second allow.

    One ``ListResourceRecordSets`` per name, or the whole zone 300 record sets
    a page when that takes fewer calls (``record_count`` from GetHostedZone).
    Both read the same record sets; only the number of calls differs.
    """
    unique = list(dict.fromkeys(fqdn(n) for n in names))
    if record_count is not None and -(-record_count // _ZONE_PAGE) < len(unique):
        whole = read_zone(client, zone_id)
        return {name: whole.get(name, ()) for name in unique}
    return {name: read_record_sets(client, zone_id, name) for name in unique}


def read_zone(client: Any, zone_id: str) -> dict[str, tuple[RecordSet, ...]]:
    """Every record set of the zone, by absolute lower-case name."""
    found: dict[str, list[RecordSet]] = {}
    params: dict[str, str] = {"HostedZoneId": zone_id, "MaxItems": str(_ZONE_PAGE)}
    while True:
        page = client.list_resource_record_sets(**params)
        for record_set in page.get("ResourceRecordSets", []):
            found.setdefault(fqdn(record_set["Name"]), []).append(record_set)
        if not page.get("IsTruncated") or not page.get("NextRecordName"):
            return {name: tuple(sets) for name, sets in found.items()}
        params = {
            "HostedZoneId": zone_id,
            "MaxItems": str(_ZONE_PAGE),
            "StartRecordName": page["NextRecordName"],
            "StartRecordType": page["NextRecordType"],
        }
        if page.get("NextRecordIdentifier"):
            params["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def change_batch(client: Any, zone_id: str, changes: Sequence[Change], *, comment: str) -> str:
    """Apply the batch (Route 53 applies all of it or none); the change id."""
    response = client.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Comment": comment[:256], "Changes": [c.as_api() for c in changes]}
    )
    return _short_id(str(response["ChangeInfo"]["Id"]))


def wait_insync(
    client: Any,
    change_id: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    timeout: float,
    interval: float,
) -> str:
    """Poll GetChange until INSYNC (Route 53's servers all have the change) or ``timeout``; the last status."""
    deadline = clock() + timeout
    while True:
        status = str(client.get_change(Id=change_id)["ChangeInfo"]["Status"])
        if status == "INSYNC" or clock() >= deadline:
            return status
        sleep(min(interval, max(0.0, deadline - clock())))
