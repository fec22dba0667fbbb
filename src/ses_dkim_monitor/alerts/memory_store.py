"""An in-memory ``StateStore`` with the same conditional-write contract as DynamoDB.

For tests and for runs that need state without a table. The contract tests
in tests/alerts/test_state_stores.py run against both stores.
"""

from __future__ import annotations

from .model import AlertState
from .ports import Loaded


class InMemoryStateStore:
    def __init__(self, states: list[AlertState] | None = None) -> None:
        self.states: dict[str, AlertState] = {s.state_id: s for s in states or ()}

    def load(self, account: str, region: str) -> Loaded:
        return Loaded([s for s in self.states.values() if s.account == account and s.region == region])

    def write(self, state: AlertState) -> bool:
        if state.version < 1:
            raise ValueError("a state to write must carry its new version (>= 1)")
        stored = self.states.get(state.state_id)
        expected = None if state.version == 1 else state.version - 1
        if (stored.version if stored is not None else None) != expected:
            return False
        self.states[state.state_id] = state
        return True
