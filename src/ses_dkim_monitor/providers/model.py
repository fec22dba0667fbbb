"""The vocabulary of a DNS provider's record form: each convention a fact with its source, or unknown.

A convention nobody could source stays ``Fact(None)``: the form helpers then
use the generic spelling and name the convention as unknown, so the advice can
say so instead of passing a guess off as the provider's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a fact was read: the provider's own page (or its API reference), when, and what it says."""

    url: str
    read: str  # ISO date the page was read
    says: str  # a short paraphrase of what the page says, not a quotation
    basis: str = "help page"  # "help page", "API reference" or "own domain" (see docs/providers.md)


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One convention of one provider: its value and where it comes from; ``value=None`` is unknown."""

    value: T | None = None
    source: Source | None = None

    def __post_init__(self) -> None:
        if (self.value is None) != (self.source is None):
            raise ValueError("a known fact needs its source, and an unknown one has none")


UNKNOWN: Fact = Fact()


class HostForm(Enum):
    """How the form's host field takes a record's name."""

    RELATIVE = "relative"  # the name relative to the zone; the form appends the zone
    FULL = "full"  # the full name


class TargetForm(Enum):
    """How the form takes a name in the value field (a CNAME's target, an MX's exchange)."""

    ABSOLUTE = "absolute"  # taken as a full name as typed: no trailing dot needed
    DOT = "dot"  # needs a trailing dot; without it the form appends the zone


class TxtQuotes(Enum):
    """How TXT text is typed."""

    REQUIRED = "required"  # each string in double quotes, as in a zone file
    ADDED = "added"  # plain text; the form adds the quotes itself


class TxtSplit(Enum):
    """How a TXT value longer than one 255-byte string is entered."""

    AUTO = "auto"  # typed as one text; the form splits it
    MANUAL = "manual"  # split by hand into quoted strings of at most 255 bytes
    LIMIT = "limit"  # the form takes at most 255 characters: a longer value cannot be entered


@dataclass(frozen=True)
class FormLabels:
    """The form's own field names, in the language of the page they were read in; ``None``: not stated."""

    lang: str  # "en", "ja", ...
    host: str | None = None
    type: str | None = None
    cname_value: str | None = None
    txt_value: str | None = None

    def for_type(self, rtype: str) -> FieldLabels:
        """The labels of the fields one record of type ``rtype`` is typed into."""
        value = self.txt_value if rtype == "TXT" else self.cname_value if rtype == "CNAME" else None
        return FieldLabels(self.lang, self.host, self.type, value)


@dataclass(frozen=True)
class FieldLabels:
    """The form's names for the host, type and value fields of one record; ``None``: not stated."""

    lang: str
    host: str | None
    type: str | None
    value: str | None


@dataclass(frozen=True, kw_only=True)
class Provider:
    """One DNS provider: how to recognise it from NS, and each convention of its record form."""

    id: str
    name_en: str
    name_ja: str
    # Full-match patterns (lower case, no trailing dot) for its name servers' host names; None: not recognisable.
    ns: Fact[tuple[str, ...]] = UNKNOWN
    host: Fact[HostForm] = UNKNOWN
    apex: Fact[str] = UNKNOWN  # how the zone apex is typed in the host field: "@" or "" (left empty)
    target: Fact[TargetForm] = UNKNOWN
    underscore: Fact[bool] = UNKNOWN  # whether a label such as _domainkey is accepted in the host field
    txt_quotes: Fact[TxtQuotes] = UNKNOWN
    txt_split: Fact[TxtSplit] = UNKNOWN
    labels: Fact[FormLabels] = UNKNOWN

    def facts(self) -> dict[str, Fact]:
        """Every convention by the name the docs and ``FormEntry.unknown`` use."""
        return {
            "ns": self.ns,
            "host": self.host,
            "apex": self.apex,
            "target": self.target,
            "underscore": self.underscore,
            "txt-quotes": self.txt_quotes,
            "txt-split": self.txt_split,
            "labels": self.labels,
        }

    def serves(self, ns_host: str) -> bool:
        """Whether ``ns_host`` is one of this provider's name servers (by its sourced patterns)."""
        host = normal_host(ns_host)
        return any(re.fullmatch(pattern, host) for pattern in self.ns.value or ())


def normal_host(name: str) -> str:
    """A host name as the patterns expect it: stripped, lower case, without the trailing dot."""
    return name.strip().rstrip(".").lower()
