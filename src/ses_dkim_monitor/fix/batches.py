"""One zone's changes split into ChangeResourceRecordSets requests within Route 53's limits. Pure.

Route 53 refuses a request with more than 1,000 ResourceRecord elements or
more than 32,000 characters across its Value elements, an UPSERT counting
twice for both (Developer Guide, "Quotas", ChangeResourceRecordSets; the
2026-12 review in docs). Older API references also name 100 Change elements
per request; the current quotas page no longer does, but a smaller request
costs nothing, so that limit is kept too.

Changes that belong together stay in one request, which Route 53 applies
whole or not at all: every change of one identity (its delete and the record
that replaces it, its three CNAMEs), and every change at one name (so no two
requests touch a name, and the re-read before a request sees only its own
names as the plan read them). Groups are packed in the plan's order, first fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .batch import Change


@dataclass(frozen=True)
class Limits:
    changes: int = 100
    records: int = 1000
    characters: int = 32_000


ROUTE53 = Limits()


@dataclass(frozen=True)
class Size:
    changes: int = 0
    records: int = 0
    characters: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(self.changes + other.changes, self.records + other.records, self.characters + other.characters)

    def within(self, limits: Limits) -> bool:
        return (
            self.changes <= limits.changes and self.records <= limits.records and self.characters <= limits.characters
        )


def size(changes: Sequence[Change]) -> Size:
    """A request's size as Route 53 counts it: an UPSERT's records and characters twice."""
    total = Size()
    for change in changes:
        weight = 2 if change.action == "UPSERT" else 1
        values = change.values
        total = total + Size(1, weight * len(values), weight * sum(len(v) for v in values))
    return total


def split(changes: Sequence[Change], limits: Limits = ROUTE53) -> tuple[list[tuple[Change, ...]], list[Change]]:
    """The requests to send, in order, and the changes of any group too large for one request on its own."""
    groups = _groups(changes)
    batches: list[list[Change]] = []
    sizes: list[Size] = []
    too_large: list[Change] = []
    for group in groups:
        group_size = size(group)
        if not group_size.within(limits):
            too_large.extend(group)
            continue
        for i, current in enumerate(sizes):
            if (current + group_size).within(limits):
                batches[i].extend(group)
                sizes[i] = current + group_size
                break
        else:
            batches.append(list(group))
            sizes.append(group_size)
    return [tuple(_ordered(b)) for b in batches], too_large


def _ordered(batch: list[Change]) -> list[Change]:
    """Deletes first: a record moved within one request is deleted before the one that replaces it."""
    return [c for c in batch if c.action == "DELETE"] + [c for c in batch if c.action != "DELETE"]


def _groups(changes: Sequence[Change]) -> list[list[Change]]:
    """Changes joined by a shared identity or a shared name, in the order of their first change."""
    parent = list(range(len(changes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[object, int] = {}
    for i, change in enumerate(changes):
        for key in (*(("owner", o) for o in change.owners), ("name", change.name)):
            if key in first_of:
                parent[root(i)] = root(first_of[key])
            else:
                first_of[key] = i
    grouped: dict[int, list[Change]] = {}  # in the order of each group's first change
    for i, change in enumerate(changes):
        grouped.setdefault(root(i), []).append(change)
    return list(grouped.values())
