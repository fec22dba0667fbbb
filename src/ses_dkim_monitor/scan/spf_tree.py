"""Following a MAIL FROM domain's SPF record through include: and redirect=, to count its DNS lookups.

RFC 7208 section 4.6.4: evaluating an SPF record may cause at most 10 DNS
lookups (include, a, mx, ptr, exists, redirect), counted through every record
it includes; beyond that receivers return permerror and SPF fails for all
mail. Counting needs the included records, so this asks for them, each name
once per run (``amazonses.com``'s record is shared by every identity), and
stops as soon as the count passes 10: the answer is already known.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .dns_answers import Lookup, Outcome, SpfTree
from .dns_probe import DnsProbe
from .parsers import parse_spf, spf_records

MAX_LOOKUPS = 10  # RFC 7208 section 4.6.4
MAX_DEPTH = 10  # a bound on include chains, whatever the records say


async def spf_tree_of(probe: DnsProbe, txt: Lookup) -> SpfTree | None:
    """The lookup count of the one SPF record in ``txt``; None when there is not exactly one to count."""
    if txt.outcome is not Outcome.ANSWER:
        return None
    records = spf_records(txt.values)
    if len(records) != 1:
        return None
    state = _Walk(probe)
    await state.visit(records[0], depth=0, seen=frozenset({txt.name}))
    return SpfTree(
        lookups=None if state.failed else state.count,
        failed=tuple(state.failed),
        void=tuple(state.void),
    )


class _Walk:
    def __init__(self, probe: DnsProbe):
        self.probe = probe
        self.count = 0
        self.failed: list[str] = []
        self.void: list[str] = []

    def _reader(self, name: str) -> Callable[[], Awaitable[Lookup]]:
        return lambda: self.probe.query(name, "TXT", confirm=False)

    async def visit(self, record: str, *, depth: int, seen: frozenset[str]) -> None:
        parsed = parse_spf(record)
        self.count += parsed.lookup_count
        targets = [*parsed.includes, *([parsed.redirect_target] if parsed.redirect_target else [])]
        for name in targets:
            if self.count > MAX_LOOKUPS or depth >= MAX_DEPTH:
                return  # over the limit already: more lookups cannot change the verdict
            name = name.rstrip(".").lower()
            if "%" in name or name in seen:
                continue  # a macro needs the sender's address; a loop is counted once
            found: Lookup = await self.probe.once("spf", name, self._reader(name))
            if found.failed:
                self.failed.append(name)
                continue
            included = spf_records(found.values) if found.outcome is Outcome.ANSWER else []
            if len(included) != 1:
                self.void.append(name)  # permerror for receivers: no (or several) SPF records there
                continue
            await self.visit(included[0], depth=depth + 1, seen=seen | {name})
