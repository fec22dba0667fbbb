"""A Route 53 hosted zone in moto, mirrored into knotd.

moto does not serve DNS, so whatever a test puts in a hosted zone it also
publishes in its knot zone: ``mirror`` copies the hosted zone's records across
(the tests' stand-in for Route 53 propagating a change to its servers).
"""

from __future__ import annotations

from typing import Any


def absolute(rtype: str, value: str) -> str:
    """Route 53 takes CNAME and MX targets as absolute with or without the dot; a zone file does not."""
    if rtype in ("CNAME", "MX") and not value.endswith("."):
        return value + "."
    return value


class HostedZone:
    """One zone in moto's Route 53 and in knotd, with the same records."""

    def __init__(self, route53: Any, knot: Any, name: str, records: list[tuple[str, str, int, list[str]]]):
        self.route53, self.knot, self.name = route53, knot, name.rstrip(".")
        self.id = route53.create_hosted_zone(Name=self.name, CallerReference=f"test-{self.name}")["HostedZone"]["Id"]
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

    def fqdn(self, relative: str) -> str:
        return f"{relative}.{self.name}." if relative != "@" else f"{self.name}."

    def record_sets(self) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
        """Everything in the hosted zone, comparable: (name, type, ttl, sorted values)."""
        sets = self.route53.list_resource_record_sets(HostedZoneId=self.id, MaxItems="300")["ResourceRecordSets"]
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
        """Publish the hosted zone's records (but its SOA and NS) in knotd: the 'wait for DNS' hook."""
        lines = [
            f"{name} {ttl} {rtype} {value}"
            for name, rtype, ttl, values in self.record_sets()
            if rtype not in ("SOA", "NS")
            for value in values
        ]
        self.knot.set_zone(self.name, "\n".join(lines))

    def upsert(self, name: str, rtype: str, ttl: int, values: list[str]) -> None:
        self.route53.change_resource_record_sets(
            HostedZoneId=self.id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
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
