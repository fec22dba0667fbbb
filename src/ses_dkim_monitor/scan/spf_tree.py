"""Evaluating a MAIL FROM domain's SPF record as a receiver does, through include: and redirect=.

RFC 7208 has a receiver evaluate the terms in order up to the first ``all``
(5.1), follow include: (5.2) and, without an ``all``, redirect= (6.1), and
stop at the first error. The walk does the same for a host the record does
not list, so every term is evaluated, and asks DNS what a receiver asks:

- each include: and redirect= target's TXT: none or several SPF records
  there, an error in that record, or a name already being evaluated (a loop)
  is a permerror of the whole (4.6.4, 5.2);
- ``a``, ``mx`` and ``exists`` (without macros) their A or MX records, since
  more than 2 of them answering nothing (NXDOMAIN or no records: "void
  lookups") and more than 10 MX names under one ``mx`` are permerrors
  (4.6.4). SES connects over IPv4, so ``a`` asks for A records;
- more than 10 DNS-querying terms evaluated is a permerror (4.6.4);
- a lookup that fails is a temperror: the result cannot be told.

A record with a syntax error is a permerror before any lookup (4.6): the
parser reports it, and the walk only searches the tree for SES. A name that
cannot be a DNS name (an empty label, one over 63 octets, over 255 in all)
is never asked: it is a permerror of the record that names it, not a failed
lookup, so it never makes the result unknown.

``ptr`` and terms with macros the sender fills (``%{i}``, ``%{s}``...) are
counted but not asked. Whether SES is authorised is decided through the
whole tree, past the first error, so a fault elsewhere does not read as "SES
missing" (and ``fix`` does not add a second include). Answers are shared by
the run (``amazonses.com``'s record is asked once for every identity).
"""

from __future__ import annotations

from .. import catalogue as c
from ..i18n import _
from ..untrusted import quoted
from .dns_answers import Lookup, Outcome, SpfTree
from .dns_probe import DnsProbe, query_name
from .parsers import SPF_PLUS_ALL, SpfRecord, SpfTerm, parse_spf, spf_records

MAX_LOOKUPS = 10  # RFC 7208 section 4.6.4
MAX_VOID_LOOKUPS = 2  # section 4.6.4: SHOULD limit void lookups to two
MAX_MX_NAMES = 10  # section 4.6.4
SES_SPF_DOMAIN = "amazonses.com"


async def spf_tree_of(probe: DnsProbe, txt: Lookup) -> SpfTree | None:
    """The evaluation of the one SPF record in ``txt``; None when there is not exactly one to evaluate."""
    if txt.outcome is not Outcome.ANSWER:
        return None
    records = spf_records(txt.values)
    if len(records) != 1:
        return None
    domain = _name(txt.name)
    parsed = parse_spf(records[0])
    # A syntax error is a permerror at parse time (4.6): the checks report it from the parser, and a receiver
    # asks nothing. The walk goes on only to find SES, a failure on the way leaving that unsure, not unknown.
    walk = _Walk(probe, broken=any(p.cause != SPF_PLUS_ALL for p in parsed.problems))
    await walk.record(parsed, domain=domain, path=(domain,), authorising=True)
    return walk.tree()


def _name(text: str) -> str:
    return text.rstrip(".").lower()


