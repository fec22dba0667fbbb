"""Route 53 in moto as the real service behaves, mirrored into knotd.

moto does not serve DNS, so whatever a test puts in a hosted zone it also
publishes in its knot zone: ``HostedZone.mirror`` copies the hosted zone's
records across (the tests' stand-in for Route 53 propagating a change to its
servers). The knot zone's apex NS are the hosted zone's delegation set
(``GetHostedZone``), as for a domain delegated to it, unless the test says the
zone is not the one DNS serves (``served=False``: a stale duplicate).

Route 53 returns and accepts TXT values with ``\\DDD`` escapes in **octal**; a
zone file reads ``\\DDD`` as **decimal**. The mirror converts, so a byte in
Route 53 is the same byte in knotd.

``route53_limits`` makes moto refuse a ChangeResourceRecordSets request over
Route 53's limits, as Route 53 does (moto enforces none but the first):
1,000 ResourceRecord elements and 32,000 characters of Value, an UPSERT
counting twice, and (older API docs) 100 Change elements.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

MAX_RECORDS = 1000
MAX_VALUE_CHARACTERS = 32_000
MAX_CHANGES = 100


def absolute(rtype: str, value: str) -> str:
    """Route 53 takes CNAME and MX targets as absolute with or without the dot; a zone file does not."""
    if rtype in ("CNAME", "MX", "NS") and not value.endswith("."):
        return value + "."
    return value


def route53_txt_strings(value: str) -> list[bytes]:
    """The character-strings of a TXT value as Route 53 spells it: quoted, ``\\"``, ``\\\\``, octal ``\\DDD``.

    Written here on its own (not imported from the code under test), so a
    mistake there cannot hide in the mirror.
    """
    strings: list[bytes] = []
    current: bytearray | None = None
    i = 0
    while i < len(value):
        ch = value[i]
        if current is None:
            if ch == '"':
                current = bytearray()
            elif not ch.isspace():
                raise ValueError(f"unquoted TXT text in {value!r}")
            i += 1
            continue
        if ch == '"':
            strings.append(bytes(current))
            current = None
        elif ch == "\\":
            octal = value[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal):
                current.append(int(octal, 8))
                i += 3
            else:
                current += value[i + 1].encode()
                i += 1
        else:
            current += ch.encode()
        i += 1
    if current is not None:
        raise ValueError(f"unterminated TXT string in {value!r}")
    return strings


def zone_file_value(rtype: str, value: str) -> str:
    """A Route 53 value as a zone file line wants it (TXT through dnspython: decimal escapes)."""
    if rtype in ("TXT", "SPF"):
        rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, route53_txt_strings(value))
        return rdata.to_text()
    return absolute(rtype, value)


class HostedZone:
    """One zone in moto's Route 53 and in knotd, with the same records."""

    def __init__(
        self,
        route53: Any,
        knot: Any,
        name: str,
        records: list[tuple[str, str, int, list[str]]],
        *,
        served: bool = True,
        caller_reference: str = "",
    ):
        """``served=False``: DNS names other servers for the apex (a zone a migration left behind)."""
        self.route53, self.knot, self.name = route53, knot, name.rstrip(".")
        created = route53.create_hosted_zone(Name=self.name, CallerReference=caller_reference or f"test-{self.name}")
        self.id = created["HostedZone"]["Id"]
        self.name_servers = [absolute("NS", ns) for ns in created["DelegationSet"]["NameServers"]]
        self.served = served
        if records:
            route53.change_resource_record_sets(
                HostedZoneId=self.id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "CREATE",
                            "ResourceRecordSet": {
                                "Name": self.fqdn(name),
                                "Type": rtype,
                                "TTL": ttl,
                                "ResourceRecords": [{"Value": v} for v in values],
                            },
                        }
                        for name, rtype, ttl, values in records
                    ]
                },
            )
        self.mirror()

    @property
    def short_id(self) -> str:
        return str(self.id).rsplit("/", 1)[-1]

    def fqdn(self, relative: str) -> str:
        return f"{relative}.{self.name}." if relative != "@" else f"{self.name}."

    def record_sets(self) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
        """Everything in the hosted zone, comparable: (name, type, ttl, sorted values)."""
        sets: list[dict[str, Any]] = []
        params: dict[str, Any] = {"HostedZoneId": self.id, "MaxItems": "300"}
        while True:
            page = self.route53.list_resource_record_sets(**params)
            sets += page["ResourceRecordSets"]
            if not page.get("IsTruncated"):
                break
            params = {
                "HostedZoneId": self.id,
                "MaxItems": "300",
                "StartRecordName": page["NextRecordName"],
                "StartRecordType": page["NextRecordType"],
            }
        return sorted(
            (
                s["Name"],
                s["Type"],
                s.get("TTL"),
                tuple(sorted(absolute(s["Type"], r["Value"]) for r in s["ResourceRecords"])),
            )
            for s in sets
        )

    def mirror(self, *_: object) -> None:
        """Publish the hosted zone's records in knotd (the 'wait for DNS' hook); the apex NS as DNS names them."""
        apex = f"{self.name}."
        lines = [
            f"{name} {ttl} {rtype} {zone_file_value(rtype, value)}"
            for name, rtype, ttl, values in self.record_sets()
            if not (name == apex and rtype in ("SOA", "NS"))  # a delegation below the apex is mirrored
            for value in values
        ]
        servers = self.name_servers if self.served else [f"ns1.elsewhere-dns.{self.name}.", "ns2.other-dns.net."]
        saved = self.knot.ns
        self.knot.ns = "".join(f"@ NS {ns}\n" for ns in servers)  # the zone's header, as knot.py writes it
        try:
            self.knot.set_zone(self.name, "\n".join(lines))
        finally:
            self.knot.ns = saved

    def upsert(self, name: str, rtype: str, ttl: int, values: list[str]) -> None:
        self.change("UPSERT", name, rtype, ttl, values)

    def change(self, action: str, name: str, rtype: str, ttl: int, values: list[str]) -> dict[str, Any]:
        """One change through the Route 53 API, as a user makes it; returns the API's ChangeInfo."""
        response = self.route53.change_resource_record_sets(
            HostedZoneId=self.id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": action,
                        "ResourceRecordSet": {
                            "Name": self.fqdn(name),
                            "Type": rtype,
                            "TTL": ttl,
                            "ResourceRecords": [{"Value": v} for v in values],
                        },
                    }
                ]
            },
        )
        info: dict[str, Any] = response["ChangeInfo"]
        return info


