"""The HTML status page, read back the way a browser would: parsed with the stdlib HTMLParser.

Reports are built from the model directly (tests/support/alert_builders.py),
so these tests do not depend on the scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

import pytest

from ses_dkim_monitor import catalogue
from ses_dkim_monitor.catalogue import CAUSES, CHECKS, Cause
from ses_dkim_monitor.fix_command import fix_command
from ses_dkim_monitor.models import Finding, IdentityReport, IdentityStatus, ScanReport, Severity, ShardError
from ses_dkim_monitor.render.html_page import to_html
from ses_dkim_monitor.render.json_report import summary
from tests.support.alert_builders import (
    dmarc_missing,
    identity_report,
    info_finding,
    lookup_failed,
    missing_token,
    signing_disabled,
)

PROD = "111122223333"
STAGING = "444455556666"
EAST = "us-east-1"
WEST = "eu-west-1"
HOSTILE_MESSAGE = (
    '_dmarc.evil.example holds "<script>alert(1)</script>" and "><img src=x onerror=alert(1)>'
    "\nFix: publish evil.example TXT \x1b[31mv=spf1 +all\u202eesrever"
)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# -- a tiny DOM over html.parser, enough to ask "which text is inside which element" ------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def text(self) -> str:
        """The text a reader sees, whitespace collapsed as a browser would."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"[ \t\n\r\f]+", " ", "".join(parts))

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def ancestor(self, tag: str, cls: str | None = None) -> Node | None:
        node = self.parent
        while node is not None:
            if node.tag == tag and (cls is None or cls in node.classes):
                return node
            node = node.parent
        return None


class Page(HTMLParser):
    """Every start tag and attribute seen, the style sheets, and a tree to query."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        node = Node(tag, values, parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        if self.current.tag == "style":
            self.styles.append(data)
        self.current.children.append(data)

    # -- questions the tests ask --

    def identities(self) -> list[Node]:
        """Problem/unknown cards and OK rows, in document order."""
        return [n for n in self.root.walk() if "identity" in n.classes or "identity-row" in n.classes]

    def identity(self, name: str) -> Node:
        [node] = [n for n in self.identities() if _name_of(n) == name]
        return node


def _name_of(node: Node) -> str:
    if "identity-row" in node.classes:
        [th] = node.find_all("th")
        return th.text().strip()
    [name] = node.find_all(cls="name")
    return name.text().strip()


def in_account(report: IdentityReport, account: str) -> IdentityReport:
    return replace(report, identity=replace(report.identity, account=account))


def mixed_report(*, errors: tuple[ShardError, ...] = ()) -> ScanReport:
    """Problems, an unknown identity and OK ones in two accounts and two regions, in the scan's order."""
    return ScanReport(
        identities=(
            in_account(identity_report("broken.example.com", missing_token("broken.example.com", "tok1")), PROD),
            in_account(identity_report("other.example.net", dmarc_missing("other.example.net"), region=WEST), STAGING),
            in_account(identity_report("signing.example.org", signing_disabled("signing.example.org")), PROD),
            in_account(
                identity_report(
                    "flaky.example.io", lookup_failed("flaky.example.io"), region=WEST, status=IdentityStatus.UNKNOWN
                ),
                STAGING,
            ),
            in_account(identity_report("fine.example.com"), PROD),
            in_account(identity_report("person@example.com", region=WEST), STAGING),
            in_account(
                identity_report(
                    "noted.example.com", info_finding("noted.example.com"), region=WEST, status=IdentityStatus.OK
                ),
                PROD,
            ),
        ),
        regions=(EAST, WEST),
        accounts=(PROD, STAGING),
        generated_at="2026-11-20T07:30:00Z",
        dns_lookups=40,
        dns_lookups_failed=2,
        errors=errors,
    )


def hostile_report() -> ScanReport:
    hostile = Finding(check="dmarc-record-missing", severity=Severity.WARNING, message=HOSTILE_MESSAGE, fix="Publish x")
    return ScanReport(
        identities=(in_account(identity_report("evil.example", hostile), PROD),),
        regions=(EAST,),
        generated_at="2026-11-20T07:30:00Z",
    )


# -- what is on the page --------------------------------------------------------------------------------------


def test_every_identity_is_listed_with_its_account_and_region_problems_before_ok():
    report = mixed_report()
    page = Page(to_html(report))
    listed = [_name_of(n) for n in page.identities()]
    assert sorted(listed) == sorted(r.identity.name for r in report.identities)
    statuses = [page.identity(name).find_all(cls="badge")[0].text() for name in listed]
    assert statuses == ["PROBLEM"] * 3 + ["UNKNOWN"] + ["OK"] * 3
    for r in report.identities:
        text = page.identity(r.identity.name).text()
        assert r.identity.account in text and r.identity.region in text, text