class _Walk:
    """One evaluation: the counts, the first error, and whether SES is reached."""

    def __init__(self, probe: DnsProbe, *, broken: bool = False):
        self.probe = probe
        self.broken = broken  # the top record has a syntax error: a permerror the parser reports
        self.count = 0
        self.void: list[str] = []
        self.failed: list[Lookup] = []
        self.error: tuple[str, str, str] | None = None  # (cause, detail, where) of the first permerror
        self.authorises = False
        self.unsure = False  # a lookup failed while looking for SES past the first error
        self.searched: set[str] = set()  # names followed past the first error, each once

    @property
    def decided(self) -> bool:
        """A receiver would have stopped here: what is left is only walked to find SES."""
        return self.broken or self.error is not None or bool(self.failed)

    def tree(self) -> SpfTree:
        cause, detail, where = self.error or (None, "", "")
        authorises = True if self.authorises else (None if self.unsure or self.failed else False)
        return SpfTree(
            lookups=None if self.failed else self.count,
            failed=tuple(self.failed),
            void=tuple(self.void),
            permerror=cause,
            detail=detail,
            where=where,
            authorises_ses=authorises,
        )

    def permerror(self, cause: str, detail: str, where: str) -> None:
        if not self.decided:
            self.error = (cause, detail, where)

    def counted(self, term: str) -> bool:
        """Count one DNS-querying term; False (and a permerror) when it is the eleventh."""
        if self.decided:
            return False
        self.count += 1
        if self.count > MAX_LOOKUPS:
            self.permerror(
                c.SPF_TOO_MANY_LOOKUPS,
                _(
                    "needs more than {max} DNS lookups (the eleventh is {term}, counted through include: and "
                    "redirect= as receivers evaluate it)"
                ).format(max=MAX_LOOKUPS, term=term),
                "",
            )
            return False
        return True

    async def ask(self, name: str, rdtype: str) -> Lookup:
        return await self.probe.once(f"spf-{rdtype}", name, lambda: self.probe.query(name, rdtype))

    def askable(self, name: str, term: str) -> bool:
        """False (and a permerror) when ``name`` is not a DNS name: receivers never look it up (4.6)."""
        if query_name(name)[0] is not None:
            return True
        self.permerror(
            c.SPF_SYNTAX_ERROR,
            _("evaluates {term}, and {name} is not a name DNS can look up").format(term=term, name=quoted(name)),
            name,
        )
        return False

    def answered(self, found: Lookup) -> bool:
        """True when ``found`` answered; a failure is the temperror that decides, or leaves SES unsure."""
        if not found.failed:
            return True
        if self.decided:
            self.unsure = True
        else:
            self.failed.append(found)
        return False

    async def record(self, parsed: SpfRecord, *, domain: str, path: tuple[str, ...], authorising: bool) -> None:
        for term in parsed.evaluated_terms:
            if term.mechanism == "include" and term.value:
                await self.follow("include", term.value, path=path, authorising=authorising and term.qualifier == "+")
            elif term.mechanism in ("a", "mx", "exists", "ptr"):
                await self.lookup_term(term, domain)
        if parsed.redirect_target:
            await self.follow("redirect", parsed.redirect_target, path=path, authorising=authorising)

    async def lookup_term(self, term: SpfTerm, domain: str) -> None:
        """``a``, ``mx``, ``exists``, ``ptr``: counted; the first three asked, for the void and MX limits."""
        shown = f"{term.mechanism}:{term.value}" if term.value else term.mechanism
        if not self.counted(shown) or term.mechanism == "ptr":
            return  # ptr needs the connecting host's address
        target = _target(term, domain)
        if target is None:
            return  # a macro the sender's message fills
        if not self.askable(target, shown):
            return
        rdtype = "MX" if term.mechanism == "mx" else "A"
        found = await self.ask(target, rdtype)
        if not self.answered(found) or self.decided:
            return
        if found.absent:
            self.void.append(target)
            if len(self.void) > MAX_VOID_LOOKUPS:
                self.permerror(
                    c.SPF_VOID_LOOKUPS,
                    _(
                        "makes {count} DNS lookups that find nothing ({names}), more than the {max} receivers allow"
                    ).format(count=len(self.void), names=", ".join(self.void), max=MAX_VOID_LOOKUPS),
                    target,
                )
        elif term.mechanism == "mx" and len(found.values) > MAX_MX_NAMES:
            self.permerror(
                c.SPF_TOO_MANY_MX,
                _("evaluates {term}, and {name} has {count} MX names, more than the {max} receivers look up").format(
                    term=shown, name=target, count=len(found.values), max=MAX_MX_NAMES
                ),
                target,
            )

    async def follow(self, kind: str, value: str, *, path: tuple[str, ...], authorising: bool) -> None:
        """An include: or redirect= target: counted, checked for a loop, its one SPF record evaluated in turn."""
        term = f"{kind}{':' if kind == 'include' else '='}{value}"
        counting = self.counted(term)
        name = _name(value)
        if "%" in name:
            return  # a macro the sender's message fills
        if authorising and name == SES_SPF_DOMAIN:
            self.authorises = True
        if not self.askable(name, term):
            return
        if name in path:
            chain = " -> ".join((*path, name))
            self.permerror(
                c.SPF_INCLUDE_LOOP,
                _("loops: {term} leads back to a record being evaluated ({chain})").format(term=term, chain=chain),
                name,
            )
            return
        if not counting:
            # Past the first error only the search for SES goes on, each name once.
            if not authorising or self.authorises or name in self.searched:
                return
            self.searched.add(name)
        found = await self.ask(name, "TXT")
        if not self.answered(found):
            return
        records = spf_records(found.values) if found.outcome is Outcome.ANSWER else []
        if len(records) != 1:
            if records:
                detail = _("evaluates {term}, and {name} has {count} SPF records").format(
                    term=term, name=name, count=len(records)
                )
            else:
                detail = _("evaluates {term}, and {name} has no SPF record").format(term=term, name=name)
            self.permerror(c.SPF_VOID_INCLUDE, detail, name)
            return
        parsed = parse_spf(records[0])
        errors = [p for p in parsed.problems if p.cause != SPF_PLUS_ALL]
        if errors:
            self.permerror(
                c.SPF_PERMERROR_IN_INCLUDE,
                _("evaluates {term}, whose record {record} is in error: {detail}").format(
                    term=term, record=quoted(records[0], limit=120), detail=errors[0].detail.rstrip(".。")
                ),
                name,
            )
        await self.record(parsed, domain=name, path=(*path, name), authorising=authorising)


def _target(term: SpfTerm, domain: str) -> str | None:
    """The name an ``a``, ``mx`` or ``exists`` term asks about (its domain-spec, or the current domain)."""
    value = term.value or ""
    if term.mechanism != "exists":
        value = value.split("/", 1)[0]  # a:example.com/24//64 -> example.com; a/24 -> ""
    name = _name(value) or domain
    return None if "%" in name else name
