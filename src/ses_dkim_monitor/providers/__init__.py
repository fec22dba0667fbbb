"""The DNS provider that serves a zone, and its record form's own conventions.

Recognised from the zone's NS host names (``identify``, ``served_by``,
``from_ns_lookup``); ``form_entry`` and ``repair`` then say exactly what to
type in that provider's form. Pure: no DNS, no AWS. Every convention is a fact
with its source in ``catalogue.py`` (and docs/providers.md, generated from it);
what nobody could source is unknown and says so.

The rule for NS sets: a zone is attributed to a provider only when every one
of its name servers matches that provider's patterns and no other's. A zone
whose NS mix two providers (mid-migration, or a secondary elsewhere) or name
a server no pattern knows is attributed to none: advice for one form would be
wrong for the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .catalogue import PROVIDERS
from .forms import FormEntry, Repair, form_entry, repair, txt_text
from .model import (
    Fact,
    FieldLabels,
    FormLabels,
    HostForm,
    Provider,
    Source,
    TargetForm,
    TxtQuotes,
    TxtSplit,
    normal_host,
)

__all__ = [
    "PROVIDERS",
    "Fact",
    "FieldLabels",
    "FormEntry",
    "FormLabels",
    "HostForm",
    "Provider",
    "Repair",
    "ServedBy",
    "Source",
    "TargetForm",
    "TxtQuotes",
    "TxtSplit",
    "by_id",
    "form_entry",
    "from_ns_lookup",
    "identify",
    "repair",
    "served_by",
    "txt_text",
]

_BY_ID = {p.id: p for p in PROVIDERS}


@dataclass(frozen=True)
class ServedBy:
    """The provider serving a zone and the zone's name servers (normalised, sorted, each once)."""

    provider: Provider
    nameservers: tuple[str, ...]


def by_id(provider_id: str) -> Provider:
    """The catalogue's provider of that id; ``KeyError`` naming the known ids otherwise."""
    try:
        return _BY_ID[provider_id]
    except KeyError:
        raise KeyError(f"no DNS provider {provider_id!r}; known: {', '.join(_BY_ID)}") from None


def served_by(ns_hosts: Iterable[str]) -> ServedBy | None:
    """Who serves a zone whose NS are ``ns_hosts``, or None (no NS, a server nobody knows, or two providers)."""
    hosts = tuple(sorted({h for h in (normal_host(n) for n in ns_hosts) if h}))
    found: Provider | None = None
    for host in hosts:
        owners = [p for p in PROVIDERS if p.serves(host)]
        if len(owners) != 1 or (found is not None and owners[0] is not found):
            return None
        found = owners[0]
    return ServedBy(found, hosts) if found is not None else None


def identify(ns_hosts: Iterable[str]) -> Provider | None:
    """The provider serving a zone whose NS are ``ns_hosts`` (see ``served_by``)."""
    served = served_by(ns_hosts)
    return served.provider if served else None


def from_ns_lookup(values: Iterable[object]) -> ServedBy | None:
    """``served_by`` fed from an NS answer: dnspython's rdata (an ``Answer`` itself) or the probe's strings."""
    return served_by(str(value) for value in values)