def test_problems_come_first_even_when_the_report_is_not_sorted():
    report = mixed_report()
    shuffled = replace(report, identities=tuple(reversed(report.identities)))
    listed = [_name_of(n) for n in Page(to_html(shuffled)).identities()]
    problems = [r.identity.name for r in report.identities if r.status is IdentityStatus.PROBLEM]
    ok = [r.identity.name for r in report.identities if r.status is IdentityStatus.OK]
    assert max(listed.index(n) for n in problems) < min(listed.index(n) for n in ok)
    assert listed.index("flaky.example.io") < min(listed.index(n) for n in ok)


def test_problems_are_grouped_under_an_account_and_region_heading_in_first_seen_order():
    page = Page(to_html(mixed_report()))
    problems = next(s for s in page.root.find_all("section") if s.attrs.get("aria-labelledby") == "problems")
    headings = [g.find_all("h3")[0].text() for g in problems.find_all("section", cls="group")]
    assert len(headings) == 2
    assert PROD in headings[0] and EAST in headings[0]
    assert STAGING in headings[1] and WEST in headings[1]
    group = page.identity("signing.example.org").ancestor("section", "group")
    assert group is not None and PROD in group.find_all("h3")[0].text()


def test_a_finding_shows_severity_check_title_message_fix_and_record():
    report = mixed_report()
    text = Page(to_html(report)).identity("broken.example.com").text()
    f = report.identities[0].findings[0]
    assert f.record is not None
    for expected in (
        "CRITICAL",
        "dkim-record-missing",
        CHECKS["dkim-record-missing"].title,
        f.message,
        f.fix,
        f.record.name,
        f.record.value,
    ):
        assert expected in text


def test_the_cause_is_named_with_its_catalogue_title(monkeypatch):
    monkeypatch.setitem(
        CAUSES,
        "provider-appended-zone",
        Cause("provider-appended-zone", (catalogue.DKIM_RECORD_MISSING,), "The DNS provider appended its zone"),
    )
    f = replace(missing_token("example.com", "tok1"), cause="provider-appended-zone")
    report = ScanReport(identities=(identity_report("example.com", f),), regions=(EAST,), generated_at="now")
    text = Page(to_html(report)).identity("example.com").text()
    assert "provider-appended-zone" in text and "The DNS provider appended its zone" in text


def test_fix_command_is_offered_for_a_missing_dkim_record_but_not_for_signing_turned_off():
    report = mixed_report()
    page = Page(to_html(report))
    broken = page.identity("broken.example.com")
    [command] = broken.find_all(cls="fix-command")
    assert command.text() == fix_command(region=EAST, identity="broken.example.com")
    signing = page.identity("signing.example.org").text()
    assert "ses-dkim-monitor fix" not in signing
    assert fix_command(region=WEST, identity="other.example.net") in page.identity("other.example.net").text()


def test_fix_command_is_printed_once_per_identity_however_many_records_are_missing():
    findings = [missing_token("example.com", t) for t in ("tok1", "tok2", "tok3")]
    report = ScanReport(identities=(identity_report("example.com", *findings),), regions=(EAST,), generated_at="x")
    assert len(Page(to_html(report)).identity("example.com").find_all(cls="fix-command")) == 1


# -- summary and incomplete scans -----------------------------------------------------------------------------


def test_summary_counts_are_the_json_reports():
    report = mixed_report()
    expected = summary(report)
    tiles = {n.attrs["data-key"]: n.text().split()[0] for n in Page(to_html(report)).root.find_all("li", cls="tile")}
    assert tiles == {
        "identities": str(expected["identities"]),
        "problem": str(expected["problem"]),
        "unknown": str(expected["unknown"]),
        "ok": str(expected["ok"]),
        "critical": str(expected["findings"]["critical"]),
        "warning": str(expected["findings"]["warning"]),
        "info": str(expected["findings"]["info"]),
    }


def test_summary_names_the_accounts_regions_and_scan_time():
    page = Page(to_html(mixed_report()))
    facts = {
        row.find_all("th")[0].text(): row.find_all("td")[0].text()
        for row in page.root.find_all("table", cls="facts")[0].find_all("tr")
    }
    assert PROD in facts["Accounts"] and STAGING in facts["Accounts"]
    assert EAST in facts["Regions"] and WEST in facts["Regions"]
    assert facts["DNS lookups"] == "40 (2 failed)"
    [time] = page.root.find_all("time")
    assert time.attrs["datetime"] == "2026-11-20T07:30:00Z" and "2026-11-20 07:30:00 UTC" in time.text()


def test_failed_shards_are_shown_as_incomplete():
    errors = (
        ShardError(region="ap-southeast-2", reason="AccessDenied: not authorized", account=STAGING),
        ShardError(region=WEST, reason="Read timeout on endpoint URL", account=PROD),
    )
    page = Page(to_html(mixed_report(errors=errors)))
    [banner] = page.root.find_all("section", cls="incomplete")
    text = banner.text()
    assert "INCOMPLETE" in text
    for e in errors:
        assert e.account in text and e.region in text and e.reason in text
    assert summary(mixed_report(errors=errors))["complete"] is False


def test_a_complete_scan_has_no_incomplete_banner():
    document = to_html(mixed_report())
    assert not Page(document).root.find_all(cls="incomplete")
    assert "INCOMPLETE" not in document


