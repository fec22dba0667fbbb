"""One setting's value, parsed and checked: the kinds of value ``settings.py`` reads from the environment.

Each parser takes the text and the name of the setting it came from, and
raises ``ConfigError`` naming that setting (never a bare ValueError), so a
broken deployment stops at start-up with a message that says what to fix.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache

ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$")
TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# IAM names are ASCII: a role name is 1-64 of [A-Za-z0-9+=,.@_-], its path 1-512 characters.
ROLE_ARN_RE = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64})$", re.ASCII)
ROLE_NAME_RE = re.compile(r"^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$", re.ASCII)
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
QUEUE_URL_RE = re.compile(r"^https?://[^\s/]+/\d{12}/[A-Za-z0-9_-]{1,80}$")  # http: local stand-ins
# S3 general purpose bucket naming rules (S3 user guide, "Bucket naming rules"): 3-63 characters of
# lower-case letters, digits, dots and hyphens, a letter or digit at each end.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# The shape of a region name, e.g. eu-west-1; the EU sovereign cloud's eusc-de-east-1 has a 4-letter prefix.
REGION_NAME_RE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$")
ACCOUNT_RE = re.compile(r"^\d{12}$", re.ASCII)
# A host name (labels of letters, digits and inner hyphens, no trailing dot) with an optional port.
HOST_RE = re.compile(r"^(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(:\d{1,5})?$", re.ASCII)


# SES allows about 3,600 management calls per account, region and hour. One identity re-check costs up to
# two looks of three calls (GetEmailIdentity and the two batch reads); 200 an hour is at most 1,200 calls,
# a third of the quota, leaving the hourly scan (about 270 calls at 10,000 identities), the CLI and the
# account's own tools the rest.
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


@cache
def ses_regions() -> frozenset[str]:
    """Every region where botocore's endpoint data offers SES (v2), across all partitions.

    A regex cannot know that ``eusc-de-east-1`` is real or that ``xx-east-9``
    is not; botocore's own data can, and it is what the clients will use.
    """
    import botocore.session

    session = botocore.session.get_session()
    found: set[str] = set()
    for partition in session.get_available_partitions():
        found.update(session.get_available_regions("sesv2", partition_name=partition))
    return frozenset(found)


def parse_region(text: str, *, setting: str) -> str:
    region = text.strip()
    if region not in ses_regions():
        raise ConfigError(
            f"{setting}: {text!r} is not a region where SES is offered (botocore knows {len(ses_regions())} "
            "SES regions, e.g. us-east-1, eu-west-1; a brand-new region needs a newer botocore)"
        )
    return region


def parse_role_arn(text: str, *, setting: str) -> str:
    arn = text.strip()
    if not ROLE_ARN_RE.match(arn):
        raise ConfigError(f"{setting}: {text!r} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)")
    return arn


def parse_bucket(text: str, *, setting: str) -> str:
    """An S3 general purpose bucket name, or ConfigError naming ``setting``."""
    name = text.strip()
    problem = ""
    if not BUCKET_RE.match(name):
        problem = "3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit"
    elif ".." in name:
        problem = "no two dots side by side"
    elif re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name):
        problem = "not formatted as an IP address"
    elif name.startswith(BUCKET_RESERVED_PREFIXES) or name.endswith(BUCKET_RESERVED_SUFFIXES):
        problem = "not a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)"
    if problem:
        raise ConfigError(f"{setting}: {text!r} is not an S3 bucket name ({problem}); the bucket name only, no s3://")
    return name


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value) if part]


def parse_dns_account_map(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``DNS_ACCOUNT_MAP``: ``<dns account>=<account>+<account>;...``, ``*`` for every monitored account.

    Read: "Route 53 changes in the DNS account re-check identities of these
    accounts" (besides its own). ``;`` separates entries, ``+`` accounts: a
    CloudFormation String parameter holds it as it is. ConfigError names the
    setting and the entry.
    """
    entries: dict[str, tuple[str, ...]] = {}
    for raw in text.split(";"):
        entry = raw.strip()
        if not entry:
            continue
        source, sep, targets = (part.strip() for part in entry.partition("="))
        served = tuple(dict.fromkeys(t.strip() for t in targets.split("+") if t.strip()))
        problem = ""
        if not sep or not served:
            problem = "expected <DNS account>=<account>+<account>... (or =*)"
        elif not ACCOUNT_RE.match(source):
            problem = f"{source!r} is not a 12-digit account id"
        elif source in entries:
            problem = f"account {source} is named twice"
        elif "*" in served and len(served) > 1:
            problem = "* already means every monitored account: name no other"
        elif any(t != "*" and not ACCOUNT_RE.match(t) for t in served):
            problem = "each account it serves must be a 12-digit account id, or *"
        if problem:
            raise ConfigError(f"DNS_ACCOUNT_MAP: {entry!r}: {problem}")
        entries[source] = served
    return tuple(entries.items())


def parse_webhook_hosts(text: str) -> tuple[str, ...]:
    """``SLACK_WEBHOOK_HOSTS``: more hosts (``name`` or ``name:port``) a Slack webhook URL may name."""
    hosts = []
    for raw in _split(text):
        host = raw.lower()
        if not HOST_RE.match(host) or (":" in host and not 0 < int(host.rsplit(":", 1)[1]) < 65536):
            raise ConfigError(
                f"SLACK_WEBHOOK_HOSTS: {raw!r} is not a host name (name or name:port, no scheme, path or trailing dot)"
            )
        hosts.append(host)
    return tuple(dict.fromkeys(hosts))
