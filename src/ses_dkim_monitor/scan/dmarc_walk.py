"""DMARCbis's DNS tree walk (RFC 9989): which ``_dmarc`` names to ask, and the record that applies.

A walker: it asks its questions through the probe it is given and never the
other way round (the probe knows nothing of DMARC).
"""

from __future__ import annotations

from .dns_answers import Lookup, Outcome
from .dns_probe import DnsProbe
from .parsers import is_dmarc_record

MAX_DMARC_WALK = 8  # DMARCbis (RFC 9989): the DNS tree walk asks at most eight names


def dmarc_candidates(domain: str) -> list[str]:
    """The ``_dmarc`` names DMARCbis's DNS tree walk asks, in order (at most eight).

    First the domain itself; then, if it has more than eight labels, the name
    shortened to seven; then one label fewer each time, down to the top-level
    domain (where a public-suffix operator may publish a ``psd=y`` policy).
    This replaces a public-suffix list: the records themselves say where an
    organisation's domain ends.
    """
    labels = domain.split(".")
    names = [domain]
    for count in range(min(len(labels) - 1, MAX_DMARC_WALK - 1), 0, -1):
        names.append(".".join(labels[-count:]))
    return [f"_dmarc.{name}" for name in names]


async def walk_dmarc(probe: DnsProbe, domain: str) -> tuple[Lookup, tuple[str, ...]]:
    """The first name holding a DMARC record, or the first answer when none does; and the names asked."""
    first: Lookup | None = None
    asked: list[str] = []
    for name in dmarc_candidates(domain):
        found = await probe.query(name, "TXT", confirm=False)
        asked.append(name)
        first = first or found
        if found.outcome is Outcome.ANSWER and any(is_dmarc_record(v) for v in found.values):
            return found, tuple(asked)
        if found.failed:
            return found, tuple(asked)
    assert first is not None
    return first, tuple(asked)
