"""An alert state's life around delivery: the version each write carries, the claim, the commit.

``decision.py`` decides what a state becomes; these are the steps every
decided state then goes through, in this order: written with a lease
(``claim``), delivered by ``run.py``, committed (``after_delivery``). Pure,
like the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from .model import AlertState, Event


def version_after(prev: AlertState | None) -> int:
    """The version a state written over ``prev`` carries (1 for a new item)."""
    return prev.version + 1 if prev is not None else 1


def next_version(prev: AlertState, **changes: Any) -> AlertState:
    """The next version of a stored state, with some fields changed."""
    return replace(prev, version=version_after(prev), **changes)


def after_delivery(state: AlertState, *, delivered: Iterable[str], now: datetime) -> AlertState:
    """The state to commit once a claimed notification went out to some channels.

    Channels not in ``delivered`` stay pending and are retried on the next run;
    the lease is released either way.
    """
    done = tuple(dict.fromkeys(c for c in delivered if c in state.pending_channels))
    remaining = tuple(c for c in state.pending_channels if c not in done)
    announced = state.announced_channels
    if state.pending_event in (Event.OPENED, Event.REMINDER):
        announced = tuple(dict.fromkeys(announced + done))
    finished = not remaining
    return replace(
        state,
        pending_event=None if finished else state.pending_event,
        pending_since=None if finished else state.pending_since,
        pending_channels=remaining,
        delivered_channels=tuple(dict.fromkeys(state.delivered_channels + done)),
        announced_channels=announced,
        last_notified=now if done else state.last_notified,
        lease_owner="",
        lease_until=None,
        version=state.version + 1,
    )


def claim(state: AlertState, *, owner: str, until: datetime) -> AlertState:
    """The decided state with this run's lease on it, written before delivering."""
    return replace(state, lease_owner=owner, lease_until=until)
