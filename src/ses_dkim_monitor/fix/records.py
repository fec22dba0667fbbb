"""Record values as DNS, Route 53 and web forms spell them, and comparing them.

One record reaches this package in several spellings: the finding's
(``abc.dkim.amazonses.com.``, ``"v=spf1 include:amazonses.com ~all"``), the
probe's (lower case, no trailing dot, TXT strings joined without quotes),
Route 53's (whatever was typed, with or without the dot, TXT quoted and split
into strings of at most 255 bytes). ``same_value`` compares what they mean.
"""

from __future__ import annotations

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
    """TXT text as a zone file and Route 53 want it: quoted, escaped, split into strings of at most 255 bytes."""
    raw = text.encode()
    chunks = [raw[i : i + _TXT_CHUNK] for i in range(0, len(raw), _TXT_CHUNK)] or [b""]
    return " ".join('"' + _escape(chunk) + '"' for chunk in chunks)


def _escape(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def txt_text(value: str) -> str:
    """The text a TXT value holds: its strings joined, unquoted; a value that is not quoted is taken as it is.

    Parsed here rather than by dnspython, which refuses a string over 255
    bytes: a finding may quote a long key as one string.
    """
    stripped = value.strip()
    if not stripped.startswith('"'):
        return stripped
    out = bytearray()
    i, quoted = 0, False
    raw = stripped.encode()
    while i < len(raw):
        ch = raw[i]
        if ch == 0x22:  # "
            quoted = not quoted
        elif ch == 0x5C and i + 1 < len(raw):  # \
            digits = raw[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit() and int(digits) < 256:
                out.append(int(digits))
                i += 3
            else:
                out.append(raw[i + 1])
                i += 1
        elif quoted:
            out.append(ch)
        i += 1
    return out.decode("utf-8", errors="backslashreplace")


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


def is_dmarc(text: str) -> bool:
    return text.replace(" ", "").lower().startswith("v=dmarc1")


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def spf_authorises_ses(text: str) -> bool:
    return is_spf(text) and "include:amazonses.com" in text.lower().split()


def spf_with_ses(text: str) -> str:
    """An SPF record with ``include:amazonses.com`` added right after ``v=spf1``, everything else kept.

    Two SPF records at one name make SPF fail (permerror, RFC 7208 section
    4.5), so SES is added to the existing record instead of publishing a second.
    """
    terms = text.split()
    return " ".join([terms[0], "include:amazonses.com", *terms[1:]])


def bind_line(name: str, ttl: int, rtype: str, value: str) -> str:
    """One zone-file line with an absolute owner name, for providers that import BIND files."""
    return f"{fqdn(name)} {ttl} IN {rtype} {value}"
