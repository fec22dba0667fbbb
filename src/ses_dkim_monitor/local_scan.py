"""The scan as the CLI runs it, in this process: every configured account and region, side by side.

Shared by ``check`` and ``fix`` (``cli.py`` and ``fix/command.py``), so
neither imports the other for it. The Lambda scans through ``runs.py``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

import boto3

from . import runs
from .aws_clients import caller_identity
from .models import ScanReport
from .scan.deadline import Deadline
from .scan.engine import run_scan
from .scan.zone_memory import InMemoryZoneMemory
from .settings import Settings
from .wiring import build_probe, build_shards

log = logging.getLogger(__name__)


def scan(
    settings: Settings, session: boto3.Session, *, only: Sequence[str], deadline: Deadline | None = None
) -> ScanReport:
    """The same scan as the Lambda, for the CLI: every configured account and region, side by side.

    ``deadline`` is the CLI's ``--time-budget``. Confirmed signing zones are kept for this process only: the CLI never
    writes into a deployed monitor's table. Raises BotoCoreError/ClientError
    when the credentials' own account cannot be read.
    """
    if settings.multi_account:
        own_account, partition = caller_identity(session)
    else:
        try:
            own_account, partition = caller_identity(session)
        except Exception as exc:  # STS unreachable: SES will say what is wrong, per region, below
            log.debug("own account unknown", extra={"error": type(exc).__name__})
            own_account, partition = "", "aws"
    targets, failed = runs.targets_for(settings, session, own_account=own_account, partition=partition)
    plan = build_shards(settings, session, targets, regions=settings.regions, run_id=uuid.uuid4().hex[:12])
    return run_scan(
        plan.shards,
        build_probe(settings),
        check_dmarc=settings.check_dmarc,
        only=only,
        deadline=deadline,
        zones=InMemoryZoneMemory(),
        max_confirmations=settings.max_zone_confirmations,
        max_details=settings.max_identity_details,
        nameservers=settings.check_nameservers,
        failed=[*failed, *plan.failed],
        throttled=lambda: plan.pacing.total().throttled,
        ses_recommendations=settings.import_ses_recommendations,
    )
