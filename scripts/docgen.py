"""Regenerate the generated regions of README.md and docs/*.md from the code.

    .venv/bin/python scripts/docgen.py            # rewrite the files in place
    .venv/bin/python scripts/docgen.py --check    # exit 1 and print a diff when a file is stale

A generated region sits between two marker comments:

    <!-- BEGIN generated: checks -->
    ...
    <!-- END generated: checks -->

Everything between them is replaced by what the region's renderer returns;
everything outside them is prose and left alone. Each entry of ``REGIONS``
names a file, a region and its renderer, so a new generated table is one
renderer function (usually a call to ``markdown_table``) and one line there.

The renderers import the package and call the real code: the check table is
read from the catalogue, and the sample alerts are built from findings the
real checks emit, then rendered by the real SNS and Slack renderers.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ses_dkim_monitor import catalogue, i18n, providers

sys.path.insert(0, str(ROOT / "scripts"))
import docgen_reference as reference

from ses_dkim_monitor.alerts import cannot_verify, messages
from ses_dkim_monitor.alerts.model import REASON_FIXED, Event, Notification
from ses_dkim_monitor.models import (
    Finding,
    IdentityReport,
    IdentityStatus,
    IdentityType,
    ScanReport,
    SesIdentity,
    SesStatus,
    SigningOrigin,
)
from ses_dkim_monitor.notify import slack, sns
from ses_dkim_monitor.render.json_report import to_json
from ses_dkim_monitor.scan.checks import evaluate
from ses_dkim_monitor.scan.dns_answers import DkimTokenDns, DomainDns, Lookup, Outcome

MARKER = re.compile(
    r"<!-- BEGIN generated: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- END generated: (?P=name) -->",
    re.DOTALL,
)
ANY_MARKER = re.compile(r"<!-- (?:BEGIN|END) generated: ([a-z0-9-]+) -->")


# -- Markdown helpers ----------------------------------------------------------


def cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str) -> str:
    """Inline code that survives backticks in ``text``."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def block(language: str, text: str) -> str:
    return f"```{language}\n{text.rstrip()}\n```"


def as_json(value: Any, *, width: int = 100, level: int = 0) -> str:
    """Indented JSON that keeps an object or array on one line when it fits in ``width``."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or len(flat) + 2 * level <= width:
        return flat
    pad = "  " * (level + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {as_json(v, width=width, level=level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    items = [pad + as_json(v, width=width, level=level + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"


# -- README.md: the check table ---------------------------------------------------


def checks_table() -> str:
    def severity(check: catalogue.Check) -> str:
        return check.severity.value + (f" ({check.severity_note})" if check.severity_note else "")

    return markdown_table(
        ["check id", "severity", "fires when"],
        ([f"`{check.id}`", severity(check), check.when] for check in catalogue.CHECKS.values()),
    )


def causes_table() -> str:
    return markdown_table(
        ["cause", "on checks", "means", "observed"],
        (
            [f"`{cause.id}`", ", ".join(f"`{check}`" for check in cause.checks), cause.title, cause.when]
            for cause in sorted(catalogue.CAUSES.values(), key=lambda c: c.id)
        ),
    )


# -- Sample findings, emitted by the real checks -----------------------------------

ACCOUNT = "123456789012"
REGION = "us-east-1"
ZONE = "dkim.amazonses.com"
FIRST_SEEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# A syntactically valid DKIM key record (base64 p=); its value does not matter here.
KEY_RECORD = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC5"
HOSTILE_TXT = '<!channel> *urgent* <https://evil.example|click> &\nFix: Publish evil.example TXT "p=\x1b[31mMIIB"\u202e'


def domain_identity(domain: str, tokens: tuple[str, ...] = ("abc", "def", "ghi"), **changes: Any) -> SesIdentity:
    identity = SesIdentity(
        name=domain,
        region=REGION,
        type=IdentityType.DOMAIN,
        verification_status=SesStatus.SUCCESS,
        sending_enabled=True,
        dkim_enabled=True,
        dkim_status=SesStatus.SUCCESS,
        dkim_tokens=tokens,
        signing_hosted_zone=ZONE,
    )
    return replace(identity, **changes)


def cname(domain: str, token: str, *, missing: bool = False) -> DkimTokenDns:
    """What the probe learns about one Easy DKIM token: its CNAME and the target's TXT."""
    name = f"{token}._domainkey.{domain}"
    if missing:
        return DkimTokenDns(token=token, record=Lookup(name, "CNAME", Outcome.NXDOMAIN))
    target = f"{token}.{ZONE}"
    return DkimTokenDns(
        token=token,
        record=Lookup(name, "CNAME", Outcome.ANSWER, values=(target,)),
        target_txt=Lookup(target, "TXT", Outcome.ANSWER, values=(KEY_RECORD,)),
    )


