"""SPF records (RFC 7208), read as a receiver evaluates them: in order, up to the first ``all``.

Terms after ``all`` are never evaluated (5.1) and a ``redirect=`` beside an
``all`` is ignored (6.1): neither is an error, so both are notes, and neither
counts toward the 10 DNS lookups. Syntax errors count wherever they are (4.6).
Following include: and redirect= is the SPF tree walk's job (it needs DNS).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .common import (
    SPF_IGNORED_TERMS,
    SPF_MACRO_OUTSIDE_EXP,
    SPF_PLUS_ALL,
    SPF_SYNTAX_ERROR,
    Problem,
    _did_you_mean,
    _show,
)

_SPF_MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
_SPF_LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_SPF_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(.*)", re.DOTALL)
# RFC 7208 7.1: a macro-string is visible ASCII where "%" starts a macro-expand.
_MACRO_EXPAND = r"%\{[slodiphcrtv][0-9]*r?[-.+,/_=]*\}|%%|%_|%-"
_MACRO_TOKEN = re.compile(rf"(?P<macro>{_MACRO_EXPAND})|[\x21-\x24\x26-\x7e]", re.IGNORECASE)
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?\Z")  # \Z: "$" would also match before a "\n"
_CIDR_LENGTH = re.compile(r"0|[1-9][0-9]{0,2}")
_TOPLABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
# RFC 7208 7.1: "c", "r" and "t" are allowed only in an explanation text (the TXT exp= points at).
_EXP_ONLY_MACRO = re.compile(r"%\{([crt])", re.IGNORECASE)
_DOMAIN_TERMS = frozenset({"include", "exists", "a", "mx", "ptr"})


@dataclass(frozen=True, slots=True)
class SpfTerm:
    """One directive: ``value`` is the text after ``:`` (or a bare ``/len``), as written; None when absent."""

    qualifier: str
    mechanism: str
    value: str | None


@dataclass(frozen=True, slots=True)
class SpfRecord:
    """An SPF record's directives in order, its redirect= and exp= modifiers (unknown modifiers are dropped).

    ``notes`` say what receivers never evaluate (terms after ``all``, a
    ``redirect=`` beside it) in a record that works.
    """

    terms: tuple[SpfTerm, ...]
    redirect: str | None
    explanation: str | None
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...] = ()
    # For format_spf: every modifier in order (name lowercased, value as written; duplicates and unknown ones
    # included), and the words that are neither a mechanism nor a modifier, as written.
    modifiers: tuple[tuple[str, str], ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def evaluated_terms(self) -> tuple[SpfTerm, ...]:
        """The directives a receiver evaluates: every one up to and including the first ``all`` (RFC 7208 5.1)."""
        for i, term in enumerate(self.terms):
            if term.mechanism == "all":
                return self.terms[: i + 1]
        return self.terms

    @property
    def redirect_target(self) -> str | None:
        """The redirect= a receiver follows: None when the record has an ``all`` anywhere (RFC 7208 6.1)."""
        return None if any(t.mechanism == "all" for t in self.terms) else self.redirect

    @property
    def includes(self) -> tuple[str, ...]:
        """The include: targets a receiver evaluates (those after ``all`` never are)."""
        return tuple(t.value for t in self.evaluated_terms if t.mechanism == "include" and t.value)

    @property
    def lookup_count(self) -> int:
        """DNS-querying terms a receiver evaluates in this record (RFC 7208 4.6.4); the tree walk adds the includes'."""
        own = sum(t.mechanism in _SPF_LOOKUP_MECHANISMS for t in self.evaluated_terms)
        return own + (self.redirect_target is not None)

    @property
    def all_qualifier(self) -> str | None:
        return next((t.qualifier for t in self.terms if t.mechanism == "all"), None)


def is_spf_record(txt: str) -> bool:
    """``v=spf1`` (any case) followed by a space or the end: RFC 7208 4.5's test for an SPF record."""
    return txt[:6].lower() == "v=spf1" and txt[6:7] in ("", " ")


def spf_records(txts: Iterable[str]) -> list[str]:
    return [txt for txt in txts if is_spf_record(txt)]


