"""Render a demo scan to the HTML status page and screenshot it with headless Chromium.

    .venv/bin/python scripts/screenshot.py --out /tmp/status.png            # light mode
    .venv/bin/python scripts/screenshot.py --out /tmp/status-dark.png --dark

The demo report is built from the model directly (no AWS, no DNS): two
accounts, two regions, a DKIM CNAME published at a doubled name, a CNAME to
the wrong target, an identity whose lookups failed, OK identities, a shard
that could not be read and a TXT record full of hostile text. The HTML is
written beside the PNG (same name, ``.html``) and both paths are printed.

Chromium is for looking at the page by hand (``apt-get install chromium``);
nothing in CI runs this script.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ses_dkim_monitor.catalogue import finding
from ses_dkim_monitor.models import (
    DnsRecord,
    Finding,
    IdentityReport,
    IdentityStatus,
    IdentityType,
    ScanReport,
    SesIdentity,
    SesStatus,
    Severity,
    ShardError,
)
from ses_dkim_monitor.render.html_page import to_html

PROD = "111122223333"
STAGING = "444455556666"
EAST = "us-east-1"
WEST = "eu-west-1"
HOSTILE_TXT = (
    '<script>alert(1)</script>"><img src=x onerror=alert(1)>\nFix: publish evil.example TXT '
    "\x1b[31mv=spf1 +all\u202e moc.elpmaxe-live"
)


def identity(name: str, account: str, region: str) -> SesIdentity:
    return SesIdentity(
        name=name,
        region=region,
        account=account,
        type=IdentityType.EMAIL_ADDRESS if "@" in name else IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        dkim_tokens=("a7k2m4q9", "b3x8n1p6", "c5r9t2w7"),
        signing_hosted_zone="dkim.amazonses.com",
        zone_confirmed=True,
    )


def cname(token: str, domain: str) -> DnsRecord:
    return DnsRecord(f"{token}._domainkey.{domain}.", "CNAME", f"{token}.dkim.amazonses.com.")


def demo_report() -> ScanReport:
    doubled = cname("a7k2m4q9", "mail.example.com")
    wrong = cname("b3x8n1p6", "shop.example.net")
    dmarc = DnsRecord(
        "_dmarc.news.example.org.", "TXT", '"v=DMARC1; p=none; rua=mailto:dmarc-reports@news.example.org"'
    )
    reports: list[tuple[IdentityReport, ...]] = []
    problems = (
        IdentityReport(
            identity("mail.example.com", PROD, EAST),
            IdentityStatus.PROBLEM,
            (
                finding(
                    "dkim-record-missing",
                    "a7k2m4q9._domainkey.mail.example.com does not exist (NXDOMAIN); the CNAME was published at "
                    "a7k2m4q9._domainkey.mail.example.com.example.com instead: the DNS provider appended its zone "
                    "name to the host name, so enter only a7k2m4q9._domainkey.mail as the host. SES may still "
                    "report DKIM as verified until its next check, then warn the account and stop signing with "
                    "the domain's key",
                    subject="a7k2m4q9",
                    source="dns",
                    record=doubled,
                ),
            ),
        ),
        IdentityReport(
            identity("shop.example.net", STAGING, WEST),
            IdentityStatus.PROBLEM,
            (
                finding(
                    "dkim-record-wrong-target",
                    "b3x8n1p6._domainkey.shop.example.net is a CNAME to b3x8n1p6.dkim.amazonses.com.example.net, "
                    "expected b3x8n1p6.dkim.amazonses.com (the target was entered without a trailing dot and the "
                    "provider appended the zone)",
                    subject="b3x8n1p6",
                    source="dns",
                    record=wrong,
                ),
            ),
        ),
        IdentityReport(
            identity("billing.example.com", PROD, EAST),
            IdentityStatus.PROBLEM,
            (
                finding(
                    "dkim-signing-disabled",
                    "DKIM signing is disabled for billing.example.com",
                    identity="billing.example.com",
                    region=EAST,
                ),
            ),
        ),
        IdentityReport(
            identity("news.example.org", PROD, WEST),
            IdentityStatus.PROBLEM,
            (
                finding(
                    "dmarc-record-missing",
                    "_dmarc.news.example.org (nor a parent domain's) holds no v=DMARC1 record "
                    f'(found "{HOSTILE_TXT}"): bulk-sender rules at Gmail and Yahoo require a DMARC record',
                    source="dns",
                    record=dmarc,
                ),
            ),
        ),
    )
    unknown = (
        IdentityReport(
            identity("lookups.example.io", PROD, WEST),
            IdentityStatus.UNKNOWN,
            (
                finding(
                    "dns-lookup-failed",
                    "2 DNS lookup(s) for lookups.example.io failed: a7k2m4q9._domainkey.lookups.example.io CNAME "
                    "(SERVFAIL), _dmarc.lookups.example.io TXT (timeout); its records could not be checked this run",
                    source="dns",
                    domain="lookups.example.io",
                    error="SERVFAIL",
                ),
            ),
        ),
    )
    ok = (
        IdentityReport(identity("example.com", PROD, EAST), IdentityStatus.OK),
        IdentityReport(identity("alerts@example.com", PROD, EAST), IdentityStatus.OK),
        IdentityReport(
            identity("example.net", STAGING, WEST),
            IdentityStatus.OK,
            (
                Finding(
                    check="dmarc-record-missing",
                    severity=Severity.INFO,
                    message="_dmarc.example.net is p=none: receivers report but do not reject spoofed mail",
                    fix='Publish _dmarc.example.net. TXT "v=DMARC1; p=quarantine;"',
                    source="dns",
                ),
            ),
        ),
        IdentityReport(identity("example.org", PROD, WEST), IdentityStatus.OK),
    )
    reports.extend((problems, unknown, ok))
    return ScanReport(
        identities=tuple(r for tier in reports for r in _sorted(tier)),
        regions=(EAST, WEST),
        accounts=(PROD, STAGING),
        generated_at="2026-11-20T07:30:00Z",
        dns_lookups=57,
        dns_lookups_failed=2,
        ses_calls={"ListEmailIdentities": 3, "GetEmailIdentity": 9, "GetIdentityMailFromDomainAttributes": 3},
        errors=(
            ShardError(
                region=EAST,
                account=STAGING,
                reason="AccessDenied: User: arn:aws:sts::444455556666:assumed-role/ses-dkim-monitor-member/scan is "
                "not authorized to perform: ses:ListEmailIdentities",
            ),
        ),
    )


def _sorted(tier: tuple[IdentityReport, ...]) -> list[IdentityReport]:
    """The scan engine's order within a status: worst first, then region, then name."""
    return sorted(tier, key=lambda r: (-(r.worst.rank if r.worst else 0), r.identity.region, r.identity.name))


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("Chromium not found: apt-get install -y chromium")


def screenshot(html_path: Path, png_path: Path, *, dark: bool, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ses-dkim-shot-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png_path}",
        ]
        if dark:
            command += ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
        command.append(html_path.resolve().as_uri())
        subprocess.run(command, check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "ses-dkim-status.png")
    parser.add_argument("--dark", action="store_true", help="ask for prefers-color-scheme: dark")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    png = args.out.resolve()
    page = png.with_suffix(".html")
    png.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(to_html(demo_report()), encoding="utf-8")
    screenshot(page, png, dark=args.dark, width=args.width, height=args.height)
    print(f"HTML: {page}")
    print(f"PNG:  {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
