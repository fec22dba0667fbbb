"""What the function monitors, derived from its own configuration: the only targets a queue message may name.

Queue messages (a fanned-out shard, a re-check job) are written by the
function, but anyone in the account who may ``sqs:SendMessage`` to the queue
can write one too. So a message is a request, never an instruction: its
account, region and role are checked against what the configuration itself
says, and the scan uses the target derived here, never the message's values.

* ``SCAN_ROLE_ARNS``: exactly these roles; a shard must name one of them and
  the account that role lives in.
* ``SCAN_ORGANIZATION_ROLE_NAME``: every ACTIVE account of the organization
  (``organizations:ListAccounts``), each through
  ``arn:<partition>:iam::<account>:role/<name>``; the function's own account
  with no role. A role of that name in an account outside the organization is
  never a target: IAM alone would let the function assume it (its policy names
  ``arn:aws:iam::*:role/<name>``), which is why the template also conditions
  that grant on ``aws:ResourceOrgID`` (docs/member-accounts.md).
* Neither: the function's own account, with no role.

And the region must be one of ``SCAN_REGIONS``. A message that breaks a rule
raises :class:`Rejected` with the rule's name, which is all the caller logs.

The organization's list is kept per process (a Lambda cold start), at most
``MAX_AGE_SECONDS`` old; an account that is not in it causes one more listing
only once the list is ``RELIST_AFTER_SECONDS`` old, so a flood of forged
account numbers costs at most one ``ListAccounts`` a minute while an account
added to the organization is found within that minute. A listing that fails
raises ``AccountError``: an AWS fault, retried like any other, never a
rejection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .accounts import AccountTarget, organization_targets, role_targets
from .aws_clients import CLIENT_CONFIG
from .settings import Settings

RELIST_AFTER_SECONDS = 60.0  # an unknown account lists the organization again at most once a minute
MAX_AGE_SECONDS = 900.0  # a list is read again after 15 minutes even when every account asked for is in it

ACCOUNT_NOT_MONITORED = "account-not-monitored"
ROLE_NOT_CONFIGURED = "role-not-configured"
REGION_NOT_CONFIGURED = "region-not-configured"
CHANGE_ACCOUNT_NOT_MONITORED = "change-account-not-monitored"
RUN_NOT_RECORDED = "run-not-recorded"  # a shard of a run the function never recorded (runs.recorded_scan_time)


class Rejected(Exception):
    """A queue message names something the configuration does not monitor. ``rule`` says which rule it broke."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass(frozen=True)
class _Listing:
    at: float
    targets: dict[str, tuple[AccountTarget, ...]]


# (role name, own account, partition) -> the organization as last listed, for this process.
_organization: dict[tuple[str, str, str], _Listing] = {}


def clear_cache() -> None:
    """Forget the organization's list (tests; a new process starts without one anyway)."""
    _organization.clear()


def _by_account(targets: list[AccountTarget]) -> dict[str, tuple[AccountTarget, ...]]:
    found: dict[str, tuple[AccountTarget, ...]] = {}
    for target in targets:
        found[target.account_id] = (*found.get(target.account_id, ()), target)
    return found


class Monitored:
    """The accounts, roles and regions the configuration monitors; built per invocation, cheap."""

    def __init__(
        self,
        settings: Settings,
        session: Any,
        *,
        own_account: str,
        partition: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._session = session
        self._own = own_account
        self._partition = partition
        self._clock = clock
        self._fixed: dict[str, tuple[AccountTarget, ...]] | None = None
        if settings.scan_role_arns:
            self._fixed = _by_account(role_targets(settings.scan_role_arns, own_account=own_account))
        elif not settings.organization_role_name:
            self._fixed = {own_account: (AccountTarget(account_id=own_account, role_arn=None),)}

    # ------------------------------------------------------------ what is monitored

    def _targets(self, account: str) -> tuple[AccountTarget, ...]:
        if self._fixed is not None:
            return self._fixed.get(account, ())
        key = (self._settings.organization_role_name, self._own, self._partition)
        now = self._clock()
        listing = _organization.get(key)
        stale = listing is None or now - listing.at >= MAX_AGE_SECONDS
        unknown = listing is not None and account not in listing.targets and now - listing.at >= RELIST_AFTER_SECONDS
        if stale or unknown:
            organizations = self._session.client("organizations", config=CLIENT_CONFIG)
            listed = organization_targets(
                organizations,
                role_name=self._settings.organization_role_name,
                own_account=self._own,
                partition=self._partition,
            )
            listing = _organization[key] = _Listing(at=now, targets=_by_account(listed))
        assert listing is not None
        return listing.targets.get(account, ())

    def target(self, account: str) -> AccountTarget | None:
        """How to reach ``account`` (its first configured role), or None when it is not monitored."""
        found = self._targets(account)
        return found[0] if found else None

    # ------------------------------------------------------------ checking a message

    def _region(self, region: str) -> None:
        if region not in self._settings.regions:
            raise Rejected(REGION_NOT_CONFIGURED)

    def shard(self, account: str, region: str, role_arn: str | None) -> AccountTarget:
        """The configured target a shard message names; Rejected when it names anything else."""
        self._region(region)
        found = self._targets(account)
        if not found:
            raise Rejected(ACCOUNT_NOT_MONITORED)
        for target in found:
            if target.role_arn == role_arn:
                return target
        raise Rejected(ROLE_NOT_CONFIGURED)

    def job(self, account: str, region: str, change_account: str | None) -> AccountTarget:
        """The configured target of a re-check job's account; Rejected when the job names anything unmonitored.

        ``change_account`` (where a Route 53 change is asked about) must be monitored too: the
        function assumes a role there.
        """
        self._region(region)
        target = self.target(account)
        if target is None:
            raise Rejected(ACCOUNT_NOT_MONITORED)
        if change_account is not None and change_account != account and self.target(change_account) is None:
            raise Rejected(CHANGE_ACCOUNT_NOT_MONITORED)
        return target
