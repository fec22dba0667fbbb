"""The exit statuses of the ``ses-dkim-monitor`` command, a public contract.

One home for them, so ``cli.py`` (which parses and dispatches) and
``fix/command.py`` (which ``cli.py`` runs) both import from below instead of
``fix`` importing the CLI that imports it. ``cli.EXIT_*`` stay importable.

0 clean, 1 a finding at or above ``--fail-on`` (``fix``: a plan remains),
2 usage or configuration error, 3 the scan (or ``fix``'s Route 53 read) could
not complete, 4 ``--notify`` could not deliver every notification,
5 ``fix --apply`` could not apply a change.
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_NOT_DELIVERED = 0, 1, 2, 3, 4
EXIT_APPLY_FAILED = 5  # `fix --apply`: a change not applied (a record moved: that batch and the later ones not sent)
