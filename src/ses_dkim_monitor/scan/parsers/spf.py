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

from ...i18n import N_, _, ngettext
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
# RFC 7208 7.1: "c", "r" and "t" are allowed only in an explanation text (the TXT exp= points at). Matched
# against the macros ``_MACRO_TOKEN`` finds, never the raw text: "%%{c}" is an escaped "%" and the text "{c}".
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
        syntax(_("The record {record} does not start with v=spf1.").format(record=_show(txt.strip(" "))))

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
                    syntax(_("{name}= appears more than once; RFC 7208 allows it once.").format(name=name))
                    continue
                modifiers[name] = value
                bad = _bad_domain_spec(value)
                if bad:
                    kind, char = bad
                    syntax(_(_IN_MODIFIER[kind]).format(modifier=f"{name}={_show(value)}", char=char))
                _exp_only_macro(word, value, problems)
            elif name in _SPF_MECHANISMS:
                syntax(
                    _("The term {term} is written as a modifier; did you mean {name}:?").format(
                        term=_show(word), name=name
                    )
                )
            elif name == "v":
                syntax(
                    _("The term {term} is a second version tag: two records merged into one?").format(term=_show(word))
                )
            elif _MACRO_TOKEN.sub("", value):  # an unknown modifier is ignored, if it parses
                syntax(
                    _("The modifier {modifier} has a value that is not a valid macro-string.").format(
                        modifier=_show(word)
                    )
                )
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
                problems.append(
                    Problem(
                        SPF_PLUS_ALL,
                        _("The term {term} authorises every host on the internet.").format(term=_show(word)),
                    )
                )
        terms.append(term)

    notes: list[Problem] = []
    if after_all:
        notes.append(
            Problem(
                SPF_IGNORED_TERMS,
                ngettext(
                    "{count} term after {all} is never evaluated (RFC 7208 5.1), from {first} on.",
                    "{count} terms after {all} are never evaluated (RFC 7208 5.1), from {first} on.",
                    len(after_all),
                ).format(count=len(after_all), all=_show(all_word or ""), first=_show(after_all[0])),
            )
        )
    if "redirect" in modifiers and all_word is not None:
        notes.append(
            Problem(
                SPF_IGNORED_TERMS,
                _(
                    "redirect={value} is ignored because the record has an all term (RFC 7208 6.1): receivers neither "
                    "follow nor count it."
                ).format(value=_show(modifiers["redirect"])),
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
    macros = (token["macro"] for token in _MACRO_TOKEN.finditer(value) if token["macro"])
    found = next((m for m in map(_EXP_ONLY_MACRO.match, macros) if m), None)
    if found:
        problems.append(
            Problem(
                SPF_MACRO_OUTSIDE_EXP,
                _(
                    "The term {term} uses {macro}, which only an explanation text (the TXT exp= names) may use "
                    "(RFC 7208 7.1): receivers return permerror."
                ).format(term=_show(word), macro=f"%{{{found[1]}}}"),
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
        return None, _("The term {term} is not a known mechanism or modifier{hint}.").format(
            term=_show(word), hint=hint
        )
    value = rest[1:] if rest.startswith(":") else (rest or None)  # "" for "a:", so it is rebuilt as written
    term = SpfTerm(qualifier=qualifier, mechanism=mechanism, value=value)
    shown = _show(word)

    if mechanism == "all":
        return term, _("The term {term} has an argument, but all takes none.").format(term=shown) if rest else None
    if mechanism in ("include", "exists"):
        if not rest.startswith(":") or not value:
            return term, _("The term {term} needs a domain: {mechanism}:<domain>.").format(
                term=shown, mechanism=mechanism
            )
        return term, _domain_in(shown, value)
    if mechanism in ("ip4", "ip6"):
        if not rest.startswith(":") or not value:
            return term, _("The term {term} needs a network: {mechanism}:<address>[/<length>].").format(
                term=shown, mechanism=mechanism
            )
        if _valid_network(mechanism, value):
            return term, None
        return term, _("The term {term} has no valid {mechanism} network.").format(term=shown, mechanism=mechanism)

    # a, mx, ptr: an optional ":domain-spec", then (a and mx) an optional "/ip4-len" and "//ip6-len".
    domain = rest
    if mechanism != "ptr":
        cidr = _DUAL_CIDR.search(rest)
        if cidr and cidr.group(0):
            domain = rest[: cidr.start()]
            v4, v6 = cidr.group(1), cidr.group(2)
            if (v4 is not None and not _cidr_ok(v4, 32)) or (v6 is not None and not _cidr_ok(v6, 128)):
                return term, _("The term {term} has a prefix length out of range.").format(term=shown)
    if not domain:
        return term, None
    if not domain.startswith(":") or len(domain) == 1:
        return term, _("The term {term} is not {mechanism}, {mechanism}:<domain> or {mechanism}/<length>.").format(
            term=shown, mechanism=mechanism
        )
    return term, _domain_in(shown, domain[1:])


# What is wrong with a domain-spec (``_bad_domain_spec``), said of the domain in a term or of a modifier.
_IN_TERM = {
    "empty": N_("The domain in {term} is empty."),
    "character": N_("The domain in {term} has {char} where a character or %{{macro}} should be."),
    "not-fqdn": N_("The domain in {term} is not a fully qualified domain name."),
    "top-level": N_("The domain in {term} does not end in a valid top-level label."),
}
_IN_MODIFIER = {
    "empty": N_("{modifier} is empty."),
    "character": N_("{modifier} has {char} where a character or %{{macro}} should be."),
    "not-fqdn": N_("{modifier} is not a fully qualified domain name."),
    "top-level": N_("{modifier} does not end in a valid top-level label."),
}


def _domain_in(shown: str, spec: str) -> str | None:
    """What is wrong with the domain-spec of the term ``shown``, as a detail; None when it is valid."""
    why = _bad_domain_spec(spec)
    if why is None:
        return None
    kind, char = why
    return _(_IN_TERM[kind]).format(term=shown, char=char)


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


def _bad_domain_spec(spec: str) -> tuple[str, str] | None:
    """Why ``spec`` is not an RFC 7208 domain-spec (a macro-string ending in a domain or a macro), or None.

    The reason is a key of ``_IN_TERM``/``_IN_MODIFIER`` and the character it names (quoted), if any.
    """
    if not spec:
        return "empty", ""
    last_is_macro = False
    pos = 0
    for token in _MACRO_TOKEN.finditer(spec):
        if token.start() != pos:
            break
        pos = token.end()
        last_is_macro = token.group("macro") is not None
    if pos != len(spec):
        return "character", _show(spec[pos])
    if last_is_macro:
        return None
    labels = spec.removesuffix(".").split(".")
    if "%" not in spec and (len(labels) < 2 or not all(labels) or any(len(label) > 63 for label in labels)):
        return "not-fqdn", ""
    if _TOPLABEL.fullmatch(labels[-1]) is None or labels[-1].isdigit():
        return "top-level", ""
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
