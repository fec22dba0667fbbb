"""The exact ``ses-dkim-monitor fix`` command for one identity, as alerts and pages print it.

Pure text: the Lambda never applies fixes, it only tells on-call what to run.
"""

from __future__ import annotations

import shlex


def fix_command(*, region: str, identity: str) -> str:
    """The dry-run command that plans the DNS changes for ``identity`` (add ``--apply`` to make them)."""
    return f"ses-dkim-monitor fix --region {shlex.quote(region)} --identity {shlex.quote(identity)}"