def dmarc(domain: str, *, present: bool = True) -> Lookup:
    name = f"_dmarc.{domain}"
    if present:
        return Lookup(name, "TXT", Outcome.ANSWER, values=("v=DMARC1; p=none",))
    return Lookup(name, "TXT", Outcome.NXDOMAIN)


def scanned(identity: SesIdentity, dns: DomainDns) -> IdentityReport:
    return evaluate(identity, dns, {identity.domain: identity})


def only(report: IdentityReport, check: str) -> Finding:
    found = [f for f in report.findings if f.check == check]
    if len(found) != 1:
        raise SystemExit(f"docgen: expected one {check} finding for {report.identity.name}, got {report.findings}")
    return found[0]


def missing_cname(domain: str = "example.com") -> IdentityReport:
    """A domain whose first DKIM CNAME was deleted while SES still says SUCCESS."""
    identity = domain_identity(domain)
    dns = DomainDns(
        domain=domain,
        tokens=tuple(cname(domain, t, missing=t == "abc") for t in identity.dkim_tokens),
        dmarc=dmarc(domain),
    )
    return scanned(identity, dns)


def missing_dmarc(domain: str) -> IdentityReport:
    identity = domain_identity(domain)
    tokens = tuple(cname(domain, t) for t in identity.dkim_tokens)
    return scanned(identity, DomainDns(domain=domain, tokens=tokens, dmarc=dmarc(domain, present=False)))


def unreachable(domain: str = "example.com") -> IdentityReport:
    """A domain one of whose lookups got SERVFAIL: the identity is unknown."""
    identity = domain_identity(domain)
    failed = Lookup(f"abc._domainkey.{domain}", "CNAME", Outcome.FAILED, error="no server answered (SERVFAIL)")
    tokens = tuple(
        DkimTokenDns(token=t, record=failed) if t == "abc" else cname(domain, t) for t in identity.dkim_tokens
    )
    return scanned(identity, DomainDns(domain=domain, tokens=tokens, dmarc=dmarc(domain)))


def hostile_selector(domain: str = "example.com") -> IdentityReport:
    """A bring-your-own-DKIM selector whose TXT holds text aimed at Slack."""
    identity = domain_identity(domain, tokens=("sel1",), signing_origin=SigningOrigin.BYODKIM.value)
    record = Lookup(f"sel1._domainkey.{domain}", "TXT", Outcome.ANSWER, values=(HOSTILE_TXT,))
    return scanned(identity, DomainDns(domain=domain, tokens=(DkimTokenDns(token="sel1", record=record),)))


def notification(
    finding: Finding,
    *,
    identity: str = "example.com",
    event: Event = Event.OPENED,
    first_seen: datetime = FIRST_SEEN,
    at: datetime = FIRST_SEEN,
    reason: str = "",
) -> Notification:
    return Notification(
        event=event,
        account=ACCOUNT,
        region=REGION,
        identity=identity,
        key=finding.key,
        check=finding.check,
        severity=finding.severity,
        message=finding.message,
        fix=finding.fix,
        first_seen=first_seen,
        at=at,
        channels=("sns", "slack"),
        reason=reason,
        record=finding.record,
        cause=finding.cause,
    )


def alert(report: IdentityReport, check: str, **changes: Any) -> Notification:
    """The notification about the one ``check`` finding of a scanned identity."""
    return notification(only(report, check), identity=report.identity.name, **changes)


def cannot_verify_finding(runs: int = 3) -> Finding:
    """The synthetic finding the alerting builds after ``runs`` unknown runs (as decision.py does)."""
    report = unreachable()
    message, fix = cannot_verify.describe(report, runs)
    check = catalogue.CHECKS[catalogue.MONITOR_CANNOT_VERIFY]
    return Finding(check=check.id, severity=check.severity, message=message, fix=fix)


# -- docs/alerts.md: sample messages ------------------------------------------------


def sns_parts(request: dict[str, Any]) -> tuple[str, dict[str, Any], str, Any]:
    """Subject, attributes, email text and machine payload of one SNS Publish request."""
    body = json.loads(request["Message"])
    return request["Subject"], request["MessageAttributes"], body["default"], json.loads(body["sqs"])


