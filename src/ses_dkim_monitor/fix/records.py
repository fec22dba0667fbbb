"""Record values as DNS, Route 53 and web forms spell them, and comparing them.

One record reaches this package in several spellings: the finding's
(``abc.dkim.amazonses.com.``, ``"v=spf1 include:amazonses.com ~all"``), the
probe's (lower case, no trailing dot, TXT strings joined without quotes),
Route 53's (whatever was typed, with or without the dot, TXT quoted and split
into strings of at most 255 bytes, other bytes as **octal** escapes), a zone
file's (decimal escapes). Inside this package a TXT value is spelled as
Route 53 spells it; ``zone_file_value`` turns it into a BIND line's spelling.
``same_value`` compares what two spellings mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT

DEFAULT_TTL = 300  # for records the plan creates where none stood before
_TXT_CHUNK = 255  # bytes per TXT character-string (RFC 1035 section 3.3)
NAME_VALUED_TYPES = frozenset({"CNAME", "NS", "PTR"})


def fqdn(name: str) -> str:
    """``name`` lower-cased with exactly one trailing dot."""
    return name.strip().rstrip(".").lower() + "."


def is_within(name: str, zone: str) -> bool:
    """Whether ``name`` is ``zone`` or a name below it."""
    name, zone = fqdn(name), fqdn(zone)
    return name == zone or name.endswith("." + zone)


def relative_host(name: str, zone: str) -> str:
    """The host as a web form that appends the zone wants it: ``abc._domainkey``, or ``@`` for the apex."""
    name, zone = fqdn(name), fqdn(zone)
    if name == zone:
        return "@"
    if not name.endswith("." + zone):
        return name.rstrip(".")
    return name[: -len(zone) - 1]


def txt_value(text: str) -> str:
    """TXT text as Route 53 wants it: quoted, escaped, split into strings of at most 255 bytes."""
    raw = text.encode()
    return route53_txt([raw[i : i + _TXT_CHUNK] for i in range(0, len(raw), _TXT_CHUNK)] or [b""])


def route53_txt(strings: Sequence[bytes]) -> str:
    """Character-strings spelled as Route 53 reads and returns a TXT value (its developer guide, "TXT record
    type"): each string quoted, ``\\"`` and ``\\\\`` escaped, bytes outside printable ASCII as ``\\`` and
    three **octal** digits (``é`` is ``\\303\\251``). A zone file reads ``\\DDD`` as decimal: see ``zone_file_txt``.
    """
    return " ".join('"' + _escape(chunk) + '"' for chunk in strings)


def _escape(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def route53_strings(value: str) -> list[bytes]:
    """The character-strings of a TXT value in Route 53's spelling (octal escapes); text that is not quoted
    (the probe's joined text) is one string as it is.

    Parsed here rather than by dnspython, which reads escapes as decimal and
    refuses a string over 255 bytes.
    """
    stripped = value.strip()
    if not stripped.startswith('"'):
        return [stripped.encode()]
    strings: list[bytes] = []
    current: bytearray | None = None
    i = 0
    while i < len(stripped):
        ch = stripped[i]
        if current is None:
            if ch == '"':
                current = bytearray()
        elif ch == '"':
            strings.append(bytes(current))
            current = None
        elif ch == "\\" and i + 1 < len(stripped):
            digits = stripped[i + 1 : i + 4]
            if len(digits) == 3 and all(d in "01234567" for d in digits):
                current.append(int(digits, 8))
                i += 3
            else:
                current += stripped[i + 1].encode()
                i += 1
        else:
            current += ch.encode()
        i += 1
    if current is not None:  # an unterminated string: keep what it holds
        strings.append(bytes(current))
    return strings


def txt_text(value: str) -> str:
    """The text a TXT value holds: its strings joined, unquoted; a value that is not quoted is taken as it is.

    Decoded as the probe decodes what DNS answers (UTF-8, undecodable bytes
    as ``\\xNN``), so a value from Route 53 compares with one from DNS.
    """
    return b"".join(route53_strings(value)).decode("utf-8", errors="backslashreplace")


def zone_file_txt(strings: Sequence[bytes]) -> str:
    """Character-strings as a zone file (a BIND line) spells them: dnspython's presentation, each string
    quoted, escapes in **decimal** (``\\195\\169``). A string over 255 bytes (the probe's joined text)
    is shown in pieces of 255."""
    pieces = [s[i : i + _TXT_CHUNK] for s in strings for i in range(0, max(len(s), 1), _TXT_CHUNK)] or [b""]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, pieces).to_text()


def normal_value(rtype: str, value: str) -> str:
    """A value to publish, spelled for Route 53 and zone files: TXT quoted in strings of at most 255 bytes."""
    return txt_value(txt_text(value)) if rtype.upper() == "TXT" else value.strip()


def without_dot(value: str) -> str:
    """A CNAME target or MX exchange without its trailing dot (the spelling some web forms insist on)."""
    return value.rstrip(".")


def _mx(value: str) -> tuple[str, str]:
    preference, _, host = value.strip().partition(" ")
    return preference.strip(), fqdn(host) if host.strip() else ""


def same_value(rtype: str, a: str, b: str) -> bool:
    """Whether two spellings of a value of type ``rtype`` mean the same record."""
    rtype = rtype.upper()
    if rtype in NAME_VALUED_TYPES:
        return fqdn(a) == fqdn(b)
    if rtype == "MX":
        return _mx(a) == _mx(b)
    if rtype in ("TXT", "SPF"):
        return txt_text(a) == txt_text(b)
    return a.strip().lower() == b.strip().lower()


def spf_with_ses(text: str) -> str:
    """An SPF record with ``include:amazonses.com`` added right after ``v=spf1``, everything else kept.

    Two SPF records at one name make SPF fail (permerror, RFC 7208 section
    4.5), so SES is added to the existing record instead of publishing a second.
    An ``include:amazonses.com`` written after ``all`` is never evaluated by
    receivers (RFC 7208 section 5.1): it moves to the front with the others.
    """
    terms = text.split()
    rest = [t for t in terms[1:] if t.lower().rstrip(".") not in ("include:amazonses.com", "+include:amazonses.com")]
    return " ".join([terms[0], "include:amazonses.com", *rest])


def zone_file_value(rtype: str, value: str) -> str:
    """A value in this package's (Route 53's) spelling as a zone file spells it: TXT escapes in decimal."""
    return zone_file_txt(route53_strings(value)) if rtype.upper() in ("TXT", "SPF") else value


def bind_line(name: str, ttl: int, rtype: str, value: str) -> str:
    """One zone-file line with an absolute owner name, for providers that import BIND files; ``value`` in
    zone-file spelling."""
    return f"{fqdn(name)} {ttl} IN {rtype} {value}"
