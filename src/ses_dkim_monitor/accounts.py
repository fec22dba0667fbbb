"""Which AWS accounts to scan, and a session for each.

A composition helper, like ``aws_clients``: the CLI and the Lambda handler
turn their options (``--role-arn``, ``--organization --role-name``,
``--external-id``; ``SCAN_ROLE_ARNS``, ``SCAN_ORGANIZATION_ROLE_NAME``,
``SCAN_ROLE_EXTERNAL_ID``) into :class:`AccountTarget` values with
:func:`role_targets` or :func:`organization_targets`, then ask
:func:`assumed_session` for one boto3 session per account. It builds only the
STS client it needs, from the base session it receives.

Sessions hold botocore ``RefreshableCredentials`` whose refresh calls
``sts:AssumeRole`` again, so a scan that outlives one role session (10,000
identities at 1 request/s in several regions) keeps going. The first
AssumeRole happens eagerly: a role that cannot be assumed raises
:class:`AccountError` before the scan starts, and the caller records that
account as failed shards while the others are scanned.

A refresh that fails later, in the middle of a scan, surfaces from the SES
call being signed as the STS ``ClientError`` itself (botocore re-raises a
failed mandatory refresh), which the inventory already reports as a shard
error.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .aws_clients import CLIENT_CONFIG
from .aws_errors import error_code, error_message

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("sts:AssumeRole", "organizations:ListAccounts")

# CloudTrail in the member account shows this as the session name, so whoever
# reads it can tell the monitor's calls apart and find the run.
SESSION_NAME_PREFIX = "ses-dkim-monitor"

# STS limits: RoleSessionName is 2-64 characters of [\w+=,.@-];
# DurationSeconds is 900 s to 12 h (and no more than the role's own maximum,
# which only STS knows: it answers ValidationError, reported as AccountError).
SESSION_NAME_MAX = 64
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43_200
CREDENTIAL_METHOD = "assume-role"  # what botocore's own AssumeRole provider calls itself

ACCOUNT_ID_RE = re.compile(r"[0-9]{12}", re.ASCII)
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]", re.ASCII)
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>\d{12}):role/(?:[!-~]*/)?[\w+=,.@-]{1,64}",
    re.ASCII,
)


@dataclass(frozen=True)
class AccountTarget:
    """One account to scan and how to reach it."""

    account_id: str
    role_arn: str | None  # None: scan with the base session itself (its own account)
    name: str = ""  # account name when known (Organizations), for messages


class AccountError(Exception):
    """An account that cannot be scanned (its role cannot be assumed, the organization cannot be listed)."""

    def __init__(self, account_id: str, reason: str):
        super().__init__(f"{account_id}: {reason}")
        self.account_id = account_id
        self.reason = reason


def parse_role_arn(arn: str) -> tuple[str, str]:
    """(partition, account id) of an IAM role ARN; ValueError naming the value otherwise."""
    match = _ROLE_ARN.fullmatch(arn)
    if match is None:
        raise ValueError(
            f"not an IAM role ARN: {arn!r} (expected arn:<partition>:iam::<12-digit account id>:role/<name>)"
        )
    return match["partition"], match["account"]


def role_targets(role_arns: Sequence[str], *, own_account: str) -> list[AccountTarget]:
    """One target per role ARN, in the order given, duplicates removed.

    A role in ``own_account`` is still assumed: the user named that role, and
    its permissions may be what they want the scan to run with.
    ``own_account`` is accepted so both target builders are called alike.
    """
    targets: list[AccountTarget] = []
    seen: set[str] = set()
    for raw in role_arns:
        arn = raw.strip()  # tolerate "arn1, arn2" from an environment variable
        _, account = parse_role_arn(arn)
        if arn in seen:
            continue
        seen.add(arn)
        targets.append(AccountTarget(account_id=account, role_arn=arn))
    return targets


def _is_active(account: dict[str, Any]) -> bool:
    # "Status" is being retired in favour of "State" (September 2026); either
    # saying ACTIVE is enough. Erring towards inclusion is the safe side: an
    # account that is not really active fails its AssumeRole and shows up as
    # a failed shard, where a wrongly skipped one would go silently unscanned.
    # (Only accounts listed here are ever targets: a role of the same name in an
    # account outside the organization is never assumed. IAM alone would allow
    # it; the template's aws:ResourceOrgID condition and monitored.py do not.)
    return "ACTIVE" in (account.get("Status"), account.get("State"))


def organization_targets(
    organizations: Any, *, role_name: str, own_account: str, partition: str = "aws"
) -> list[AccountTarget]:
    """Every ACTIVE account of the organization, sorted by id.

    The account of the base credentials (normally the management account) is
    scanned with the base session itself: service-managed StackSets do not
    deploy the member role there. Raises AccountError(own_account, ...) when
    ListAccounts fails, ValueError for a role name IAM would not accept.
    """
    parse_role_arn(f"arn:{partition}:iam::{'0' * 12}:role/{role_name}")  # fail fast on a bad name or partition
    accounts: list[dict[str, Any]] = []
    try:
        for page in organizations.get_paginator("list_accounts").paginate():
            accounts.extend(page.get("Accounts", []))
    except (ClientError, BotoCoreError) as exc:
        raise AccountError(own_account, f"cannot list the organization's accounts ({_one_line(exc)})") from exc

    targets = []
    for account in accounts:
        if not _is_active(account):
            log.info(
                "skipping account that is not active",
                extra={"account": account["Id"], "status": account.get("Status"), "state": account.get("State")},
            )
            continue
        account_id = account["Id"]
        role_arn = None if account_id == own_account else f"arn:{partition}:iam::{account_id}:role/{role_name}"
        targets.append(AccountTarget(account_id=account_id, role_arn=role_arn, name=account.get("Name", "")))
    return sorted(targets, key=lambda target: target.account_id)


def role_session_name(run_id: str) -> str:
    """``ses-dkim-monitor-<run id>`` with characters STS refuses replaced, cut to 64."""
    return _SESSION_NAME_UNSAFE.sub("-", f"{SESSION_NAME_PREFIX}-{run_id}")[:SESSION_NAME_MAX]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{error_code(exc)}: {error_message(exc)}".split())


def role_credentials(
    sts: Any,
    target: AccountTarget,
    *,
    run_id: str,
    external_id: str | None = None,
    duration_seconds: int = 3600,
    clock: Callable[[], datetime.datetime] = _utc_now,
) -> RefreshableCredentials:
    """Credentials of ``target.role_arn`` that renew themselves through ``sts:AssumeRole``.

    The first AssumeRole is made here and a failure raises AccountError.
    ``clock`` is botocore's time fetcher (tz-aware now): tests pass their own
    to step past the expiry without sleeping.
    """
    if target.role_arn is None:
        raise ValueError(f"account {target.account_id} has no role to assume")
    if not MIN_DURATION_SECONDS <= duration_seconds <= MAX_DURATION_SECONDS:
        raise ValueError(
            f"duration_seconds must be {MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS}, not {duration_seconds}"
        )
    role_arn = target.role_arn
    request: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": role_session_name(run_id),
        "DurationSeconds": duration_seconds,
    }
    if external_id:
        request["ExternalId"] = external_id

    def assume() -> dict[str, str]:
        log.debug("assuming role", extra={"account": target.account_id, "role_arn": role_arn})
        credentials = sts.assume_role(**request)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    try:
        first = assume()
    except (ClientError, BotoCoreError) as exc:
        raise AccountError(target.account_id, f"cannot assume {role_arn} ({_one_line(exc)})") from exc

    # botocore refreshes 15 min (advisory) / 10 min (mandatory) before expiry:
    # with a 15-minute session that would mean an AssumeRole before every
    # request, so short sessions refresh within the last third / sixth instead.
    return RefreshableCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=datetime.datetime.fromisoformat(first["expiry_time"]),
        refresh_using=assume,
        method=CREDENTIAL_METHOD,
        time_fetcher=clock,
        advisory_timeout=min(15 * 60, duration_seconds // 3),
        mandatory_timeout=min(10 * 60, duration_seconds // 6),
    )


class _FixedCredentialProvider(CredentialProvider):
    """Hands botocore the one credentials object it was given."""

    METHOD = CREDENTIAL_METHOD

    def __init__(self, credentials: RefreshableCredentials):
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def session_with_credentials(base: boto3.Session, credentials: RefreshableCredentials) -> boto3.Session:
    """A boto3 session like ``base`` (profile configuration, region) signing with ``credentials``."""
    # "default" is what boto3 reports when no profile was chosen; naming it
    # explicitly would fail on a machine without a config file.
    profile = None if base.profile_name == "default" else base.profile_name
    core = botocore.session.Session(profile=profile)
    # The only credential source of this session: nothing from the
    # environment or a profile can take the role's place.
    core.register_component("credential_provider", CredentialResolver([_FixedCredentialProvider(credentials)]))
    # Service models are the same for every account: share the base session's loader (and its
    # cache) so that a hundred accounts do not each parse the SES and STS models again.
    core.register_component("data_loader", base._session.get_component("data_loader"))
    return boto3.Session(botocore_session=core, region_name=base.region_name)


def assumed_session(
    base: boto3.Session,
    target: AccountTarget,
    *,
    run_id: str,
    external_id: str | None = None,
    duration_seconds: int = 3600,
) -> boto3.Session:
    """A session in ``target``'s account; ``base`` itself when there is no role to assume.

    Raises AccountError (the account id and a one-line reason) when the role
    cannot be assumed, so the caller can record the account as failed shards
    and go on with the others.
    """
    if target.role_arn is None:
        return base
    sts = base.client("sts", region_name=base.region_name, config=CLIENT_CONFIG)
    credentials = role_credentials(
        sts, target, run_id=run_id, external_id=external_id, duration_seconds=duration_seconds
    )
    return session_with_credentials(base, credentials)
