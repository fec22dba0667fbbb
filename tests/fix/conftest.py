"""Helpers for the `fix` tests: the subcommand run in-process with injected hooks, Route 53 zones in moto
mirrored into knotd (moto does not serve DNS, so whatever a test puts in a hosted zone it also publishes
in its knot zone, and the "wait for DNS" hook copies the applied changes across before the re-check).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from ses_dkim_monitor.cli import _settings, build_parser
from ses_dkim_monitor.fix.command import Hooks, run_fix
from tests.support.route53 import HostedZone


class Terminal(io.StringIO):
    """Stdin as a terminal, with the user's answer already typed."""

    def isatty(self) -> bool:
        return True


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class FixRunner:
    knot: Any
    default_args: list[str] = field(default_factory=list)

    def __call__(self, *args: str, hooks: Hooks | None = None, stdin: io.StringIO | None = None) -> Run:
        parsed = build_parser().parse_args(["fix", *self.default_args, *args])
        settings = _settings(parsed, dict(os.environ))
        out, err = io.StringIO(), io.StringIO()
        hooks = hooks or Hooks()
        hooks.stdout, hooks.stderr = out, err
        hooks.stdin = stdin if stdin is not None else io.StringIO()
        code = run_fix(parsed, settings, boto3.Session(), hooks)
        return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture()
def fix(knot, moto, monkeypatch) -> FixRunner:
    # The authoritative-server comparison asks each zone's NS on port 53, where knotd does not listen in
    # these tests; it is not what fix is about.
    monkeypatch.setenv("CHECK_NAMESERVERS", "false")
    # SES's real pace (1 call/s) only slows the tests down: moto does not throttle.
    return FixRunner(knot, ["--nameserver", knot.address, "--ses-requests-per-second", "50"])


@pytest.fixture()
def route53(moto):
    return boto3.client("route53")


@pytest.fixture()
def hosted_zone(route53, knot) -> Callable[..., HostedZone]:
    def make(name: str, records: list[tuple[str, str, int, list[str]]], **options: Any) -> HostedZone:
        return HostedZone(route53, knot, name, records, **options)

    return make


TLD = "fixtest"  # a top-level zone of the fix tests' own: DMARC's tree walk ends at the TLD, which knot must answer


@pytest.fixture()
def tld(knot) -> str:
    if TLD not in knot.zones:
        knot.set_zone(TLD, "")
    return TLD


@pytest.fixture()
def amazonses_spf(knot):
    """amazonses.com's SPF record, which the re-check follows from a published include:amazonses.com.

    Removed again afterwards (unless another test had already added the zone), so other tests keep
    seeing the session's knot as they expect it.
    """
    added = "amazonses.com" not in knot.zones
    if added:
        knot.set_zone("amazonses.com", '@ TXT "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 -all"')
    yield
    if added:
        knot.zones.pop("amazonses.com", None)
        knot._write_config()
        knot.knotc("reload")