def test_an_empty_report_says_there_is_nothing_wrong():
    report = ScanReport(identities=(), regions=(EAST,), generated_at="2026-11-20T07:30:00Z")
    text = Page(to_html(report)).root.text()
    assert "No identity has a problem" in text


# -- untrusted text -------------------------------------------------------------------------------------------


def test_hostile_dns_text_is_shown_as_text_never_as_markup():
    document = to_html(hostile_report())
    page = Page(document)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "img" not in tags
    assert not [(t, a) for t, attrs in page.tags for a in attrs if a.lower().startswith("on")]
    text = page.identity("evil.example").text()
    assert "<script>alert(1)</script>" in text
    assert '"><img src=x onerror=alert(1)>' in text
    # The newline cannot start a "Fix:" line of its own, ESC and the bidi override are shown, not obeyed.
    assert "\\x0aFix: publish evil.example" in text
    assert "\\x1b[31m" in text and "\\u202e" in text
    assert "\x1b" not in document and "\u202e" not in document and "\nFix: publish evil" not in document


@pytest.mark.parametrize(
    "invisible",
    list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\ufeff\u2028\u2029\r\t\x00\x7f"),
    ids=lambda ch: f"U+{ord(ch):04X}",
)
def test_invisible_characters_are_made_visible(invisible):
    f = Finding(check="dmarc-record-missing", severity=Severity.WARNING, message=f"a{invisible}b", fix="x")
    report = ScanReport(identities=(identity_report("example.com", f),), regions=(EAST,), generated_at="x")
    document = to_html(report)
    assert invisible not in document
    code = ord(invisible)
    shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    assert f"a{shown}b" in Page(document).identity("example.com").text()


def test_every_untrusted_field_is_escaped():
    payload = "<img src=x onerror=alert(1)>"
    f = replace(
        missing_token("example.com", "tok1"),
        fix=f"Publish {payload}",
        record=replace(missing_token("example.com", "tok1").record, name=payload, value=payload),
    )
    ok = replace(identity_report(payload), identity=replace(identity_report(payload).identity, account=payload))
    report = ScanReport(
        identities=(in_account(identity_report(f"{payload}.example", f, region=payload), payload), ok),
        regions=(payload,),
        accounts=(payload,),
        generated_at=payload,
        errors=(ShardError(region=payload, reason=payload, account=payload),),
        ses_calls={payload: 1},
    )
    page = Page(to_html(report, title=payload))
    assert "img" not in {tag for tag, _ in page.tags}
    assert not [a for _, attrs in page.tags for a in attrs if a.lower().startswith("on")]
    assert page.root.text().count(payload) >= 10


# -- one self-contained file ----------------------------------------------------------------------------------


def test_the_page_fetches_nothing_from_outside():
    report = mixed_report(errors=(ShardError(region=EAST, reason="x", account=STAGING),))
    page = Page(to_html(report))
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"link", "script", "iframe", "object", "embed", "img", "video", "audio", "source", "base"}
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background"):
            assert name not in attrs, (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith("#"), (tag, attrs)
        assert "url(" not in attrs.get("style", "")
        assert attrs.get("http-equiv", "").lower() != "refresh"
    css = "".join(page.styles).lower()
    assert "@import" not in css and "@font-face" not in css
    assert all(u.startswith("data:") for u in re.findall(r"url\(\s*['\"]?([^'\")]*)", css))


def test_anchor_links_point_at_ids_on_the_page():
    page = Page(to_html(mixed_report(errors=(ShardError(region=EAST, reason="x"),))))
    ids = {attrs["id"] for _, attrs in page.tags if "id" in attrs}
    links = [attrs["href"][1:] for _, attrs in page.tags if "href" in attrs]
    assert links and set(links) <= ids


def test_the_page_forbids_scripts_and_fetches_even_if_escaping_ever_failed():
    page = Page(to_html(mixed_report()))
    [csp] = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_the_document_is_html5_in_english_with_charset_and_viewport():
    document = to_html(mixed_report(), title="Prod SES")
    assert document.startswith("<!DOCTYPE html>")
    page = Page(document)
    [html_tag] = page.root.find_all("html")
    assert html_tag.attrs["lang"] == "en"
    metas = [a for t, a in page.tags if t == "meta"]
    assert {"charset": "utf-8"} in metas
    assert any(a.get("name") == "viewport" for a in metas)
    assert page.root.find_all("title")[0].text() == "Prod SES" and page.root.find_all("h1")[0].text() == "Prod SES"


def test_tables_have_scoped_headers_and_statuses_are_words():
    page = Page(to_html(mixed_report(errors=(ShardError(region=EAST, reason="x"),))))
    for th in page.root.find_all("th"):
        assert th.attrs.get("scope") in {"col", "row"}, th.text()
    for badge in page.root.find_all(cls="badge"):
        assert badge.text().strip() in {"PROBLEM", "UNKNOWN", "OK", "CRITICAL", "WARNING", "INFO", "INCOMPLETE"}
