"""The ``ses-dkim-monitor`` command: the same scan as the Lambda, from a terminal.

Exit status: 0 clean, 1 a finding at or above ``--fail-on``, 2 usage or
configuration error, 3 the scan could not complete (SES unreachable, access
denied), 4 ``--notify`` could not deliver every notification. Errors are one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC

import boto3
from botocore.exceptions import BotoCoreError

from . import __version__
from .aws_clients import caller_account, client_factory
from .models import ScanReport, Severity
from .render.json_report import to_json
from .render.text_report import to_text
from .scan.engine import run_scan
from .settings import ConfigError, Settings
from .wiring import build_alerting, build_probe

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_NOT_DELIVERED = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ses-dkim-monitor",
        description="Check every Amazon SES identity's DKIM status and the DNS records behind it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="scan SES identities and report problems (problems first)")
    check.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="region to scan (repeatable; default: SCAN_REGIONS or the configured AWS region)",
    )
    check.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help="recursive resolver to ask (repeatable; default: DNS_NAMESERVERS or the system's)",
    )
    check.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="NAME",
        help="report only this identity (repeatable), e.g. before and after a DNS change",
    )
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    check.add_argument(
        "--fail-on",
        choices=("critical", "warning", "never"),
        default="critical",
        help="exit 1 when a finding at or above this severity exists (default critical)",
    )
    check.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="DNS timeout per server and attempt (default: DNS_TIMEOUT_SECONDS or 2)",
    )
    check.add_argument("--no-dmarc", action="store_true", help="skip the DMARC record check")
    check.add_argument(
        "--notify",
        action="store_true",
        help="also send the findings through the configured channels (ALERT_TOPIC_ARN, "
        "SLACK_WEBHOOK_SECRET_ARN) as 'opened' alerts, without alert state: for testing channels",
    )
    check.add_argument("--topic-arn", metavar="ARN", help="with --notify: SNS topic (default ALERT_TOPIC_ARN)")
    check.add_argument(
        "--slack-secret-arn",
        metavar="ARN",
        help="with --notify: secret holding the Slack webhook URL (default SLACK_WEBHOOK_SECRET_ARN)",
    )
    check.add_argument("-v", "--verbose", action="store_true", help="log progress and skipped identities to stderr")
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (auto: only on a terminal, and not when NO_COLOR is set)",
    )
    return parser


def _settings(args: argparse.Namespace, env: dict[str, str]) -> Settings:
    merged = dict(env)
    if args.region:
        merged["SCAN_REGIONS"] = ",".join(args.region)
    elif not merged.get("SCAN_REGIONS"):
        region = boto3.Session().region_name  # honours AWS_PROFILE's configured region
        if region:
            merged["SCAN_REGIONS"] = region
    if args.nameserver:
        merged["DNS_NAMESERVERS"] = ",".join(args.nameserver)
    if args.timeout is not None:
        merged["DNS_TIMEOUT_SECONDS"] = str(args.timeout)
    if args.no_dmarc:
        merged["CHECK_DMARC"] = "false"
    if args.topic_arn:
        merged["ALERT_TOPIC_ARN"] = args.topic_arn
    if args.slack_secret_arn:
        merged["SLACK_WEBHOOK_SECRET_ARN"] = args.slack_secret_arn
    return Settings.from_env(merged)


def _exit_status(report: ScanReport, fail_on: str) -> int:
    if report.errors:
        return EXIT_INCOMPLETE
    if fail_on != "never":
        threshold = Severity(fail_on)
        if any(f.severity.at_least(threshold) for r in report.identities for f in r.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    _configure_logging(verbose=args.verbose)
    try:
        settings = _settings(args, dict(os.environ))
        session = boto3.Session()
        probe = build_probe(settings)
    except ConfigError as exc:
        print(f"ses-dkim-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BotoCoreError as exc:  # e.g. a profile that does not exist
        print(f"ses-dkim-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # dnspython without a usable resolv.conf, ...
        print(f"ses-dkim-monitor: configuration error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    try:
        report = run_scan(
            regions=settings.regions,
            client=client_factory(session),
            probe=probe,
            check_dmarc=settings.check_dmarc,
            only=args.identity,
        )
    except Exception as exc:  # a bug or an environment we did not foresee: one line, exit 3
        print(f"ses-dkim-monitor: scan failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    found = {r.identity.name.lower() for r in report.identities}
    missing = [name for name in args.identity if name.lower() not in found]
    if missing and not report.errors:
        print(
            f"ses-dkim-monitor: no identity named {', '.join(missing)} in {', '.join(settings.regions)}",
            file=sys.stderr,
        )
        return EXIT_USAGE

    if len(report.errors) < len(report.regions):
        if args.format == "json":
            sys.stdout.write(to_json(report) + "\n")
        else:
            colour = args.color == "always" or (
                args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            )
            sys.stdout.write(to_text(report, colour=colour))
    for error in report.errors:
        print(f"ses-dkim-monitor: scan incomplete: {error.region}: {error.reason}", file=sys.stderr)
    status = _exit_status(report, args.fail_on)
    if args.notify:
        notified = _notify(report, settings, session)
        if notified != EXIT_OK and status in (EXIT_OK, EXIT_FINDINGS):
            return notified
    return status


def _notify(report: ScanReport, settings: Settings, session: boto3.Session) -> int:
    """Send the current findings through the same notifiers the Lambda uses.

    Stateless on purpose (no state table): every finding at or above
    MIN_ALERT_SEVERITY goes out as "opened", so a user can repeat it while
    setting up a channel without disturbing the deployed monitor's state.
    """
    from datetime import datetime

    from .alerts.run import run_alerting

    stateless = dataclasses.replace(settings, state_table="")
    try:
        _, notifiers, policy = build_alerting(stateless, session)
        if not notifiers:
            print(
                "ses-dkim-monitor: --notify: no channel configured (set ALERT_TOPIC_ARN or "
                "SLACK_WEBHOOK_SECRET_ARN, or pass --topic-arn / --slack-secret-arn)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        result = run_alerting(
            report,
            account_id=_account_id(session),
            store=None,
            notifiers=notifiers,
            now=datetime.now(UTC),
            policy=policy,
        )
    except Exception as exc:
        print(f"ses-dkim-monitor: --notify failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_NOT_DELIVERED
    print(
        f"ses-dkim-monitor: notified {len(result.notifications)} finding(s) through "
        f"{', '.join(n.name for n in notifiers)}: {result.delivered} delivered, {result.failed} failed",
        file=sys.stderr,
    )
    return EXIT_NOT_DELIVERED if result.failed else EXIT_OK


def _configure_logging(*, verbose: bool) -> None:
    """Log records are for --verbose only, so stderr stays one line per error.

    Only the package's own logger is configured (and kept from propagating),
    so nothing global changes for a program that calls ``main``.
    """
    package = logging.getLogger("ses_dkim_monitor")
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    package.handlers = [handler]
    package.setLevel(logging.INFO if verbose else logging.WARNING)
    package.propagate = False


def _account_id(session: boto3.Session) -> str:
    try:
        return caller_account(session)
    except Exception:  # only a label in the messages; not worth failing the run
        return "unknown"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
