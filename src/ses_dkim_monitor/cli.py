"""The ``ses-dkim-monitor`` command: the same scan as the Lambda, from a terminal.

Exit status: 0 clean, 1 a finding at or above ``--fail-on``, 2 usage or
configuration error, 3 the scan could not complete (an account or region
could not be read: SES unreachable, access denied, a role that cannot be
assumed; the others are still reported), 4 ``--notify`` could not deliver
every notification, 5 ``fix --apply`` could not apply a change. Errors are
one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import __version__, i18n
from .aws_errors import error_code, error_message
from .exit_codes import EXIT_APPLY_FAILED as EXIT_APPLY_FAILED  # cli.EXIT_* stay importable for users
from .exit_codes import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_NOT_DELIVERED, EXIT_OK, EXIT_USAGE
from .i18n import _
from .local_scan import scan
from .models import ScanReport, Severity
from .render.html_page import to_html
from .render.json_report import write_json
from .render.text_report import to_text
from .scan.deadline import Deadline
from .settings import ConfigError, Settings
from .wiring import build_alerting, build_probe


def scope_arguments() -> argparse.ArgumentParser:
    """Options that say what to scan and how to reach it, shared by every subcommand."""
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="region to scan (repeatable; default: SCAN_REGIONS or the configured AWS region)",
    )
    scope.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="NAME",
        help="only this identity (repeatable), e.g. before and after a DNS change",
    )
    scope.add_argument(
        "--role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="scan the account of this role, assumed with STS (repeatable; default: the credentials' own account)",
    )
    scope.add_argument(
        "--organization",
        action="store_true",
        help="scan every ACTIVE account of the organization (with --role-name), the management account included",
    )
    scope.add_argument("--role-name", metavar="NAME", help="with --organization: the role to assume in each account")
    scope.add_argument("--external-id", metavar="ID", help="the external id the roles' trust policies require")
    scope.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="IP[:PORT]",
        help="recursive resolver to ask (repeatable; default: DNS_NAMESERVERS or the system's)",
    )
    scope.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="DNS timeout per server and attempt (default: DNS_TIMEOUT_SECONDS or 2)",
    )
    scope.add_argument(
        "--ses-requests-per-second",
        type=float,
        metavar="N",
        help="SES calls per second per account and region (default: SES_REQUESTS_PER_SECOND or 1, SES's limit)",
    )
    scope.add_argument(
        "--time-budget",
        type=_positive_seconds,
        metavar="SECONDS",
        help="stop the scan after this long: identities not checked by then are reported unknown "
        "(identity-not-checked, cause out-of-time), never healthy (default: no limit)",
    )
    scope.add_argument(
        "--language",
        choices=i18n.LANGUAGES,
        help="language of the report, the plan and --notify's alerts (default: from LANGUAGE, LC_ALL, "
        "LC_MESSAGES or LANG, as gettext reads them; ja_JP.UTF-8 gives ja, anything else en)",
    )
    scope.add_argument("-v", "--verbose", action="store_true", help="log progress and skipped identities to stderr")
    return scope


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive, finite number of seconds")
    return value


def time_budget(args: argparse.Namespace) -> Deadline | None:
    """The deadline ``--time-budget`` sets, counted from now (None: no limit)."""
    return Deadline.after(args.time_budget) if args.time_budget else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ses-dkim-monitor",
        description="Check every Amazon SES identity's DKIM status and the DNS records behind it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    scope = scope_arguments()
    check = sub.add_parser("check", parents=[scope], help="scan SES identities and report problems (problems first)")
    check.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="output format (default text; html: one self-contained status page)",
    )
    check.add_argument(
        "--fail-on",
        choices=("critical", "warning", "never"),
        default="critical",
        help="exit 1 when a finding at or above this severity exists (default critical)",
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
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (auto: only on a terminal, and not when NO_COLOR is set)",
    )
    fix = sub.add_parser(
        "fix",
        parents=[scope],
        help="plan the DNS changes that fix the findings (dry run); --apply makes them in Route 53",
    )
    fix.add_argument("--apply", action="store_true", help="make the Route 53 changes (asks first on a terminal)")
    fix.add_argument(
        "--yes", action="store_true", help="with --apply: do not ask (needed when stdin is not a terminal)"
    )
    fix.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    fix.add_argument(
        "--fix-for-account",
        action="append",
        default=[],
        metavar="ACCOUNT",
        help="also fix identities of this account in this account's Route 53 (repeatable); by default only the "
        "identities of the account whose credentials write Route 53 are fixed, others are listed as not fixed here",
    )
    fix.add_argument(
        "--dmarc-rua",
        metavar="mailto:ADDRESS",
        help="publish a starter DMARC record (p=none) sending aggregate reports here; without it DMARC is left out",
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
    if args.ses_requests_per_second is not None:
        merged["SES_REQUESTS_PER_SECOND"] = str(args.ses_requests_per_second)
    if args.role_arn or args.organization:
        # The command line says which accounts: the environment's choice does not mix in.
        merged.pop("SCAN_ROLE_ARNS", None)
        merged.pop("SCAN_ORGANIZATION_ROLE_NAME", None)
    if args.role_arn:
        merged["SCAN_ROLE_ARNS"] = ",".join(args.role_arn)
    if args.organization:
        if not args.role_name:
            raise ConfigError("--organization: needs --role-name, the role to assume in each account")
        merged["SCAN_ORGANIZATION_ROLE_NAME"] = args.role_name
    elif args.role_name:
        raise ConfigError("--role-name: only with --organization (use --role-arn for single roles)")
    if args.external_id:
        merged["SCAN_ROLE_EXTERNAL_ID"] = args.external_id
    if getattr(args, "no_dmarc", False):
        merged["CHECK_DMARC"] = "false"
    if getattr(args, "topic_arn", None):
        merged["ALERT_TOPIC_ARN"] = args.topic_arn
    if getattr(args, "slack_secret_arn", None):
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
    with _package_logging(verbose=args.verbose):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args, dict(os.environ))
        session = boto3.Session()
        build_probe(settings)  # a resolver that cannot be configured is a configuration error
    except ConfigError as exc:
        print(f"ses-dkim-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BotoCoreError as exc:  # e.g. a profile that does not exist
        print(f"ses-dkim-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # dnspython without a usable resolv.conf, ...
        print(f"ses-dkim-monitor: configuration error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with i18n.speaking(args.language or settings.locale_language):
        return _run(args, settings, session)


def _run(args: argparse.Namespace, settings: Settings, session: boto3.Session) -> int:
    """The command, in the language chosen (``--language``, else the locale)."""
    if args.command == "fix":
        from .fix.command import run_fix  # CLI only: nothing the Lambda imports reaches the fix package

        return run_fix(args, settings, session)

    try:
        report = scan(settings, session, only=args.identity, deadline=time_budget(args))
    except (BotoCoreError, ClientError) as exc:  # the credentials' own account cannot be read
        print(f"ses-dkim-monitor: cannot read AWS: {error_code(exc)}: {error_message(exc)}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except Exception as exc:  # a bug or an environment we did not foresee: one line, exit 3
        print(f"ses-dkim-monitor: scan failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    found = {r.identity.name.lower() for r in report.identities}
    missing = [name for name in args.identity if name.lower() not in found]
    if missing and not report.errors:
        names, regions = ", ".join(missing), ", ".join(settings.regions)
        print(
            "ses-dkim-monitor: " + _("no identity named {names} in {regions}").format(names=names, regions=regions),
            file=sys.stderr,
        )
        return EXIT_USAGE

    if report.identities or not report.errors:
        if args.format == "json":
            write_json(report, sys.stdout)
            sys.stdout.write("\n")
        elif args.format == "html":
            sys.stdout.write(to_html(report))
        else:
            colour = args.color == "always" or (
                args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            )
            sys.stdout.write(to_text(report, colour=colour))
    for error in report.errors:
        shard = f"{error.account}/{error.region}" if error.account else error.region
        print(
            "ses-dkim-monitor: " + _("scan incomplete: {shard}: {reason}").format(shard=shard, reason=error.reason),
            file=sys.stderr,
        )
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
        _store, notifiers, policy = build_alerting(stateless, session)
        if not notifiers:
            print(
                "ses-dkim-monitor: --notify: "
                + _(
                    "no channel configured (set ALERT_TOPIC_ARN or SLACK_WEBHOOK_SECRET_ARN, or pass --topic-arn / "
                    "--slack-secret-arn)"
                ),
                file=sys.stderr,
            )
            return EXIT_USAGE
        results = [
            run_alerting(
                report.for_account(account),
                account_id=account,
                store=None,
                notifiers=notifiers,
                now=datetime.now(UTC),
                policy=policy,
            )
            for account in report.accounts
        ]
    except Exception as exc:
        print(f"ses-dkim-monitor: --notify failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_NOT_DELIVERED
    sent = sum(len(r.notifications) for r in results)
    delivered, failed = sum(r.delivered for r in results), sum(r.failed for r in results)
    channels = ", ".join(n.name for n in notifiers)
    print(
        "ses-dkim-monitor: "
        + _("notified {sent} finding(s) through {channels}: {delivered} delivered, {failed} failed").format(
            sent=sent, channels=channels, delivered=delivered, failed=failed
        ),
        file=sys.stderr,
    )
    return EXIT_NOT_DELIVERED if failed else EXIT_OK


@contextlib.contextmanager
def _package_logging(*, verbose: bool) -> Iterator[None]:
    """Log records are for --verbose only, so stderr stays one line per error.

    Only the package's own logger is configured (and kept from propagating),
    and only while ``main`` runs: nothing changes for a program that calls it.
    """
    package = logging.getLogger("ses_dkim_monitor")
    saved = (package.handlers, package.level, package.propagate)
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    package.handlers = [handler]
    package.setLevel(logging.INFO if verbose else logging.WARNING)
    package.propagate = False
    try:
        yield
    finally:
        package.handlers, package.level, package.propagate = saved


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
