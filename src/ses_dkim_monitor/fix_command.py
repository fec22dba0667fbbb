"""The exact ``ses-dkim-monitor fix`` command for one identity, and which findings it fixes.

Pure text: the Lambda never applies fixes, it only tells on-call what to run.
Alerts, the status page, the terminal report and the ``fix`` planner share
``DNS_FIXABLE``, so they agree on what a DNS change fixes.
"""

from __future__ import annotations

import shlex

from . import catalogue as c
from .models import Finding

# Findings a DNS change fixes (a record to publish, or to correct): for these the command is shown.
DNS_FIXABLE = frozenset(
    {c.DKIM_RECORD_MISSING, c.DKIM_RECORD_WRONG_TARGET, c.DMARC_RECORD_MISSING, c.MAIL_FROM_RECORD_MISSING}
)


def dns_fixable(f: Finding) -> bool:
    """True when a DNS change fixes ``f``: a fixable check, or any record published in the wrong place."""
    return f.check in DNS_FIXABLE or (f.misplaced is not None and f.record is not None)


def fix_command(*, region: str, identity: str) -> str:
    """The dry-run command that plans the DNS changes for ``identity`` (add ``--apply`` to make them)."""
    return f"ses-dkim-monitor fix --region {shlex.quote(region)} --identity {shlex.quote(identity)}"