@dataclass(frozen=True)
class BatchSize:
    """What one ChangeResourceRecordSets request carried, counted as Route 53 counts it."""

    changes: int
    records: int  # ResourceRecord elements, an UPSERT's twice
    characters: int  # of all Value elements, an UPSERT's twice
    accepted: bool


@dataclass
class Route53Limits:
    """Every ChangeResourceRecordSets request moto received while the limits were enforced."""

    requests: list[BatchSize] = field(default_factory=list)

    @property
    def accepted(self) -> list[BatchSize]:
        return [r for r in self.requests if r.accepted]


def batch_size(changes: list[dict[str, Any]], *, accepted: bool = True) -> BatchSize:
    records = characters = 0
    for change in changes:
        values = [str(r["Value"]) for r in change["ResourceRecordSet"].get("ResourceRecords") or []]
        weight = 2 if change["Action"] == "UPSERT" else 1
        records += weight * len(values)
        characters += weight * sum(len(v) for v in values)
    return BatchSize(len(changes), records, characters, accepted)


@contextlib.contextmanager
def route53_limits(
    *, max_changes: int | None = MAX_CHANGES, after_accepted: Callable[[int], None] | None = None
) -> Iterator[Route53Limits]:
    """Make moto's Route 53 refuse a change batch over the limits, with ``InvalidChangeBatch`` (HTTP 400).

    Wraps the backend method in the test process (the moto server runs in it),
    as tests/support/throttling.py wraps SES; restored on exit.
    ``after_accepted(n)`` runs once the n-th request is applied, before its
    answer leaves: what someone else does between two batches.
    """
    from moto.route53.exceptions import Route53ClientError
    from moto.route53.models import Route53Backend

    class InvalidChangeBatch(Route53ClientError):
        code = "InvalidChangeBatch"

    seen = Route53Limits()
    original = Route53Backend.change_resource_record_sets

    @functools.wraps(original)
    def limited(self: Any, zoneid: str, change_list: list[dict[str, Any]]) -> None:
        size = batch_size(change_list)
        problem = ""
        if size.records > MAX_RECORDS:
            problem = f"Number of records limit of {MAX_RECORDS} exceeded."
        elif size.characters > MAX_VALUE_CHARACTERS:
            problem = f"Number of characters limit of {MAX_VALUE_CHARACTERS} exceeded."
        elif max_changes is not None and size.changes > max_changes:
            problem = f"Number of changes limit of {max_changes} exceeded."
        seen.requests.append(BatchSize(size.changes, size.records, size.characters, not problem))
        if problem:
            raise InvalidChangeBatch(problem)
        original(self, zoneid, change_list)
        if after_accepted is not None:
            after_accepted(len(seen.accepted))

    Route53Backend.change_resource_record_sets = limited  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Route53Backend.change_resource_record_sets = original  # type: ignore[method-assign]