def single_sample(n: Notification, *, payload: bool = True) -> str:
    subject, attributes, email, structured = sns_parts(sns.single_message(n))
    assert structured == messages.payload(n)
    parts = [
        f"Headline (Slack's fallback text, the email's first line): {code(messages.headline(n))}",
        f"SNS Subject: {code(subject)}",
        "SNS message attributes:",
        block("json", as_json(attributes)),
        "SNS `default` and `email` (what email subscribers read):",
        block("text", email),
    ]
    if payload:
        protocols = ", ".join(f"`{p}`" for p in sns.MACHINE_PROTOCOLS)
        parts += [f"SNS {protocols} (the structured payload):", block("json", as_json(structured))]
    parts += ["Slack webhook body:", block("json", as_json(slack.single_body(n)))]
    return "\n\n".join(parts)


def alerts_opened() -> str:
    return single_sample(alert(missing_cname(), catalogue.DKIM_RECORD_MISSING))


def alerts_reminder() -> str:
    n = alert(missing_cname(), catalogue.DKIM_RECORD_MISSING, event=Event.REMINDER, at=FIRST_SEEN + timedelta(hours=24))
    return single_sample(n, payload=False)


def alerts_resolved() -> str:
    later = FIRST_SEEN + timedelta(hours=30)
    n = alert(missing_cname(), catalogue.DKIM_RECORD_MISSING, event=Event.RESOLVED, at=later, reason=REASON_FIXED)
    return single_sample(n)


def doubled_at_onamae(domain: str = "example.jp") -> IdentityReport:
    """Three DKIM CNAMEs pasted with their full names into お名前.com's form, which appended the zone."""
    identity = domain_identity(domain, zone_confirmed=True)
    tokens = tuple(
        replace(
            cname(domain, t, missing=True),
            misplaced=Lookup(f"{t}._domainkey.{domain}.{domain}", "CNAME", Outcome.ANSWER, values=(f"{t}.{ZONE}",)),
        )
        for t in identity.dkim_tokens
    )
    dns = DomainDns(
        domain=domain,
        tokens=tokens,
        dmarc=dmarc(domain),
        zone_apex=domain,
        nameservers=("dns1.onamae.com", "dns2.onamae.com"),
    )
    return scanned(identity, dns)


def alerts_japanese() -> str:
    """The three notifications of one check for one identity, as the one message each channel sends, in Japanese."""
    with i18n.speaking("ja"):
        report = doubled_at_onamae()
        bundle = [
            notification(f, identity=report.identity.name)
            for f in report.findings
            if f.check == catalogue.DKIM_RECORD_MISSING
        ]
        subject, attributes, email, _structured = sns_parts(sns.single_message(bundle))
        return "\n\n".join(
            [
                f"SNS Subject: {code(subject)}",
                "SNS message attributes:",
                block("json", as_json(attributes)),
                "SNS `default` and `email`:",
                block("text", email),
            ]
        )


def alerts_cannot_verify() -> str:
    return single_sample(notification(cannot_verify_finding(), at=FIRST_SEEN + timedelta(hours=2)))


def alerts_escaping() -> str:
    n = alert(hostile_selector(), catalogue.DKIM_KEY_MISSING)
    blocks = slack.single_body(n)["attachments"][0]["blocks"]
    labels = [i for i, b in enumerate(blocks) if b["type"] == "context" and b["elements"][0]["text"] in LABELS]
    shown = [blocks[i + 1] for i in labels]
    email = messages.text(n)
    seen = email[email.index("What the monitor saw:") : email.index("\n\nFix:")].rstrip()
    return "\n\n".join(
        [
            "Slack, the observation and the fix:",
            block("json", as_json(shown)),
            "Email (the SNS `default` and `email` text), the observation:",
            block("text", seen),
            "SNS payload, the same two fields (raw; shown here with JSON's own escapes):",
            block("json", json.dumps({k: messages.payload(n)[k] for k in ("message", "fix")}, indent=2)),
        ]
    )


LABELS = ("*What the monitor saw*", "*Fix*")


def digest_notifications() -> list[Notification]:
    return [
        alert(missing_cname(), catalogue.DKIM_RECORD_MISSING),
        alert(missing_dmarc("mail.example.org"), catalogue.DMARC_RECORD_MISSING),
        alert(
            missing_cname("old.example.net"),
            catalogue.DKIM_RECORD_MISSING,
            event=Event.RESOLVED,
            first_seen=FIRST_SEEN - timedelta(days=2),
            reason=REASON_FIXED,
        ),
    ]


