"""Configuration, parsed once into a frozen object that fails fast.

Only this module reads the environment, and only when ``Settings.from_env``
is called by a composition root (the Lambda handler or the CLI). A missing or
malformed value raises ``ConfigError`` naming the variable, so a broken
deployment stops at start-up instead of scanning with a half-read config.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .models import Severity

REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")
TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ConfigError(ValueError):
    """A setting is missing or malformed. The message names the setting."""


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_nameserver(text: str, *, setting: str) -> Nameserver:
    """Parse ``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address."""
    raw = text.strip()
    host, port = raw, "53"
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"{setting}: {text!r} is not IP[:PORT]")
        port = rest[1:] or "53"
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise ConfigError(f"{setting}: {text!r} is not an IP address (IP[:PORT]; names are not accepted)") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{setting}: {text!r} has an invalid port")
    return Nameserver(address, int(port))


def parse_region(text: str, *, setting: str) -> str:
    region = text.strip()
    if not REGION_RE.match(region):
        raise ConfigError(f"{setting}: {text!r} is not an AWS region name (e.g. us-east-1)")
    return region


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value) if part]


@dataclass(frozen=True, kw_only=True)
class Settings:
    regions: tuple[str, ...]
    nameservers: tuple[Nameserver, ...] = ()
    dns_timeout: float = 2.0
    dns_lifetime: float = 6.0
    dns_max_in_flight: int = 50
    check_dmarc: bool = True
    # Alerting; empty means the channel or the state store is not configured.
    state_table: str = ""
    topic_arn: str = ""
    slack_secret_arn: str = ""
    reminder_hours: float = 24.0
    min_severity: Severity = Severity.WARNING
    unknown_runs_threshold: int = 3
    digest_threshold: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def get(name: str) -> str:
            return env.get(name, "").strip()

        def number(name: str, default: float, *, minimum: float, kind: type = float) -> float:
            raw = get(name)
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigError(f"{name}: {raw!r} is not a {'whole ' if kind is int else ''}number") from None
            if value < minimum:
                raise ConfigError(f"{name}: {raw!r} must be at least {minimum}")
            return value

        def arn(name: str, service: str) -> str:
            raw = get(name)
            if raw and (not ARN_RE.match(raw) or raw.split(":")[2] != service):
                raise ConfigError(f"{name}: {raw!r} is not an {service} ARN")
            return raw

        region_names = _split(get("SCAN_REGIONS")) or [
            r for r in (get("AWS_REGION") or get("AWS_DEFAULT_REGION"),) if r
        ]
        if not region_names:
            raise ConfigError("SCAN_REGIONS: no region to scan (set SCAN_REGIONS or AWS_REGION)")
        regions = tuple(dict.fromkeys(parse_region(r, setting="SCAN_REGIONS") for r in region_names))
        nameservers = tuple(parse_nameserver(n, setting="DNS_NAMESERVERS") for n in _split(get("DNS_NAMESERVERS")))

        severity_raw = get("MIN_ALERT_SEVERITY").lower() or "warning"
        try:
            min_severity = Severity(severity_raw)
        except ValueError:
            raise ConfigError(f"MIN_ALERT_SEVERITY: {severity_raw!r} is not one of critical, warning, info") from None

        table = get("STATE_TABLE_NAME")
        if table and not TABLE_RE.match(table):
            raise ConfigError(f"STATE_TABLE_NAME: {table!r} is not a DynamoDB table name")

        dmarc_raw = get("CHECK_DMARC").lower() or "true"
        if dmarc_raw not in ("true", "false"):
            raise ConfigError(f"CHECK_DMARC: {dmarc_raw!r} is not true or false")

        timeout = number("DNS_TIMEOUT_SECONDS", 2.0, minimum=0.1)
        lifetime = number("DNS_LIFETIME_SECONDS", max(6.0, timeout), minimum=timeout)
        return cls(
            regions=regions,
            nameservers=nameservers,
            dns_timeout=timeout,
            dns_lifetime=lifetime,
            dns_max_in_flight=int(number("DNS_MAX_IN_FLIGHT", 50, minimum=1, kind=int)),
            check_dmarc=dmarc_raw == "true",
            state_table=table,
            topic_arn=arn("ALERT_TOPIC_ARN", "sns"),
            slack_secret_arn=arn("SLACK_WEBHOOK_SECRET_ARN", "secretsmanager"),
            reminder_hours=number("REMINDER_HOURS", 24.0, minimum=0.01),
            min_severity=min_severity,
            unknown_runs_threshold=int(number("UNKNOWN_RUNS_THRESHOLD", 3, minimum=1, kind=int)),
            digest_threshold=int(number("DIGEST_THRESHOLD", 10, minimum=1, kind=int)),
        )
