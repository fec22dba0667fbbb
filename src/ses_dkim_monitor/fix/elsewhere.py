"""For zones outside Route 53: the zone apex from SOA, and each record as a provider's web form wants it.

Most DNS providers' forms append the zone to the host typed in, and many
append it to a target that does not end with a dot: typing the full name
gives ``abc._domainkey.example.com.example.com`` (the ``doubled-domain``
cause) and typing the target without its dot gives
``abc.dkim.amazonses.com.example.com`` (``target-missing-dot``). So the host
is given relative to the zone apex, which only SOA tells reliably (a
``co.uk``-style suffix or a delegated subdomain defeat guessing), and the
value with its trailing dot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from .. import catalogue as c
from ..i18n import _
from ..scan.parsers import is_spf_record
from .records import DEFAULT_TTL, bind_line, fqdn, relative_host, txt_text, without_dot, zone_file_value
from .safety import is_copy
from .triage import DOUBLED_DOMAIN, PUBLISHED_AS_TXT, TARGET_MISSING_DOT, Owner, RecordFix


@dataclass(frozen=True)
class Apex:
    name: str | None  # absolute, or None when SOA could not be read
    error: str = ""
    nameservers: tuple[str, ...] = ()  # the apex's NS hosts (sorted): who serves the zone, for the form's advice


@dataclass(frozen=True, kw_only=True)
class Instruction:
    action: str  # "add", "change" (replace the value of the record at that host) or "delete"
    owner: Owner
    check: str
    cause: str
    zone_apex: str | None
    name: str  # absolute
    host: str  # as a form that appends the zone wants it
    type: str
    value: str  # zone-file spelling: names with their trailing dot, TXT quoted
    value_without_dot: str
    form_value: str  # what to type in the form's value field
    ttl: int
    bind: str
    note: str = ""
    nameservers: tuple[str, ...] = ()  # the zone's NS hosts: the provider whose form the record is typed into


IN_FLIGHT = 20  # queries at once: thousands at once lose packets on a real resolver (docs: testbed)


def find_apexes(resolver: Any, names: Sequence[str]) -> dict[str, Apex]:
    """The zone apex of each name, through ``resolver`` (an ``dns.asyncresolver.Resolver``)."""

    async def all_of() -> list[Apex]:
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(name: str) -> Apex:
            async with gate:
                apex = await zone_apex(resolver, name)
            if apex.name is None:
                return apex
            async with gate:
                return replace(apex, nameservers=await nameservers_of(resolver, apex.name))

        return list(await asyncio.gather(*(one(n) for n in unique)))

    unique = list(dict.fromkeys(fqdn(n) for n in names))
    return dict(zip(unique, asyncio.run(all_of()), strict=True)) if unique else {}


async def zone_apex(resolver: Any, name: str) -> Apex:
    """Ask SOA for the name and walk up: the first SOA (answer or authority) owning one of them is the apex.

    An SOA whose owner is not the name or one of its parents is ignored: a
    CNAME at the name leads a recursive resolver into the target's zone
    (``dkim.amazonses.com``), which says nothing about the name's own zone.
    A referral (NS of a parent of the name in the authority section, no SOA)
    names the delegated zone the name lives in: its apex is the NS owner.
    """
    qname = dns.name.from_text(fqdn(name))
    candidate = qname
    while True:
        try:
            answer = await resolver.resolve(candidate, "SOA", raise_on_no_answer=False, search=False)
            response: dns.message.Message | None = answer.response
        except dns.resolver.NXDOMAIN as exc:
            response = _nxdomain_response(exc)
        except dns.exception.Timeout:
            return Apex(None, _("{type} {name} timed out").format(type="SOA", name=candidate))
        except dns.resolver.NoNameservers:
            return Apex(
                None, _("{type} {name}: no server answered (SERVFAIL or REFUSED)").format(type="SOA", name=candidate)
            )
        except (dns.exception.DNSException, OSError) as exc:
            return Apex(None, f"SOA {candidate}: {type(exc).__name__}")
        if response is not None:
            for section in (response.answer, response.authority):
                for rrset in section:
                    if rrset.rdtype == dns.rdatatype.SOA and candidate.is_subdomain(rrset.name):
                        return Apex(rrset.name.to_text().lower())
            # No SOA, but a referral (an authoritative server of a parent zone asked directly): the name
            # lives in the zone delegated at the NS owner, whose apex that owner is.
            cuts = [
                rrset.name
                for rrset in response.authority
                if rrset.rdtype == dns.rdatatype.NS and candidate.is_subdomain(rrset.name)
            ]
            if cuts:
                return Apex(max(cuts, key=len).to_text().lower())
        if candidate == dns.name.root or len(candidate) <= 2:
            return Apex(None, _("no SOA found for {name} or a parent").format(name=name))
        candidate = candidate.parent()


async def nameservers_of(resolver: Any, apex: str) -> tuple[str, ...]:
    """The apex's NS hosts, sorted (none when NS does not answer): who serves the zone."""
    try:
        answer = await resolver.resolve(dns.name.from_text(apex), "NS", raise_on_no_answer=False, search=False)
    except (dns.exception.DNSException, OSError):
        return ()
    if answer.rrset is None:
        return ()
    return tuple(sorted({rdata.target.to_text(omit_final_dot=True).lower() for rdata in answer.rrset}))