def parse_spf(txt: str) -> SpfRecord:
    """Parse an SPF record into its directives and its redirect=/exp= modifiers (unknown modifiers are ignored)."""
    problems: list[Problem] = []

    def syntax(detail: str) -> None:
        problems.append(Problem(SPF_SYNTAX_ERROR, detail))

    words = [w for w in txt.split(" ") if w]  # RFC 7208: terms are separated by spaces, and only spaces
    if is_spf_record(txt):
        words = words[1:]
    else:
        if words and words[0].lower().startswith("v="):
            words = words[1:]
        syntax(f"The record {_show(txt.strip(' '))} does not start with v=spf1.")

    terms: list[SpfTerm] = []
    modifiers: dict[str, str] = {}
    written: list[tuple[str, str]] = []
    unknown: list[str] = []
    after_all: list[str] = []
    all_word: str | None = None  # the first all term: the last one evaluated
    for word in words:
        modifier = _SPF_MODIFIER.fullmatch(word)
        if modifier:
            name, value = modifier[1].lower(), modifier[2]
            written.append((name, value))
            if name in ("redirect", "exp"):
                if name in modifiers:
                    syntax(f"{name}= appears more than once; RFC 7208 allows it once.")
                    continue
                modifiers[name] = value
                why = _bad_domain_spec(value)
                if why:
                    syntax(f"{name}={_show(value)} {why}.")
                _exp_only_macro(word, value, problems)
            elif name in _SPF_MECHANISMS:
                syntax(f"The term {_show(word)} is written as a modifier; did you mean {name}:?")
            elif name == "v":
                syntax(f"The term {_show(word)} is a second version tag: two records merged into one?")
            elif _MACRO_TOKEN.sub("", value):  # an unknown modifier is ignored, if it parses
                syntax(f"The modifier {_show(word)} has a value that is not a valid macro-string.")
            continue
        term, why = _spf_directive(word)
        if why:
            syntax(why)
        if term is None:
            unknown.append(word)
            continue
        if term.mechanism in _DOMAIN_TERMS and term.value:
            _exp_only_macro(word, term.value, problems)
        if all_word is not None:
            after_all.append(word)
        elif term.mechanism == "all":
            all_word = word
            if term.qualifier == "+":
                problems.append(Problem(SPF_PLUS_ALL, f"The term {_show(word)} authorises every host on the internet."))
        terms.append(term)

    notes: list[Problem] = []
    if after_all:
        count = (
            f"{len(after_all)} terms after {_show(all_word or '')} are"
            if len(after_all) > 1
            else (f"1 term after {_show(all_word or '')} is")
        )
        notes.append(
            Problem(
                SPF_IGNORED_TERMS,
                f"{count} never evaluated (RFC 7208 5.1), from {_show(after_all[0])} on.",
            )
        )
    if "redirect" in modifiers and all_word is not None:
        notes.append(
            Problem(
                SPF_IGNORED_TERMS,
                f"redirect={_show(modifiers['redirect'])} is ignored because the record has an all term (RFC 7208 "
                f"6.1): receivers neither follow nor count it.",
            )
        )
    return SpfRecord(
        terms=tuple(terms),
        redirect=modifiers.get("redirect"),
        explanation=modifiers.get("exp"),
        problems=tuple(problems),
        notes=tuple(notes),
        modifiers=tuple(written),
        unknown=tuple(unknown),
    )


def format_spf(record: SpfRecord) -> str:
    """The record written back from what was read: ``v=spf1``, the terms, the unknown words, the modifiers.

    It parses to the same terms, modifiers and problems (by cause): a term's
    ``+`` is left out (it is the default) and its mechanism written in lower
    case; white space and a missing or different version are not kept.
    """
    words = ["v=spf1", *(_term_text(t) for t in record.terms), *record.unknown]
    words += [f"{name}={value}" for name, value in record.modifiers]
    return " ".join(words)


def _term_text(term: SpfTerm) -> str:
    qualifier = "" if term.qualifier == "+" else term.qualifier
    if term.value is None:
        return f"{qualifier}{term.mechanism}"
    sep = "" if term.value.startswith("/") else ":"  # "a/24" keeps its bare prefix length
    return f"{qualifier}{term.mechanism}{sep}{term.value}"


def _exp_only_macro(word: str, value: str, problems: list[Problem]) -> None:
    """A permerror for %{c}, %{r} or %{t} in a term or modifier: only an explanation text may use them (7.1)."""
    found = _EXP_ONLY_MACRO.search(value)
    if found:
        problems.append(
            Problem(
                SPF_MACRO_OUTSIDE_EXP,
                f"The term {_show(word)} uses %{{{found[1]}}}, which only an explanation text (the TXT exp= names) "
                f"may use (RFC 7208 7.1): receivers return permerror.",
            )
        )


