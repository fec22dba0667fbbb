"""The status page in S3: written after each scheduled run that alerted, and linked from every alert.

What is written where (docs/status-page.md):

* ``status/<account>/<region>.html``: one page per (account, region) shard the
  run scanned, rendered by ``render.html_page`` from that shard's part of the
  report, its errors included: a shard that could not be read says so instead
  of leaving last hour's "all OK" in place.
* ``status/index.html``: when one invocation scanned the whole run, the page
  of the whole report. When the run was fanned out over SQS, each shard's
  invocation writes its own page and the one that completes the run writes an
  index listing every shard page found under ``status/`` (ListObjectsV2),
  linked by relative URL.

Alerting happens before any page is written, and a page that cannot be
written is logged (the S3 error code, never the page) and counted: the
page is a convenience, never a reason to lose an alert or fail a run.

The bucket is private. Alerts link to the object in the S3 console, which
opens for whoever can sign in to the account and read the bucket; never a
public or presigned URL, which would expire or leak access when forwarded.
Objects are encrypted by the bucket's default (SSE-KMS in the template):
nothing here names a key.

The adapter receives its S3 client; ``wiring.build_status_page`` builds it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError

from .aws_errors import error_code
from .i18n import _
from .models import ScanReport
from .partitions import console_origin
from .render.html_base import document, escape_attr, escape_html
from .render.html_page import to_html

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("s3:PutObject", "s3:ListBucket")

PREFIX = "status/"
INDEX_KEY = f"{PREFIX}index.html"
CONTENT_TYPE = "text/html; charset=utf-8"
# Every run replaces the page: a browser or proxy must ask again rather than show last hour's.
CACHE_CONTROL = "no-cache"
# ListObjectsV2 returns at most 1,000 keys a page; 100 pages is 100,000 shard pages, far beyond any
# organization's accounts times SES regions. The bound keeps a bucket full of stray objects from
# turning the last shard's invocation into an endless listing.
MAX_LIST_PAGES = 100
LIST_PAGE_SIZE = 1000
# Account ids and region names are all a key is made of; anything else is not ours to write or list.
_KEY_PART = re.compile(r"^[a-z0-9-]{1,64}$")
_SHARD_KEY = re.compile(r"^status/(?P<account>[a-z0-9-]{1,64})/(?P<region>[a-z0-9-]{1,64})\.html$")


def shard_key(account: str, region: str) -> str:
    """The object key of one (account, region) shard's page."""
    return f"{PREFIX}{account}/{region}.html"


@dataclass(frozen=True)
class StatusPageLinks:
    """Where alerts send a reader: an object's page in the S3 console (sign-in required; the bucket is private).

    ``region`` is the bucket's region, the stack's own. The console's object
    URL is ``/s3/object/<bucket>?region=<bucket region>&prefix=<key>``.
    """

    bucket: str
    region: str

    def console_url(self, key: str) -> str:
        """The object's page in the console of the bucket's partition (``partitions.console_origin``).

        A partition without a public console gets the object's ``s3://`` address: a reader
        there knows where to look, and no link leads to another partition's console.
        """
        origin = console_origin(self.region)
        if origin is None:
            return f"s3://{self.bucket}/{key}"
        query = urlencode({"region": self.region, "prefix": key}, quote_via=quote, safe="/")
        return f"{origin}/s3/object/{quote(self.bucket, safe='')}?{query}"

    def shard(self, account: str, region: str) -> str:
        """The console URL of one shard's page (what a single alert links to)."""
        return self.console_url(shard_key(account, region))

    def index(self) -> str:
        """The console URL of ``status/index.html`` (what a digest links to)."""
        return self.console_url(INDEX_KEY)


@dataclass(frozen=True)
class WriteResult:
    """Pages written and pages (or listings) that failed, for the metric and the log line."""

    written: int = 0
    failed: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.written + other.written, self.failed + other.failed)


