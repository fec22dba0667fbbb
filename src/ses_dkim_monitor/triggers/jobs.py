"""Re-check jobs: what waits in the re-check queue, and when each step happens. Pure.

An event becomes one job per (account, region) of the identities it puts in
doubt. A job takes up to two looks:

1. **First look**, as soon as the change can be seen in DNS. A Route 53 change
   is waited on until ``GetChange`` says ``INSYNC`` (every Route 53 server has
   it), polling every ``POLL_SECONDS`` for at most ``MAX_POLLS`` polls, then
   looked at anyway; any other event is looked at after the configured delay
   (SES applies its own changes at once).
2. **Second look**, a few minutes later (``RECHECK_CONFIRM_SECONDS``): SES
   re-checks DNS on its own schedule and resolvers drop cached answers at
   their TTL, so the second look catches what the first was too early for.

Every wait is an SQS message delay (at most 900 s), never a sleep. A job is a
versioned JSON message; anything else found in the queue is refused. A job
carries no text to show anyone: whoever may send to the queue may write one,
so what SES says is read from SES when the job runs (``quote_recommendations``),
and a ``ses_says`` field that older versions wrote is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from .affected import KnownIdentity
from .events import EventKind, Recheck

RECHECK_MESSAGE = "ses-dkim-monitor/recheck/v1"

POLL_SECONDS = 15  # between two GetChange calls; Route 53 changes are usually INSYNC within a minute
MAX_POLLS = 40  # 10 minutes of PENDING: look anyway (the second look follows)
SQS_MAX_DELAY = 900

FIRST_LOOK, SECOND_LOOK = 1, 2
WHOLE_ACCOUNT = "*"  # the debounce key of a job that re-checks every identity of its account and region


@dataclass(frozen=True)
class RecheckJob:
    """One (account, region) to look at again, and why."""

    account: str
    region: str
    identities: tuple[str, ...]  # empty with whole_account: every identity of the shard
    reason: str
    event_time: str  # when the change was made (ISO 8601): what "within minutes" is measured from
    look: int = FIRST_LOOK
    change_id: str | None = None  # a Route 53 change to wait for before the first look
    change_account: str | None = None  # the account that made it (GetChange is asked there)
    polls: int = 0
    whole_account: bool = False
    # From an SES recommendation event: the look reads SES's open recommendations for these identities
    # (with IMPORT_SES_RECOMMENDATIONS) and quotes them. A flag, never the words themselves.
    quote_recommendations: bool = False

    @property
    def waits_for_change(self) -> bool:
        return self.look == FIRST_LOOK and self.change_id is not None and self.polls < MAX_POLLS

    @property
    def debounce_keys(self) -> tuple[str, ...]:
        return (WHOLE_ACCOUNT,) if self.whole_account else self.identities


def plan(
    recheck: Recheck, identities: Iterable[KnownIdentity], *, event_time: datetime, ask_change: bool = True
) -> list[RecheckJob]:
    """One job per (account, region) of ``identities`` (or of the event, for a whole-account event).

    ``ask_change`` False: the account that made a Route 53 change cannot be asked about it (the function
    has no role there), so its jobs do not wait for ``INSYNC`` and look after the usual delay.
    """
    when = event_time.isoformat()
    quote = recheck.kind is EventKind.SES_RECOMMENDATION
    if recheck.whole_account:
        regions = sorted({(k.account, k.region) for k in identities})
        if not regions and recheck.region is not None:
            regions = [(recheck.account, recheck.region)]
        return [
            RecheckJob(account, region, (), recheck.reason, when, whole_account=True, quote_recommendations=quote)
            for account, region in regions
        ]
    change_id = recheck.change_id if ask_change else None
    groups: dict[tuple[str, str], list[str]] = {}
    for k in identities:
        names = groups.setdefault((k.account, k.region), [])
        if k.name not in names:
            names.append(k.name)
    return [
        RecheckJob(
            account,
            region,
            tuple(names),
            recheck.reason,
            when,
            change_id=change_id,
            change_account=recheck.account if change_id else None,
            quote_recommendations=quote,
        )
        for (account, region), names in sorted(groups.items())
    ]


def first_delay(job: RecheckJob, *, delay_seconds: int) -> int:
    """Seconds the job waits in the queue before its first step."""
    return POLL_SECONDS if job.waits_for_change else min(delay_seconds, SQS_MAX_DELAY)


def after_poll(job: RecheckJob, *, in_sync: bool) -> RecheckJob | None:
    """The job to queue again (``POLL_SECONDS`` later) while its change is pending; None: look now."""
    if in_sync or job.polls + 1 >= MAX_POLLS:
        return None
    return replace(job, polls=job.polls + 1)


def second_look(job: RecheckJob) -> RecheckJob | None:
    """The confirming look that follows a first look; None after the second."""
    if job.look != FIRST_LOOK:
        return None
    return replace(job, look=SECOND_LOOK, change_id=None, change_account=None)


def with_identities(job: RecheckJob, names: Sequence[str]) -> RecheckJob:
    return replace(job, identities=tuple(names))


def encode(job: RecheckJob) -> str:
    return json.dumps({"schema": RECHECK_MESSAGE, **asdict(job)}, separators=(",", ":"))


def is_job(body: str) -> bool:
    """True when ``body`` claims to be a re-check job (parse may still refuse it)."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("schema") == RECHECK_MESSAGE


def decode(body: str) -> RecheckJob:
    """A job from a queued message; ValueError (naming the field) for anything else."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != RECHECK_MESSAGE:
        raise ValueError("not a re-check job of this version")

    def text(key: str, *, optional: bool = False) -> Any:
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{key}: expected a string")
        return value

    def integer(key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key}: expected a non-negative integer")
        return value

    names = data.get("identities")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("identities: expected a list of strings")
    look = integer("look")
    if look not in (FIRST_LOOK, SECOND_LOOK):
        raise ValueError(f"look: {look} is neither {FIRST_LOOK} nor {SECOND_LOOK}")
    whole = data.get("whole_account")
    if not isinstance(whole, bool):
        raise ValueError("whole_account: expected true or false")
    quote = data.get("quote_recommendations", False)
    if not isinstance(quote, bool):
        raise ValueError("quote_recommendations: expected true or false")
    if not names and not whole:
        raise ValueError("identities: empty for a job that is not whole_account")
    try:
        datetime.fromisoformat(text("event_time"))
    except ValueError:
        raise ValueError("event_time: expected an ISO 8601 time") from None  # the field, never its value
    return RecheckJob(
        account=text("account"),
        region=text("region"),
        identities=tuple(names),
        reason=text("reason"),
        event_time=text("event_time"),
        look=look,
        change_id=text("change_id", optional=True),
        change_account=text("change_account", optional=True),
        polls=integer("polls"),
        whole_account=whole,
        quote_recommendations=quote,
    )
