"""The status page: one self-contained HTML file that takes on-call from an alert to the fix.

``ses-dkim-monitor check --format html > status.html`` writes it. It must open
from a mail attachment, a CI artefact or a shared drive, so it is one file
with inline CSS only: no script, no stylesheet, font or image from anywhere,
and a Content-Security-Policy that forbids them should a bug ever let one in.
It reads the same with JavaScript off, in light and dark mode, and on paper.

Layout, top to bottom, and why:

- The title, when the scan ran, and an **incomplete** banner when an
  (account, region) shard could not be read. A page that silently leaves out
  an account reads as "all healthy", so the banner comes before anything else.
- Summary tiles whose numbers are :func:`json_report.summary`'s, so the page,
  the JSON report, the terminal report and the Lambda's metrics never disagree;
  then the accounts and regions scanned.
- Three tiers in the report's order: problems, could not check (``unknown``),
  OK. Every problem is above every unknown identity, and every unknown above
  every OK one, whatever account it is in.
- Within the problem and unknown tiers, one section per (account, region) in
  the order the pair first appears in that tier. Sections rather than one big
  table with account and region columns: a problem identity carries several
  findings, each with a message, a fix, a record and a command to copy, which
  are cramped and hard to copy in table cells; and the account and region are
  the first thing on-call needs (which credentials, which console), so they
  are headings, which a screen reader can also jump between. Each identity
  repeats its account and region on its own line for a reader who lands on it
  with Ctrl-F or prints one page.
- OK identities last, one table row each with account and region columns:
  there is nothing to say about them but that they are fine. Informational
  findings on an OK identity are folded into a ``<details>``.

Problem content is never folded into ``<details>``: every finding there is
something to act on, and a closed ``<details>`` does not print.

Everything from SES and DNS (names, messages, fixes, records, reasons,
account ids) is untrusted. It is HTML-escaped, its control and format
characters (newline, ESC, bidi overrides, zero-width characters) are shown as
marked ``\\u202e``-style escapes, and it is wrapped in ``<bdi>`` so right-to-left
text cannot reorder the page around it. A record can therefore neither inject
markup nor hide or reorder what the page says.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .. import catalogue
from ..fix_command import dns_fixable, fix_command
from ..models import DnsRecord, Finding, IdentityReport, IdentityStatus, IdentityType, ScanReport, ShardError
from .html_base import document, escape_attr, escape_html
from .json_report import summary

_TIERS = (
    (IdentityStatus.PROBLEM, "problems", "Problems"),
    (IdentityStatus.UNKNOWN, "unknown", "Could not be checked"),
)


def _badge(word: str, kind: str) -> str:
    """A status or severity: always the word, the colour only repeats it."""
    return f'<span class="badge b-{kind}">{html.escape(word.upper())}</span>'


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def _account(account: str) -> str:
    return f"account {escape_html(account)}" if account else "account not recorded"


def _kind(r: IdentityReport) -> str:
    return "email address" if r.identity.type is IdentityType.EMAIL_ADDRESS else "domain"


def to_html(report: ScanReport, *, title: str = "SES DKIM status", totals_scope: str = "") -> str:
    """The whole page for ``report``: one HTML5 document, nothing fetched from anywhere.

    ``totals_scope`` qualifies the DNS and SES call counts when the report is one
    shard's part of a larger run (the probe is shared, so they are the run's):
    e.g. ``"whole run"``.
    """
    counts = summary(report)
    tiers = {status: [r for r in report.identities if r.status is status] for status in IdentityStatus}
    ids = _Ids()
    body: list[str] = [
        "<header>",
        f"<h1>{escape_html(title)}</h1>",
        f'<p class="scanned">Scanned at <time datetime="{escape_attr(report.generated_at)}">'
        f"{escape_html(_when(report.generated_at))}</time></p>",
        "</header>",
        "<main>",
        _incomplete(report.errors),
        _summary(report, counts, totals_scope=totals_scope),
    ]
    for status, anchor, heading in _TIERS:
        reports = tiers[status]
        if status is IdentityStatus.UNKNOWN and not reports:
            continue
        body.append(_tier(anchor, heading, reports, ids, complete=not report.errors))
    body.append(_ok_tier(tiers[IdentityStatus.OK]))
    body.append("</main>")
    body.append(
        "<footer><p>Written by ses-dkim-monitor. Text taken from SES and DNS is shown escaped: "
        '<span class="esc">\\u202e</span>-style boxes stand for invisible or control characters the '
        "record really contains.</p></footer>"
    )
    return document(title, body)


def _when(generated_at: str) -> str:
    """``2026-11-20T07:30:00Z`` as ``2026-11-20 07:30:00 UTC``; anything unparseable as it is."""
    try:
        moment = datetime.fromisoformat(generated_at)
    except ValueError:
        return generated_at
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Ids:
    """Anchor ids made by the page, never from untrusted text."""

    def __init__(self) -> None:
        self._n = 0

    def new(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"


def _incomplete(errors: Iterable[ShardError]) -> str:
    errors = list(errors)
    if not errors:
        return ""
    rows = "".join(
        f'<tr><td class="mono nowrap">{escape_html(e.account) if e.account else "not recorded"}</td>'
        f'<td class="mono nowrap">{escape_html(e.region)}</td><td class="any">{escape_html(e.reason)}</td></tr>'
        for e in errors
    )
    return (
        '<section class="incomplete" aria-labelledby="incomplete">'
        f'<h2 id="incomplete">{_badge("incomplete", "incomplete")} '
        f"{_plural(len(errors), 'account/region could', 'accounts/regions could')} not be read</h2>"
        "<p>Identities there are missing from this page: nothing below says they are healthy.</p>"
        '<table><thead><tr><th scope="col">Account</th><th scope="col">Region</th><th scope="col">Reason</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></section>"
    )


def _summary(report: ScanReport, counts: dict[str, Any], *, totals_scope: str = "") -> str:
    def tile(n: int, label: str, kind: str, anchor: str = "") -> str:
        inner = f'<span class="n">{n}</span> <span class="l">{label}</span>'
        if anchor and n:
            inner = f'<a href="#{anchor}">{inner}</a>'
        return f'<li class="tile t-{kind}" data-key="{kind}">{inner}</li>'

    statuses = [
        tile(counts["identities"], "identities", "identities"),
        tile(counts["problem"], "with problems", "problem", "problems"),
        tile(counts["unknown"], "could not be checked", "unknown", "unknown"),
        tile(counts["ok"], "ok", "ok", "ok"),
    ]
    findings = [tile(counts["findings"][s], f"{s} findings", s) for s in ("critical", "warning", "info")]
    accounts = report.accounts or tuple(
        dict.fromkeys(r.identity.account for r in report.identities if r.identity.account)
    )
    failed_lookups = f" ({counts['dns_lookups_failed']} failed)" if counts["dns_lookups_failed"] else ""
    scope = f" ({escape_html(totals_scope)})" if totals_scope else ""
    complete = (
        "yes: every account and region was read"
        if counts["complete"]
        else f"{_badge('incomplete', 'incomplete')} {_plural(len(report.errors), 'shard')} could not be read "
        '(<a href="#incomplete">see above</a>)'
    )
    facts = [
        ("Accounts", ", ".join(escape_html(a) for a in accounts) or "not recorded"),
        ("Regions", ", ".join(escape_html(r) for r in report.regions) or "none"),
        ("Complete", complete),
        (f"DNS lookups{scope}", f"{counts['dns_lookups']}{failed_lookups}"),
    ]
    if report.ses_calls:
        calls = ", ".join(f"{escape_html(op)} {n}" for op, n in counts["ses_calls"].items())
        facts.append((f"SES API calls{scope}", calls))
    rows = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in facts)
    return (
        '<section aria-labelledby="summary">'
        '<h2 id="summary">Summary</h2>'
        f'<ul class="tiles" aria-label="Identities by status">{"".join(statuses)}</ul>'
        f'<ul class="tiles" aria-label="Findings by severity">{"".join(findings)}</ul>'
        f'<table class="facts"><caption class="vh">What was scanned</caption><tbody>{rows}</tbody></table>'
        "</section>"
    )


def _groups(reports: list[IdentityReport]) -> dict[tuple[str, str], list[IdentityReport]]:
    """Identities per (account, region), in the order each pair first appears; report order within."""
    groups: dict[tuple[str, str], list[IdentityReport]] = {}
    for r in reports:
        groups.setdefault((r.identity.account, r.identity.region), []).append(r)
    return groups


def _tier(anchor: str, heading: str, reports: list[IdentityReport], ids: _Ids, *, complete: bool) -> str:
    parts = [f'<section aria-labelledby="{anchor}">', f'<h2 id="{anchor}">{heading} ({len(reports)})</h2>']
    if not reports:
        scope = "" if complete else " in the accounts and regions that could be read"
        parts.append(f'<p class="none">{_badge("ok", "ok")} No identity has a problem{scope}.</p>')
    for (account, region), members in _groups(reports).items():
        group_id = ids.new("group")
        parts.append(f'<section class="group" aria-labelledby="{group_id}">')
        parts.append(
            f'<h3 id="{group_id}">{"Account " + escape_html(account) if account else "Account not recorded"}'
            f" · region {escape_html(region)} · {_plural(len(members), 'identity', 'identities')}</h3>"
        )
        parts.extend(_identity(r, ids) for r in members)
        parts.append("</section>")
    parts.append("</section>")
    return "\n".join(parts)


def _identity(r: IdentityReport, ids: _Ids) -> str:
    ident = r.identity
    heading_id = ids.new("identity")
    status = r.status.value
    findings = "".join(_finding(f) for f in r.findings)
    worst = f" · worst: {r.worst.value}" if r.worst else ""
    parts = [
        f'<article class="identity st-{status}" aria-labelledby="{heading_id}">',
        f'<h4 id="{heading_id}">{_badge(status, status)} <span class="name">{escape_html(ident.name)}</span></h4>',
        f'<p class="meta">{_kind(r)} · {_account(ident.account)} · region {escape_html(ident.region)} · '
        f"{_plural(len(r.findings), 'finding')}{worst}</p>",
        f'<ol class="findings">{findings}</ol>' if findings else "",
        _fix_command(r),
        "</article>",
    ]
    return "\n".join(p for p in parts if p)


def _finding(f: Finding) -> str:
    check = catalogue.CHECKS.get(f.check)
    title = f" <strong>{html.escape(check.title)}</strong>" if check else ""
    rows = []
    if f.cause:
        cause = catalogue.CAUSES.get(f.cause)
        cause_title = f" {escape_html(cause.title)}" if cause else ""
        rows.append(("Cause", f'<code class="cause">{escape_html(f.cause)}</code>{cause_title}'))
    rows.append(("Seen", escape_html(f.message)))
    rows.append(("Fix", escape_html(f.fix)))
    if f.record is not None:
        rows.append(("Record", _record(f.record)))
    body = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return (
        f'<li class="finding sev-{f.severity.value}">'
        f'<p class="finding-head">{_badge(f.severity.value, f.severity.value)}{title} '
        f'<code class="check">{escape_html(f.check)}</code></p>'
        f"<dl>{body}</dl></li>"
    )


def _record(record: DnsRecord) -> str:
    return (
        '<table class="record"><caption class="vh">Record to publish</caption><thead><tr>'
        '<th scope="col">Name</th><th scope="col">Type</th><th scope="col">Value</th></tr></thead><tbody><tr>'
        f'<td class="mono any">{escape_html(record.name)}</td><td class="mono nowrap">{escape_html(record.type)}</td>'
        f'<td class="mono any">{escape_html(record.value)}</td></tr></tbody></table>'
    )


def _fix_command(r: IdentityReport) -> str:
    fixable = list(dict.fromkeys(f.check for f in r.findings if dns_fixable(f)))
    if not fixable:
        return ""
    command = fix_command(region=r.identity.region, identity=r.identity.name)
    covers = ", ".join(f"<code>{html.escape(c)}</code>" for c in fixable)
    return (
        '<div class="fixcmd"><h5>Fix the DNS records</h5>'
        f"<p>Plans the DNS changes for {covers} (a dry run; add <code>--apply</code> to make them):</p>"
        f'<pre><code class="fix-command">{escape_html(command)}</code></pre></div>'
    )


def _ok_tier(reports: list[IdentityReport]) -> str:
    parts = ['<section aria-labelledby="ok">', f'<h2 id="ok">OK ({len(reports)})</h2>']
    if not reports:
        parts.append('<p class="none">No identity passed every check.</p>')
        parts.append("</section>")
        return "\n".join(parts)
    notes = any(r.findings for r in reports)
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Status", "Identity", "Type", "Account", "Region", *(("Notes",) if notes else ()))
    )
    rows = []
    for r in reports:
        ident = r.identity
        cells = [
            f"<td>{_badge(r.status.value, r.status.value)}</td>",
            f'<th scope="row" class="any">{escape_html(ident.name)}</th>',
            f"<td>{_kind(r)}</td>",
            f'<td class="mono nowrap">{escape_html(ident.account) if ident.account else "not recorded"}</td>',
            f'<td class="mono nowrap">{escape_html(ident.region)}</td>',
        ]
        if notes:
            cells.append(f"<td>{_notes(r)}</td>")
        rows.append(f'<tr class="identity-row">{"".join(cells)}</tr>')
    parts.append(
        '<div class="scroll"><table class="ok-list"><caption class="vh">Identities with no problem</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    parts.append("</section>")
    return "\n".join(parts)


def _notes(r: IdentityReport) -> str:
    """Informational findings on an OK identity: folded, since nothing needs doing."""
    if not r.findings:
        return ""
    items = "".join(
        f"<li>{_badge(f.severity.value, f.severity.value)} <code>{escape_html(f.check)}</code> "
        f"{escape_html(f.message)}<br>Fix: {escape_html(f.fix)}</li>"
        for f in r.findings
    )
    return f"<details><summary>{_plural(len(r.findings), 'note')}</summary><ul>{items}</ul></details>"
