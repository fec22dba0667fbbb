"""The two ports of the alerting run: where state is kept, and where alerts go.

``run.py`` depends on these protocols only. The adapters are
``dynamodb_store.DynamoDbStateStore`` and ``memory_store.InMemoryStateStore``
for state, ``notify.sns.SnsNotifier`` and ``notify.slack.SlackNotifier`` for
delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import AlertState, Notification


@dataclass(frozen=True)
class Loaded:
    """What ``load`` read: the states, and how many stored items could not be read (logged by the store)."""

    states: list[AlertState]
    unreadable: int = 0


class StateStore(Protocol):
    """Alert state with optimistic locking.

    ``load`` never fails because of one bad item: it skips (and counts) what
    it cannot read. ``write`` stores a state if the stored item is still at
    ``state.version - 1`` (absent, or an unreadable item ``load`` skipped, for
    version 1) and returns False when another writer got there first. Other
    failures raise.
    """

    def load(self, account: str, region: str) -> Loaded: ...

    def write(self, state: AlertState) -> bool: ...


class Notifier(Protocol):
    """A delivery channel. ``deliver`` maps each notification's ``state_id`` to success; it never raises
    for a failed delivery."""

    name: str

    def deliver(self, notifications: Sequence[Notification]) -> Mapping[str, bool]: ...
