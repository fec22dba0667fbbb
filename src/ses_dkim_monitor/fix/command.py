"""``ses-dkim-monitor fix``: the subcommand's composition root (cli.py parses, this runs).

Dry run by default: scan, plan, print. With ``--apply`` (and a confirmation
on a terminal unless ``--yes``) it makes the Route 53 changes, waits until
Route 53 reports them INSYNC, lets DNS catch up and scans the identities it
touched again, printing before and after.

Route 53 is written with the command's own credentials: their account (STS
GetCallerIdentity) is the one whose identities are fixed, plus the accounts
``--fix-for-account`` names; other accounts' fixes are listed, never applied.

Exit status (``exit_codes.py``): 0 nothing needs fixing, or everything was
applied and re-checked clean; 1 a plan remains (a dry run, a change to make
by hand, a finding DNS does not fix, or a re-check that still reports
something); 2 usage; 3 SES or Route 53 could not be read; 5 applying failed
(including a record that changed between the plan and a batch: that batch
and the later ones are not sent; the earlier ones stay applied, and the
output says which).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_clients import CLIENT_CONFIG, caller_identity
from ..aws_errors import error_code, error_message
from ..exit_codes import EXIT_APPLY_FAILED, EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from ..i18n import _
from ..local_scan import scan
from ..models import ScanReport
from ..scan.deadline import Deadline
from ..scan.dns_probe import make_resolver
from ..settings import Settings
from .apply import ApplyResult, Waiting, apply_plans
from .batch import ZonePlan
from .document import Recheck, to_json
from .locate import FixPlan, build_plan
from .render import applied_text, to_text
from .triage import parse_rua, triage


@dataclass
class Hooks:
    """What a test (or another front end) injects; the defaults are the real terminal, clock and sleep."""

    stdin: TextIO | None = None
    stdout: TextIO | None = None
    stderr: TextIO | None = None
    # Called after the confirmation, just before the records are re-read and the batches applied.
    before_apply: Callable[[], None] | None = None
    # "Wait for DNS": called with the applied zones once Route 53 reports INSYNC, before the re-check.
    wait_for_dns: Callable[[Sequence[ZonePlan]], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    insync_timeout: float = 300.0
    poll_interval: float = 5.0


def run_fix(args: argparse.Namespace, settings: Settings, session: Any, hooks: Hooks | None = None) -> int:
    h = hooks or Hooks()
    out, err, inp = h.stdout or sys.stdout, h.stderr or sys.stderr, h.stdin or sys.stdin
    try:
        rua = _check_usage(args, inp)
    except ValueError as exc:
        print(f"ses-dkim-monitor: fix: {exc}", file=err)
        return EXIT_USAGE

    try:
        budget = Deadline.after(args.time_budget) if getattr(args, "time_budget", None) else None
        report = scan(settings, session, only=args.identity, deadline=budget)
    except (BotoCoreError, ClientError) as exc:
        print(f"ses-dkim-monitor: cannot read AWS: {error_code(exc)}: {error_message(exc)}", file=err)
        return EXIT_INCOMPLETE
    except Exception as exc:  # one line, never a traceback (as `check`)
        print(f"ses-dkim-monitor: scan failed: {type(exc).__name__}: {exc}", file=err)
        return EXIT_INCOMPLETE
    found = {r.identity.name.lower() for r in report.identities}
    missing = [name for name in args.identity if name.lower() not in found]
    if missing and not report.errors:
        names, regions = ", ".join(missing), ", ".join(settings.regions)
        print(
            "ses-dkim-monitor: " + _("no identity named {names} in {regions}").format(names=names, regions=regions),
            file=err,
        )
        return EXIT_USAGE

    errors = [
        _("scan incomplete: {shard}: {reason}").format(
            shard=f"{e.account}/{e.region}" if e.account else e.region, reason=e.reason
        )
        for e in report.errors
    ]
    route53_account: str | None
    try:
        route53_account, _partition = caller_identity(session)
    except (BotoCoreError, ClientError) as exc:
        route53_account = None
        errors.append(
            _("cannot tell which account's Route 53 these credentials write: {reason}").format(reason=_reason(exc))
        )
    route53 = session.client("route53", region_name=settings.regions[0], config=CLIENT_CONFIG)
    resolver = make_resolver(settings.nameservers, timeout=settings.dns_timeout, lifetime=settings.dns_lifetime)
    plan = build_plan(
        triage(report, dmarc_rua=rua),
        route53=route53,
        resolver=resolver,
        route53_account=route53_account,
        fix_for=args.fix_for_account,
    )
    if plan.route53_error and route53_account is not None:
        errors.append(_("cannot read Route 53: {error}").format(error=plan.route53_error))
    errors += [_("cannot tell whether DNS serves a hosted zone: {error}").format(error=e) for e in plan.dns_errors]
    for line in errors:
        print(f"ses-dkim-monitor: {line}", file=err)

    applying = bool(args.apply and plan.to_apply)
    if args.format == "text":
        out.write(to_text(plan, identities=len(report.identities), applying=applying))
    if not applying:
        if args.apply and plan.pending:
            print("ses-dkim-monitor: fix: " + _("nothing for --apply to change in Route 53"), file=err)
        _json(args, out, plan, None, None, errors)
        return EXIT_INCOMPLETE if errors else (EXIT_FINDINGS if plan.pending else EXIT_OK)

    if not args.yes and args.format == "json":  # stdout is for the document: show what is confirmed on stderr
        err.write(to_text(plan, identities=len(report.identities), applying=True))
    if not args.yes and not _confirmed(plan, inp, err):
        print("ses-dkim-monitor: fix: " + _("nothing was changed"), file=err)
        _json(args, out, plan, None, None, errors)
        return EXIT_FINDINGS
    if h.before_apply is not None:
        h.before_apply()
    waiting = Waiting(sleep=h.sleep, clock=h.clock, timeout=h.insync_timeout, interval=h.poll_interval)
    result = apply_plans(route53, plan.to_apply, waiting=waiting, comment=_comment(plan))
    if result.failed:
        if args.format == "text":
            out.write(applied_text(result, None))
        _json(args, out, plan, result, None, errors)
        return EXIT_APPLY_FAILED

    if h.wait_for_dns is not None:
        h.wait_for_dns(plan.to_apply)
    recheck = _recheck(settings, session, report, plan, err)
    if args.format == "text":
        out.write(applied_text(result, recheck))
    _json(args, out, plan, result, recheck, errors)
    if errors or recheck is None:
        return EXIT_INCOMPLETE
    # What the re-check covers, it judges (a lookup that failed before may answer now); what it does not
    # cover (identities the apply did not touch, a zone it did not guess) remains.
    touched = {o for z in plan.to_apply for c in z.changes for o in c.owners}
    remains = bool(plan.notes) or bool(plan.by_hand() - touched)
    return EXIT_OK if recheck.clean and not remains else EXIT_FINDINGS


def _check_usage(args: argparse.Namespace, inp: TextIO) -> str | None:
    """The --dmarc-rua value, validated; ValueError for a usage error."""
    if args.yes and not args.apply:
        raise ValueError("--yes only goes with --apply")
    for account in args.fix_for_account:
        if not (len(account) == 12 and account.isdigit()):
            raise ValueError(f"--fix-for-account {account!r}: an AWS account id is 12 digits")
    if args.apply and not args.yes and not _is_terminal(inp):
        raise ValueError(
            "--apply asks for confirmation on a terminal; stdin is not one: add --yes to apply without asking"
        )
    return parse_rua(args.dmarc_rua) if args.dmarc_rua else None


def _reason(exc: BaseException) -> str:
    return f"{error_code(exc)}: {error_message(exc)}" if isinstance(exc, ClientError) else str(exc)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _confirmed(plan: FixPlan, inp: TextIO, err: TextIO) -> bool:
    question = _("Apply {count} change(s) to {zones} Route 53 hosted zone(s)? [y/N] ")
    err.write(question.format(count=plan.change_count, zones=len(plan.to_apply)))
    err.flush()
    return inp.readline().strip().lower() in ("y", "yes")


def _comment(plan: FixPlan) -> str:
    names = sorted({o.identity for z in plan.to_apply for c in z.changes for o in c.owners})
    return f"ses-dkim-monitor fix for {', '.join(names)}"


def _recheck(settings: Settings, session: Any, report: ScanReport, plan: FixPlan, err: TextIO) -> Recheck | None:
    touched = {(o.account, o.region, o.identity) for z in plan.to_apply for c in z.changes for o in c.owners}
    before = tuple(r for r in report.identities if (r.identity.account, r.identity.region, r.identity.name) in touched)
    try:
        after = scan(settings, session, only=sorted({name for _, _, name in touched}))
    except Exception as exc:
        print(f"ses-dkim-monitor: the re-check failed: {type(exc).__name__}: {exc}", file=err)
        return None
    return Recheck(before, after)


def _json(
    args: argparse.Namespace,
    out: TextIO,
    plan: FixPlan,
    result: ApplyResult | None,
    recheck: Recheck | None,
    errors: Sequence[str],
) -> None:
    if args.format == "json":
        json.dump(to_json(plan, result=result, recheck=recheck, errors=errors), out, indent=2, ensure_ascii=True)
        out.write("\n")
