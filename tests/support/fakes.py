"""In-process stand-ins for the alerting ports, for tests that chain runs without AWS.

The state store is the real ``InMemoryStateStore`` (same conditional-write
contract as DynamoDB); the notifier records what it was asked to deliver and
succeeds or fails as told.
"""

from __future__ import annotations

from collections.abc import Sequence

from ses_dkim_monitor.alerts.memory_store import InMemoryStateStore
from ses_dkim_monitor.alerts.model import AlertState, Notification


class RecordingNotifier:
    def __init__(self, name: str, *, succeed: bool = True) -> None:
        self.name = name
        self.succeed = succeed
        self.received: list[Notification] = []

    def deliver(self, notifications: Sequence[Notification]) -> dict[str, bool]:
        self.received.extend(notifications)
        return {n.state_id: self.succeed for n in notifications}


class WriteLog(InMemoryStateStore):
    """An in-memory store that remembers every successful write, in order."""

    def __init__(self, states: list[AlertState] | None = None) -> None:
        super().__init__(states)
        self.writes: list[AlertState] = []

    def write(self, state: AlertState) -> bool:
        ok = super().write(state)
        if ok:
            self.writes.append(state)
        return ok