def alerts_digest() -> str:
    batch = digest_notifications()
    subject, attributes, email, structured = sns_parts(sns.digest_message(batch))
    assert structured == messages.digest_payload(batch)
    bodies = slack.digest_bodies(batch)
    return "\n\n".join(
        [
            f"SNS Subject: {code(subject)}",
            "SNS message attributes:",
            block("json", as_json(attributes)),
            "SNS `default` and `email`:",
            block("text", email),
            "SNS structured payload (each element of `notifications` is a whole single-notification payload):",
            block("json", as_json(structured)),
            "Slack webhook body:",
            *(block("json", as_json(body)) for _batch, body in bodies),
        ]
    )


# -- docs/json-report.md: the example -------------------------------------------------


def json_report_example() -> str:
    report = missing_cname()
    assert report.status is IdentityStatus.PROBLEM
    scan = ScanReport(
        identities=(report,),
        regions=(REGION,),
        generated_at="2026-11-27T21:00:00+00:00",
        # abc's CNAME asked twice (a negative answer is confirmed) and once at the doubled
        # name, def and ghi's CNAMEs and target TXTs, one DMARC lookup.
        dns_lookups=8,
        dns_lookups_failed=0,
        ses_calls={"ListEmailIdentities": 1, "GetIdentityDkimAttributes": 1, "GetIdentityMailFromDomainAttributes": 1},
    )
    return block("json", to_json(scan))


# -- docs/providers.md: the DNS providers' forms ------------------------------------------

CONVENTION_TEXT: dict[str, dict[Any, str]] = {
    "host": {providers.HostForm.RELATIVE: "relative to the zone", providers.HostForm.FULL: "the full name"},
    "apex": {"@": "`@`", "": "left empty"},
    "target": {
        providers.TargetForm.ABSOLUTE: "taken as a full name; no dot needed",
        providers.TargetForm.DOT: "needs the trailing dot (else the zone is appended)",
    },
    "underscore": {True: "accepted", False: "refused"},
    "txt-quotes": {providers.TxtQuotes.REQUIRED: "in double quotes", providers.TxtQuotes.ADDED: "plain; quotes added"},
    "txt-split": {
        providers.TxtSplit.AUTO: "one text; the form splits it",
        providers.TxtSplit.MANUAL: "by hand: quoted strings of at most 255 bytes",
        providers.TxtSplit.LIMIT: "at most 255 characters",
    },
}
CONVENTION_HEADERS = ("host field", "apex", "CNAME target", "`_` labels", "TXT quotes", "long TXT", "field names")


def provider_sources() -> dict[providers.Source, str]:
    """Every source the catalogue cites, numbered S1, S2, ... in catalogue order."""
    numbered: dict[providers.Source, str] = {}
    for p in providers.PROVIDERS:
        for fact in p.facts().values():
            if fact.source is not None and fact.source not in numbered:
                numbered[fact.source] = f"S{len(numbered) + 1}"
    return numbered


def cited(fact: providers.Fact, text: str, sources: dict[providers.Source, str]) -> str:
    if fact.source is None:
        return "unknown"
    return f"{text} [{sources[fact.source]}]({fact.source.url})"


def labels_text(labels: providers.FormLabels) -> str:
    names = [("host", labels.host), ("type", labels.type), ("CNAME", labels.cname_value), ("TXT", labels.txt_value)]
    return ", ".join(f"{what}: {name}" for what, name in names if name) + f" ({labels.lang})"


def providers_ns_table() -> str:
    sources = provider_sources()

    def patterns(p: providers.Provider) -> str:
        if not p.ns.value:
            return "not recognisable (no sourced name servers)"
        return cited(p.ns, " ".join(code(pattern) for pattern in p.ns.value), sources) + (
            " (own domain)" if p.ns.source and p.ns.source.basis == "own domain" else ""
        )

    return markdown_table(
        ["id", "provider", "名前", "name servers (full-match patterns)"],
        ([code(p.id), p.name_en, p.name_ja, patterns(p)] for p in providers.PROVIDERS),
    )


def providers_conventions_table() -> str:
    sources = provider_sources()

    def row(p: providers.Provider) -> list[str]:
        facts = p.facts()
        cells = [cited(facts[n], CONVENTION_TEXT[n].get(facts[n].value, ""), sources) for n in CONVENTION_TEXT]
        labels = p.labels.value
        return [code(p.id), *cells, cited(p.labels, labels_text(labels), sources) if labels else "unknown"]

    return markdown_table(["id", *CONVENTION_HEADERS], (row(p) for p in providers.PROVIDERS))


