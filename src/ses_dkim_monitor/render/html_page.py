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

from ..fix_command import dns_fixable, fix_command
from ..i18n import N_, _, ngettext, pgettext
from ..models import DnsRecord, IdentityReport, IdentityStatus, IdentityType, ScanReport, ShardError
from . import grouping
from .html_base import document, escape_attr, escape_html
from .json_report import summary

_TIERS = (
    (IdentityStatus.PROBLEM, "problems", N_("Problems")),
    (IdentityStatus.UNKNOWN, "unknown", N_("Could not be checked")),
)
DEFAULT_TITLE = N_("SES DKIM status")


def _badge(word: str, kind: str) -> str:
    """A status or severity: always the word, the colour only repeats it."""
    shown = grouping.word(word)
    return f'<span class="badge b-{kind}">{html.escape(shown)}</span>'


def _account(account: str) -> str:
    return _("account {account}").format(account=escape_html(account)) if account else _("account not recorded")


def _kind(r: IdentityReport) -> str:
    return _("email address") if r.identity.type is IdentityType.EMAIL_ADDRESS else _("domain")


def to_html(report: ScanReport, *, title: str = "", totals_scope: str = "") -> str:
    """The whole page for ``report``: one HTML5 document, nothing fetched from anywhere.

    ``totals_scope`` qualifies the DNS and SES call counts when the report is one
    shard's part of a larger run (the probe is shared, so they are the run's):
    e.g. ``"whole run"``.
    """
    title = title or _(DEFAULT_TITLE)
    counts = summary(report)
    tiers = {status: [r for r in report.identities if r.status is status] for status in IdentityStatus}
    ids = _Ids()
    body: list[str] = [
        "<header>",
        f"<h1>{escape_html(title)}</h1>",
        '<p class="scanned">'
        + _("Scanned at {time}").format(
            time=f'<time datetime="{escape_attr(report.generated_at)}">{escape_html(_when(report.generated_at))}</time>'
        )
        + "</p>",
        "</header>",
        "<main>",
        _incomplete(report.errors),
        _summary(report, counts, totals_scope=totals_scope),
    ]
    for status, anchor, heading in _TIERS:
        reports = tiers[status]
        if status is IdentityStatus.UNKNOWN and not reports:
            continue
        body.append(_tier(anchor, _(heading), reports, ids, complete=not report.errors))
    body.append(_ok_tier(tiers[IdentityStatus.OK]))
    body.append("</main>")
    body.append(
        "<footer><p>"
        + _(
            "Written by ses-dkim-monitor. Text taken from SES and DNS is shown escaped: {box}-style boxes stand for "
            "invisible or control characters the record really contains."
        ).format(box='<span class="esc">\\u202e</span>')
        + "</p></footer>"
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
    unrecorded = _("not recorded")
    rows = "".join(
        f'<tr><td class="mono nowrap">{escape_html(e.account) if e.account else unrecorded}</td>'
        f'<td class="mono nowrap">{escape_html(e.region)}</td><td class="any">{escape_html(e.reason)}</td></tr>'
        for e in errors
    )
    return (
        '<section class="incomplete" aria-labelledby="incomplete">'
        f'<h2 id="incomplete">{_badge("incomplete", "incomplete")} '
        + ngettext(
            "{count} account/region could not be read", "{count} accounts/regions could not be read", len(errors)
        ).format(count=len(errors))
        + "</h2><p>"
        + _("Identities there are missing from this page: nothing below says they are healthy.")
        + '</p><table><thead><tr><th scope="col">'
        + _("Account")
        + '</th><th scope="col">'
        + _("Region")
        + '</th><th scope="col">'
        + _("Reason")
        + f"</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _summary(report: ScanReport, counts: dict[str, Any], *, totals_scope: str = "") -> str:
    def tile(n: int, label: str, kind: str, anchor: str = "") -> str:
        inner = f'<span class="n">{n}</span> <span class="l">{label}</span>'
        if anchor and n:
            inner = f'<a href="#{anchor}">{inner}</a>'
        return f'<li class="tile t-{kind}" data-key="{kind}">{inner}</li>'

    statuses = [
        tile(counts["identities"], _("identities"), "identities"),
        tile(counts["problem"], _("with problems"), "problem", "problems"),
        tile(counts["unknown"], _("could not be checked"), "unknown", "unknown"),
        tile(counts["ok"], pgettext("tile", "ok"), "ok", "ok"),
    ]
    labels = {"critical": _("critical findings"), "warning": _("warning findings"), "info": _("info findings")}
    findings = [tile(counts["findings"][s], labels[s], s) for s in ("critical", "warning", "info")]
    accounts = report.accounts or tuple(
        dict.fromkeys(r.identity.account for r in report.identities if r.identity.account)
    )
    failed = counts["dns_lookups_failed"]
    failed_lookups = " " + _("({count} failed)").format(count=failed) if failed else ""
    scope = f" ({escape_html(totals_scope)})" if totals_scope else ""
    shards = len(report.errors)
    complete = (
        _("yes: every account and region was read")
        if counts["complete"]
        else f"{_badge('incomplete', 'incomplete')} "
        + ngettext("{count} shard could not be read", "{count} shards could not be read", shards).format(count=shards)
        + ' (<a href="#incomplete">'
        + _("see above")
        + "</a>)"
    )
    facts = [
        (_("Accounts"), ", ".join(escape_html(a) for a in accounts) or _("not recorded")),
        (_("Regions"), ", ".join(escape_html(r) for r in report.regions) or _("none")),
        (_("Complete"), complete),
        (_("DNS lookups") + scope, f"{counts['dns_lookups']}{failed_lookups}"),
    ]
    if report.ses_calls:
        calls = ", ".join(f"{escape_html(op)} {n}" for op, n in counts["ses_calls"].items())
        facts.append((_("SES API calls") + scope, calls))
    rows = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in facts)
    heading, by_status, by_severity = _("Summary"), _("Identities by status"), _("Findings by severity")
    scanned = _("What was scanned")
    return (
        '<section aria-labelledby="summary">'
        f'<h2 id="summary">{heading}</h2>'
        f'<ul class="tiles" aria-label="{escape_attr(by_status)}">{"".join(statuses)}</ul>'
        f'<ul class="tiles" aria-label="{escape_attr(by_severity)}">{"".join(findings)}</ul>'
        f'<table class="facts"><caption class="vh">{scanned}</caption><tbody>{rows}</tbody></table>'
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
        none = (
            _("No identity has a problem.")
            if complete
            else _("No identity has a problem in the accounts and regions that could be read.")
        )
        parts.append(f'<p class="none">{_badge("ok", "ok")} {none}</p>')
    for (account, region), members in _groups(reports).items():
        group_id = ids.new("group")
        parts.append(f'<section class="group" aria-labelledby="{group_id}">')
        who = _("Account {account}").format(account=escape_html(account)) if account else _("Account not recorded")
        where = _("region {region}").format(region=escape_html(region))
        many = ngettext("{count} identity", "{count} identities", len(members)).format(count=len(members))
        parts.append(f'<h3 id="{group_id}">{who} · {where} · {many}</h3>')
        parts.extend(_identity(r, ids) for r in members)
        parts.append("</section>")
    parts.append("</section>")
    return "\n".join(parts)


def _identity(r: IdentityReport, ids: _Ids) -> str:
    ident = r.identity
    heading_id = ids.new("identity")
    status = r.status.value
    served = grouping.served_line(r)
    findings = "".join(_group(g, r) for g in grouping.groups(r.findings, drop=served))
    worst = " · " + _("worst: {severity}").format(severity=grouping.severity_word(r.worst.value)) if r.worst else ""
    count = ngettext("{count} finding", "{count} findings", len(r.findings)).format(count=len(r.findings))
    where = _("region {region}").format(region=escape_html(ident.region))
    parts = [
        f'<article class="identity st-{status}" aria-labelledby="{heading_id}">',
        f'<h4 id="{heading_id}">{_badge(status, status)} <span class="name">{escape_html(ident.name)}</span></h4>',
        f'<p class="meta">{_kind(r)} · {_account(ident.account)} · {where} · {count}{worst}</p>',
        f'<p class="served">{escape_html(served)}</p>' if served else "",
        f'<ol class="findings">{findings}</ol>' if findings else "",
        _fix_command(r),
        "</article>",
    ]
    return "\n".join(p for p in parts if p)


def _group(g: grouping.Group, r: IdentityReport) -> str:
    """One check's findings for the identity: each record's own sentence, then what they share, once."""
    count = len(g.findings)
    head = grouping.headline(g.check, count, total=grouping.total_of(r, g.check))
    title = f" <strong>{escape_html(head)}</strong>"
    rows = []
    if g.cause:
        rows.append(
            (
                pgettext("finding", "Cause"),
                f'<code class="cause">{escape_html(g.cause)}</code> {escape_html(grouping.cause_title(g.cause))}',
            )
        )
    rows.append((pgettext("finding", "Seen"), _text_block(g.messages, g.message)))
    if g.fixes or g.fix:  # none: each fix only published its record, which the Record row lists
        rows.append((pgettext("finding", "Fix"), _text_block(g.fixes, g.fix)))
    if g.records:
        rows.append((pgettext("finding", "Record"), _records(g.records)))
    body = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    severity = g.severity.value
    return (
        f'<li class="finding sev-{severity}" data-count="{count}">'
        f'<p class="finding-head">{_badge(severity, severity)}{title} '
        f'<code class="check">{escape_html(g.check)}</code></p>'
        f"<dl>{body}</dl></li>"
    )


def _text_block(own: tuple[str, ...], shared: str) -> str:
    """Each finding's own text (a list when there are several), then what they all share."""
    own = tuple(t for t in own if t)
    if len(own) == 1:
        parts = [escape_html(own[0])]
    else:
        parts = ['<ul class="each">' + "".join(f"<li>{escape_html(t)}</li>" for t in own) + "</ul>"] if own else []
    if shared:
        parts.append(f'<p class="shared">{escape_html(shared)}</p>' if parts else escape_html(shared))
    return " ".join(parts)


def _records(records: tuple[DnsRecord, ...]) -> str:
    rows = "".join(
        f'<tr><td class="mono any">{escape_html(record.name)}</td><td class="mono nowrap">'
        f'{escape_html(record.type)}</td><td class="mono any">{escape_html(record.value)}</td></tr>'
        for record in records
    )
    caption = ngettext("Record to publish", "Records to publish", len(records))
    name, rtype, value = pgettext("record", "Name"), pgettext("record", "Type"), pgettext("record", "Value")
    return (
        f'<table class="record"><caption class="vh">{caption}</caption><thead><tr>'
        f'<th scope="col">{name}</th><th scope="col">{rtype}</th>'
        f'<th scope="col">{value}</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _fix_command(r: IdentityReport) -> str:
    fixable = list(dict.fromkeys(f.check for f in r.findings if dns_fixable(f)))
    if not fixable:
        return ""
    command = fix_command(region=r.identity.region, identity=r.identity.name)
    covers = ", ".join(f"<code>{html.escape(c)}</code>" for c in fixable)
    heading = _("Fix the DNS records")
    plans = _("Plans the DNS changes for {checks} (a dry run; add {apply} to make them):").format(
        checks=covers, apply="<code>--apply</code>"
    )
    return (
        f'<div class="fixcmd"><h5>{heading}</h5>'
        f"<p>{plans}</p>"
        f'<pre><code class="fix-command">{escape_html(command)}</code></pre></div>'
    )


def _ok_tier(reports: list[IdentityReport]) -> str:
    ok = pgettext("tier", "OK")
    parts = ['<section aria-labelledby="ok">', f'<h2 id="ok">{ok} ({len(reports)})</h2>']
    if not reports:
        parts.append('<p class="none">' + _("No identity passed every check.") + "</p>")
        parts.append("</section>")
        return "\n".join(parts)
    notes = any(r.findings for r in reports)
    columns = [_("Status"), _("Identity"), pgettext("identity", "Type"), _("Account"), _("Region")]
    head = "".join(f'<th scope="col">{h}</th>' for h in (*columns, *((_("Notes"),) if notes else ())))
    rows = []
    unrecorded = _("not recorded")
    for r in reports:
        ident = r.identity
        cells = [
            f"<td>{_badge(r.status.value, r.status.value)}</td>",
            f'<th scope="row" class="any">{escape_html(ident.name)}</th>',
            f"<td>{_kind(r)}</td>",
            f'<td class="mono nowrap">{escape_html(ident.account) if ident.account else unrecorded}</td>',
            f'<td class="mono nowrap">{escape_html(ident.region)}</td>',
        ]
        if notes:
            cells.append(f"<td>{_notes(r)}</td>")
        rows.append(f'<tr class="identity-row">{"".join(cells)}</tr>')
    parts.append(
        '<div class="scroll"><table class="ok-list"><caption class="vh">'
        + _("Identities with no problem")
        + "</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    parts.append("</section>")
    return "\n".join(parts)


def _notes(r: IdentityReport) -> str:
    """Informational findings on an OK identity: folded, since nothing needs doing."""
    if not r.findings:
        return ""
    fix = pgettext("finding", "Fix")
    items = "".join(
        f"<li>{_badge(f.severity.value, f.severity.value)} <code>{escape_html(f.check)}</code> "
        f"{escape_html(f.message)}<br>{fix}: {escape_html(f.fix)}</li>"
        for f in r.findings
    )
    notes = ngettext("{count} note", "{count} notes", len(r.findings)).format(count=len(r.findings))
    return f"<details><summary>{notes}</summary><ul>{items}</ul></details>"