def reread_txt(resolver: Any, names: Sequence[str]) -> dict[str, list[tuple[bytes, ...]] | str]:
    """The TXT records at each name as DNS serves them, every string of each (or why they could not be read).

    A record moved from the doubled name to a zone outside Route 53 is
    printed from these, byte for byte, never from a finding's display text.
    """

    async def one(name: str) -> list[tuple[bytes, ...]] | str:
        try:
            answer = await resolver.resolve(dns.name.from_text(name), "TXT", raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return _("{type} {name}: no such name").format(type="TXT", name=name)
        except dns.exception.Timeout:
            return _("{type} {name} timed out").format(type="TXT", name=name)
        except dns.resolver.NoNameservers:
            return _("{type} {name}: no server answered (SERVFAIL or REFUSED)").format(type="TXT", name=name)
        except (dns.exception.DNSException, OSError) as exc:
            return f"TXT {name}: {type(exc).__name__}"
        if answer.rrset is None:
            return _("{type} {name}: no TXT record").format(type="TXT", name=name)
        return [tuple(rdata.strings) for rdata in answer.rrset]

    async def all_of() -> list[list[tuple[bytes, ...]] | str]:
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def gated(name: str) -> list[tuple[bytes, ...]] | str:
            async with gate:
                return await one(name)

        return list(await asyncio.gather(*(gated(n) for n in unique)))

    unique = list(dict.fromkeys(fqdn(n) for n in names))
    return dict(zip(unique, asyncio.run(all_of()), strict=True)) if unique else {}


def _nxdomain_response(exc: dns.resolver.NXDOMAIN) -> dns.message.Message | None:
    responses = exc.responses()
    return next(iter(responses.values()), None) if responses else None


def instructions(fix: RecordFix, apex: Apex) -> list[Instruction]:
    """What to do at the provider for one fix: delete the misplaced record first, then add or change. A TXT
    copied from the doubled name is not deleted: it is left in place, by hand as by --apply (safety.py)."""
    out: list[Instruction] = []
    if fix.remove is not None and not is_copy(fix):
        out.append(_instruction("delete", fix, fix.remove.name, fix.remove.type, fix.remove.value, apex, TTL_UNKNOWN))
    action = "change" if fix.check == c.DKIM_RECORD_WRONG_TARGET and fix.remove is None else "add"
    out.append(_instruction(action, fix, fix.publish.name, fix.publish.type, fix.publish.value, apex, DEFAULT_TTL))
    return out


TTL_UNKNOWN = 0  # a record to delete: its TTL does not matter


def _instruction(action: str, fix: RecordFix, name: str, rtype: str, value: str, apex: Apex, ttl: int) -> Instruction:
    if rtype in ("CNAME", "MX", "NS"):
        with_dot = value.strip().rstrip(".") + "."
        form_value = with_dot
    else:
        with_dot = zone_file_value(rtype, value)  # a zone file reads TXT escapes as decimal, Route 53 as octal
        form_value = txt_text(value) if rtype == "TXT" else value
    host = relative_host(name, apex.name) if apex.name else name.rstrip(".")
    return Instruction(
        action=action,
        owner=fix.owner,
        check=fix.check,
        cause=fix.cause,
        zone_apex=apex.name,
        name=fqdn(name),
        host=host,
        type=rtype,
        value=with_dot,
        value_without_dot=without_dot(with_dot) if rtype in ("CNAME", "MX", "NS") else with_dot,
        form_value=form_value,
        ttl=ttl,
        bind=bind_line(name, ttl or DEFAULT_TTL, rtype, with_dot) if action != "delete" else "",
        note=_note(action, fix, rtype, value, host, apex),
        nameservers=apex.nameservers,
    )


def _note(action: str, fix: RecordFix, rtype: str, value: str, host: str, apex: Apex) -> str:
    if apex.name is None:
        return _("zone apex unknown ({error}): enter the host relative to your zone").format(error=apex.error)
    if action == "delete":
        if fix.cause == DOUBLED_DOMAIN:
            return _(
                "the provider appended its zone to the host typed in: the form shows this record's host as {host}"
            ).format(host=host)
        if fix.cause == TARGET_MISSING_DOT:
            shown = without_dot(value)
            if shown.endswith("." + apex.name.rstrip(".")):
                shown = shown[: -len(apex.name)]
            return _(
                "its target was typed without the trailing dot and the provider appended the zone; the form may show "
                "the target as {shown}"
            ).format(shown=shown)
        if fix.cause == PUBLISHED_AS_TXT:
            return _("a {type} record stands where the CNAME belongs").format(type=rtype)
        return ""
    if rtype == "TXT" and is_spf_record(txt_text(value)):
        return _(
            "if this host already has an SPF record (v=spf1 ...), add include:amazonses.com to it instead: two SPF "
            "records make SPF fail"
        )
    if rtype == "MX":
        preference, _sep, exchange = value.partition(" ")
        return _("priority {preference}, mail server {exchange}.").format(
            preference=preference, exchange=exchange.rstrip(".")
        )
    return ""
