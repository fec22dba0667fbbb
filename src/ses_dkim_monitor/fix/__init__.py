"""``ses-dkim-monitor fix``: from an alert to the DNS change that fixes it.

CLI only. The Lambda never applies fixes and never imports this package
(``tests/deploy/test_template.py`` checks that nothing the handler reaches
imports it, and keeps its Route 53 calls out of the Lambda's role).

The flow mirrors the scan's: ``triage`` sorts a report's findings into DNS
fixes, findings DNS cannot fix and fixes left out (pure, ``triage.py``);
``batch`` turns the fixes for one Route 53 hosted zone and the record sets it
holds now into one change batch (pure, ``batch.py``); ``route53`` is the
adapter; ``elsewhere`` finds a zone apex through SOA and writes what to type
into a provider's web form; ``apply`` re-reads, applies and waits;
``command`` is the subcommand's composition root and ``render`` its output.
"""