def shard_report(report: ScanReport, account: str, region: str) -> ScanReport:
    """``report`` restricted to one (account, region) shard: its identities and its errors."""
    mine = report.for_account(account)
    return replace(
        mine,
        identities=tuple(r for r in mine.identities if r.identity.region == region),
        errors=tuple(e for e in mine.errors if e.region == region),
        regions=(region,),
    )


def _shard_page(report: ScanReport, account: str, region: str, totals_scope: str) -> str:
    return to_html(
        shard_report(report, account, region),
        title=_("SES DKIM status · account {account} · {region}").format(account=account, region=region),
        totals_scope=totals_scope,
    )


def shards_of(report: ScanReport) -> list[tuple[str, str]]:
    """The (account, region) shards a report covers: every account it scanned in every region it scanned."""
    accounts = report.accounts or tuple(dict.fromkeys(r.identity.account for r in report.identities))
    shards = []
    for account in accounts:
        for region in report.regions:
            if _KEY_PART.match(account) and _KEY_PART.match(region):
                shards.append((account, region))
            else:  # an account that could not even be named (organization not listed): on the index only
                log.warning("no status page for this shard: not an account id", extra={"region": region})
    return shards


@dataclass(frozen=True)
class ListedPage:
    account: str
    region: str
    key: str
    last_modified: datetime | None


class StatusPageWriter:
    """Writes the status pages to one bucket with the S3 client it is given. Never raises for S3's answers."""

    def __init__(
        self, client: Any, bucket: str, *, links: StatusPageLinks | None = None, page_size: int = LIST_PAGE_SIZE
    ):
        self._client = client
        self._bucket = bucket
        self._links = links
        self._page_size = page_size

    def write_report(self, report: ScanReport, *, index: bool) -> WriteResult:
        """One page per shard of ``report``; with ``index``, ``status/index.html`` as the whole report's page.

        ``index`` is for a run that scanned everything itself. A re-check's
        report (``scope`` set: a few identities) writes nothing: its page
        would say the shard holds only those.
        """
        if report.scope is not None:
            return WriteResult()
        shards = shards_of(report)
        # The DNS probe and the SES counts are the run's; on a page of one shard of several, say so.
        # Translators: after the DNS and SES call counts of one shard's page, in parentheses.
        totals_scope = _("whole run") if len(shards) > 1 else ""
        writes: list[tuple[str, Callable[[], str]]] = [
            (shard_key(account, region), partial(_shard_page, report, account, region, totals_scope))
            for account, region in shards
        ]
        if index:
            writes.append((INDEX_KEY, partial(to_html, report)))
        result = WriteResult()
        for done, (key, render) in enumerate(writes):
            outcome = self._put(key, render())
            result += outcome
            if outcome.failed:
                # One refusal or timeout is the bucket's answer for the rest too: retrying each page would
                # spend the invocation's reserved time (a connect timeout per attempt) for nothing.
                skipped = len(writes) - done - 1
                if skipped:
                    log.warning("status pages skipped after a failed write", extra={"skipped": skipped})
                return result + WriteResult(failed=skipped)
        return result

    def write_listing_index(self, *, run_started: datetime) -> WriteResult:
        """``status/index.html`` listing every shard page under ``status/`` (a fanned-out run's last shard)."""
        pages = self.list_pages()
        if pages is None:
            return WriteResult(failed=1)
        return self._put(INDEX_KEY, listing_html(pages, run_started=run_started, links=self._links))

    def list_pages(self) -> list[ListedPage] | None:
        """Every shard page under ``status/``, sorted by account and region; None when S3 would not say."""
        found: list[ListedPage] = []
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": PREFIX, "MaxKeys": self._page_size}
        for _page in range(MAX_LIST_PAGES):
            try:
                response = self._client.list_objects_v2(**request)
            except (ClientError, BotoCoreError) as error:
                log.warning(
                    "status pages could not be listed; index not written",
                    extra={"bucket": self._bucket, "error": error_code(error)},
                )
                return None
            for item in response.get("Contents", []):
                match = _SHARD_KEY.match(str(item.get("Key", "")))
                if match:
                    found.append(ListedPage(match["account"], match["region"], match[0], item.get("LastModified")))
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                break
            request["ContinuationToken"] = token
        else:
            log.warning(
                "status pages: listing stopped at its bound; the index lists the first ones",
                extra={"bucket": self._bucket, "pages": MAX_LIST_PAGES},
            )
        return sorted(found, key=lambda p: (p.account, p.region))

    def _put(self, key: str, page: str) -> WriteResult:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=page.encode("utf-8"),
                ContentType=CONTENT_TYPE,
                CacheControl=CACHE_CONTROL,
            )
        except (ClientError, BotoCoreError) as error:
            log.warning(
                "status page not written", extra={"bucket": self._bucket, "key": key, "error": error_code(error)}
            )
            return WriteResult(failed=1)
        return WriteResult(written=1)


