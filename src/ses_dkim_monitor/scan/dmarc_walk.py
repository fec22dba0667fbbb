"""DMARCbis's DNS tree walk (RFC 9989): which ``_dmarc`` names to ask, and the record that applies.

A walker: it asks its questions through the probe it is given and never the
other way round (the probe knows nothing of DMARC).
"""

from __future__ import annotations

from .dns_answers import Lookup, Outcome
from .dns_probe import DnsProbe
from .parsers import is_dmarc_record, looks_like_dmarc

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


async def walk_dmarc(probe: DnsProbe, domain: str) -> tuple[Lookup, tuple[str, ...], tuple[Lookup, ...]]:
    """The record that applies, the names asked, and the answers walked past.

    A name applies when it holds exactly one DMARC record. Receivers discard
    what is not one (``v=dmarc1``, `` v=DMARC1``) and a name holding several,
    and walk on (RFC 9989 section 4.10); those answers are returned third, so
    the checks can say what was discarded. When nothing applies, the first
    answer that held several records, or else the first answer, comes first.
    A lookup that fails ends the walk: receivers cannot go on either.
    """
    first: Lookup | None = None
    asked: list[str] = []
    passed: list[Lookup] = []
    for name in dmarc_candidates(domain):
        found = await probe.query(name, "TXT", confirm=False)
        asked.append(name)
        first = first or found
        if found.failed:
            return found, tuple(asked), tuple(passed)
        values = found.values if found.outcome is Outcome.ANSWER else ()
        count = sum(is_dmarc_record(v) for v in values)
        if count == 1:
            return found, tuple(asked), tuple(passed)
        if count > 1 or any(looks_like_dmarc(v) for v in values):
            passed.append(found)
    assert first is not None
    several = [lk for lk in passed if sum(is_dmarc_record(v) for v in lk.values) > 1]
    return (several[0] if several else first), tuple(asked), tuple(passed)
