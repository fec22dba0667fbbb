"""The two ports of the alerting run: where state is kept, and where alerts go.

``run.py`` depends on these protocols only. The adapters are
``dynamodb_store.DynamoDbStateStore`` and ``memory_store.InMemoryStateStore``
for state, ``notify.sns.SnsNotifier`` and ``notify.slack.SlackNotifier`` for
delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from .model import AlertState, Notification


class StateStore(Protocol):
    """Alert state with optimistic locking.

    ``write`` stores a state if the stored item is still at
    ``state.version - 1`` (absent for version 1) and returns False when
    another writer got there first. Other failures raise.
    """

    def load(self, account: str, region: str) -> list[AlertState]: ...

    def write(self, state: AlertState) -> bool: ...


class Notifier(Protocol):
    """A delivery channel. ``deliver`` maps each notification's ``state_id`` to success; it never raises
    for a failed delivery."""

    name: str

    def deliver(self, notifications: Sequence[Notification]) -> Mapping[str, bool]: ...