def listing_html(pages: Sequence[ListedPage], *, run_started: datetime, links: StatusPageLinks | None = None) -> str:
    """The index of a fanned-out run: each shard page with its account, region and when it was written.

    Self-contained like every page (one file, inline style, a CSP that
    forbids scripts and fetches). Shard pages are linked by relative URL,
    which works where the folder is served or copied as a whole; when
    ``links`` is given, each row also links to the page in the S3 console,
    which is the one link that works from a page the console opened itself.
    Keys come from the bucket, so everything shown is escaped.
    """
    title = _("SES DKIM status: every account and region")
    rows = "".join(_listing_row(p, links) for p in pages)
    console_head = '<th scope="col">' + _("In the S3 console") + "</th>" if links else ""
    table = (
        '<div class="scroll"><table class="ok-list"><caption class="vh">'
        + _("Status pages")
        + '</caption><thead><tr><th scope="col">'
        + _("Account")
        + '</th><th scope="col">'
        + _("Region")
        + '</th><th scope="col">'
        + _("Page written")
        + f"</th>{console_head}</tr></thead><tbody>{rows}</tbody></table></div>"
        if pages
        else '<p class="none">' + _("No shard page has been written yet.") + "</p>"
    )
    started = run_started.astimezone(UTC)
    body: Iterable[str] = [
        "<header>",
        f"<h1>{escape_html(title)}</h1>",
        '<p class="scanned">'
        + _(
            "Index of the run started at {time}: one page per account and region, each written by the invocation that "
            "scanned it. A page written before that time was not rewritten by this run."
        ).format(time=f'<time datetime="{escape_attr(started.isoformat())}">{escape_html(_utc(started))}</time>')
        + "</p>",
        "</header>",
        "<main>",
        '<section aria-labelledby="pages"><h2 id="pages">'
        + _("Pages ({count})").format(count=len(pages))
        + f"</h2>{table}</section>",
        "</main>",
        "<footer><p>" + _("Written by ses-dkim-monitor.") + "</p></footer>",
    ]
    return document(title, body)


def _listing_row(page: ListedPage, links: StatusPageLinks | None) -> str:
    href = f"{quote(page.account, safe='')}/{quote(page.region, safe='')}.html"
    written = page.last_modified
    when = (
        f'<time datetime="{escape_attr(written.astimezone(UTC).isoformat())}">{escape_html(_utc(written))}</time>'
        if isinstance(written, datetime)
        else _("unknown")
    )
    cells = [
        f'<th scope="row" class="mono nowrap"><a href="{escape_attr(href)}">{escape_html(page.account)}</a></th>',
        f'<td class="mono nowrap"><a href="{escape_attr(href)}">{escape_html(page.region)}</a></td>',
        f"<td>{when}</td>",
    ]
    if links:
        url = links.console_url(page.key)
        cells.append(f'<td><a href="{escape_attr(url)}" rel="noreferrer">' + _("open") + "</a></td>")
    return f'<tr class="page-row">{"".join(cells)}</tr>'


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
