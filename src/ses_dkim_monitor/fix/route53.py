"""Route 53 adapter for ``fix``: find a name's hosted zone, read record sets, apply one batch, wait for INSYNC.

CLI only: these calls are never granted to the Lambda's role. The client is
built by the composition root (``command.py``) and passed in.
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
    "route53:ListResourceRecordSets",
    "route53:ChangeResourceRecordSets",
    "route53:GetChange",
)
_PAGE = "100"


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
    """

    def __init__(self, client: Any):
        self._client = client
        self._named: dict[str, list[HostedZone]] = {}

    def find(self, name: str) -> HostedZone | None:
        """Raises AmbiguousZone when two public zones share the longest matching name, ClientError when denied."""
        for candidate in _suffixes(name):
            zones = self.zones_named(candidate)
            if len(zones) > 1:
                raise AmbiguousZone(candidate, zones)
            if zones:
                return zones[0]
        return None

    def zones_named(self, name: str) -> list[HostedZone]:
        name = fqdn(name)
        if name not in self._named:
            self._named[name] = self._list(name)
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


def read_snapshot(client: Any, zone_id: str, names: Sequence[str]) -> dict[str, tuple[RecordSet, ...]]:
    return {fqdn(n): read_record_sets(client, zone_id, n) for n in dict.fromkeys(fqdn(n) for n in names)}


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