def providers_example_table() -> str:
    """What the module says to type for one DKIM CNAME, per provider, and how it undoes a doubled name."""

    def row(p: providers.Provider) -> list[str]:
        entry = providers.form_entry(p, name=EXAMPLE_DKIM, zone_apex="example.jp", rtype="CNAME", value=EXAMPLE_TARGET)
        fix = providers.repair(
            p,
            cause=catalogue.DOUBLED_DOMAIN,
            name=EXAMPLE_DKIM,
            zone_apex="example.jp",
            rtype="CNAME",
            value=EXAMPLE_TARGET,
        )
        apex = providers.form_entry(
            p, name="example.jp", zone_apex="example.jp", rtype="MX", value="10 mx.example.net."
        )
        unknown = ", ".join(sorted({*entry.unknown, *apex.unknown}, key=providers.forms.ORDER.index)) or "none"
        apex_host = code(apex.host) if apex.host else "(left empty)"
        return [code(p.id), code(entry.host), code(entry.value), apex_host, code(fix.remove.host), unknown]

    return markdown_table(
        ["id", "host", "value", "apex host", "doubled-domain: delete the record at host", "unconfirmed"],
        (row(p) for p in providers.PROVIDERS),
    )


EXAMPLE_DKIM = "tok._domainkey.example.jp"
EXAMPLE_TARGET = "tok.dkim.amazonses.com."


def providers_sources_table() -> str:
    return markdown_table(
        ["", "page", "read", "basis", "what it says"],
        (
            [number, f"<{source.url}>", source.read, source.basis, source.says]
            for source, number in provider_sources().items()
        ),
    )


# -- the regions --------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    path: str  # relative to the repository
    name: str  # <!-- BEGIN generated: name -->
    render: Callable[[], str]


REGIONS: tuple[Region, ...] = (
    Region("README.md", "checks", checks_table),
    Region("docs/causes.md", "causes", causes_table),
    Region("docs/alerts.md", "alerts-opened", alerts_opened),
    Region("docs/alerts.md", "alerts-escaping", alerts_escaping),
    Region("docs/alerts.md", "alerts-reminder", alerts_reminder),
    Region("docs/alerts.md", "alerts-resolved", alerts_resolved),
    Region("docs/alerts.md", "alerts-cannot-verify", alerts_cannot_verify),
    Region("docs/alerts.md", "alerts-digest", alerts_digest),
    Region("docs/alerts.md", "alerts-japanese", alerts_japanese),
    Region("docs/json-report.md", "json-report-example", json_report_example),
    Region("docs/providers.md", "providers-ns", providers_ns_table),
    Region("docs/providers.md", "providers-conventions", providers_conventions_table),
    Region("docs/providers.md", "providers-example", providers_example_table),
    Region("docs/providers.md", "providers-sources", providers_sources_table),
    Region("docs/architecture.md", "variables", lambda: reference.variables_table(markdown_table)),
    Region("docs/deploy.md", "parameters", lambda: reference.parameters_table(markdown_table)),
    Region("docs/deploy.md", "alarms", lambda: reference.alarms_table(markdown_table)),
    Region("docs/alerts.md", "sns-attributes", lambda: reference.sns_attributes_table(markdown_table)),
)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def regenerate(path: Path, text: str, regions: Sequence[Region]) -> tuple[str, list[str]]:
    """The file's text with every region of ``regions`` regenerated, and the problems found."""
    problems: list[str] = []
    known = {r.name for r in regions}
    for name in sorted(set(ANY_MARKER.findall(text)) - known):
        problems.append(f"{path.relative_to(ROOT)}: no generator for the region {name!r}")
    for region in regions:
        matches = [m for m in MARKER.finditer(text) if m.group("name") == region.name]
        if len(matches) != 1:
            problems.append(f"{region.path}: expected one region {region.name!r}, found {len(matches)}")
            continue
        match = matches[0]
        body = region.render().rstrip("\n") + "\n"
        text = text[: match.start("body")] + body + text[match.end("body") :]
    return text, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files with a diff; change nothing")
    args = parser.parse_args(argv)

    stale = False
    problems: list[str] = []
    for path in documents():
        relative = str(path.relative_to(ROOT))
        old = path.read_text(encoding="utf-8")
        new, found = regenerate(path, old, [r for r in REGIONS if r.path == relative])
        problems += found
        if new == old:
            continue
        stale = True
        if args.check:
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{relative}", f"b/{relative}"
                )
            )
        else:
            path.write_text(new, encoding="utf-8")
            print(f"docgen: rewrote {relative}", file=sys.stderr)
    missing = sorted({r.path for r in REGIONS} - {str(p.relative_to(ROOT)) for p in documents()})
    problems += [f"{path}: file not found" for path in missing]
    for problem in problems:
        print(f"docgen: {problem}", file=sys.stderr)
    if problems:
        return 1
    if stale and args.check:
        print("docgen: generated regions are out of date; run .venv/bin/python scripts/docgen.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