def _spf_directive(word: str) -> tuple[SpfTerm | None, str | None]:
    """The directive in ``word`` (None if its mechanism is unknown) and what is wrong with it, if anything."""
    qualifier = word[0] if word[0] in "+-~?" else "+"
    body = word[1:] if word[0] in "+-~?" else word
    cut = min((i for i in (body.find(":"), body.find("/")) if i >= 0), default=len(body))
    mechanism, rest = body[:cut].lower(), body[cut:]
    if mechanism not in _SPF_MECHANISMS:
        hint = _did_you_mean(mechanism, _SPF_MECHANISMS) if mechanism else ""
        return None, f"The term {_show(word)} is not a known mechanism or modifier{hint}."
    value = rest[1:] if rest.startswith(":") else (rest or None)  # "" for "a:", so it is rebuilt as written
    term = SpfTerm(qualifier=qualifier, mechanism=mechanism, value=value)
    shown = _show(word)

    if mechanism == "all":
        return term, f"The term {shown} has an argument, but all takes none." if rest else None
    if mechanism in ("include", "exists"):
        if not rest.startswith(":") or not value:
            return term, f"The term {shown} needs a domain: {mechanism}:<domain>."
        why = _bad_domain_spec(value)
        return term, f"The domain in {shown} {why}." if why else None
    if mechanism in ("ip4", "ip6"):
        if not rest.startswith(":") or not value:
            return term, f"The term {shown} needs a network: {mechanism}:<address>[/<length>]."
        return term, None if _valid_network(mechanism, value) else f"The term {shown} has no valid {mechanism} network."

    # a, mx, ptr: an optional ":domain-spec", then (a and mx) an optional "/ip4-len" and "//ip6-len".
    domain = rest
    if mechanism != "ptr":
        cidr = _DUAL_CIDR.search(rest)
        if cidr and cidr.group(0):
            domain = rest[: cidr.start()]
            v4, v6 = cidr.group(1), cidr.group(2)
            if (v4 is not None and not _cidr_ok(v4, 32)) or (v6 is not None and not _cidr_ok(v6, 128)):
                return term, f"The term {shown} has a prefix length out of range."
    if not domain:
        return term, None
    if not domain.startswith(":") or len(domain) == 1:
        return term, f"The term {shown} is not {mechanism}, {mechanism}:<domain> or {mechanism}/<length>."
    why = _bad_domain_spec(domain[1:])
    return term, f"The domain in {shown} {why}." if why else None


def _cidr_ok(length: str, most: int) -> bool:
    return _CIDR_LENGTH.fullmatch(length) is not None and int(length) <= most


def _valid_network(mechanism: str, value: str) -> bool:
    address, slash, length = value.partition("/")
    if slash and not _cidr_ok(length, 32 if mechanism == "ip4" else 128):
        return False
    allowed = "0123456789." if mechanism == "ip4" else "0123456789abcdefABCDEF:."
    if not address or any(ch not in allowed for ch in address):  # also keeps out "%scope" and non-ASCII digits
        return False
    try:
        if mechanism == "ip4":
            ipaddress.IPv4Address(address)
        else:
            ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _bad_domain_spec(spec: str) -> str | None:
    """Why ``spec`` is not an RFC 7208 domain-spec (a macro-string ending in a domain or a macro), or None."""
    if not spec:
        return "is empty"
    last_is_macro = False
    pos = 0
    for token in _MACRO_TOKEN.finditer(spec):
        if token.start() != pos:
            break
        pos = token.end()
        last_is_macro = token.group("macro") is not None
    if pos != len(spec):
        return f"has {_show(spec[pos])} where a character or %{{macro}} should be"
    if last_is_macro:
        return None
    labels = spec.removesuffix(".").split(".")
    if "%" not in spec and (len(labels) < 2 or not all(labels) or any(len(label) > 63 for label in labels)):
        return "is not a fully qualified domain name"
    if _TOPLABEL.fullmatch(labels[-1]) is None or labels[-1].isdigit():
        return "does not end in a valid top-level label"
    return None


def spf_authorises_ses(txt: str) -> bool:
    """The SPF record passes mail from Amazon SES: an ``include:amazonses.com`` term that is evaluated (before all)."""
    if not is_spf_record(txt):
        return False
    for term in parse_spf(txt).terms:
        if term.mechanism == "all":
            return False
        domain = (term.value or "").lower().removesuffix(".")
        if term.mechanism == "include" and term.qualifier == "+" and domain == "amazonses.com":
            return True
    return False
