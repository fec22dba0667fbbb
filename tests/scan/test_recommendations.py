"""SES's open recommendations imported beside our findings (IMPORT_SES_RECOMMENDATIONS).

Identities come from moto's server; GetAccount and ListRecommendations, which
moto lacks, from a local stand-in that forwards everything else to moto
(tests/support/ses_vdm.py). The scan runs through the CLI.
"""

from __future__ import annotations

import json

import pytest

from ses_dkim_monitor.cli import main
from ses_dkim_monitor.models import IdentityStatus, Severity
from ses_dkim_monitor.scan import recommendations
from ses_dkim_monitor.scan.recommendations import Recommendation, merge
from tests.support.alert_builders import dmarc_missing, identity_report
from tests.support.ses_vdm import VdmStandIn
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

REGION = "us-east-1"


@pytest.fixture()
def vdm(moto, httpserver, monkeypatch):
    stand_in = VdmStandIn(moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", stand_in.install(httpserver))
    monkeypatch.setenv("IMPORT_SES_RECOMMENDATIONS", "true")
    monkeypatch.setattr(recommendations, "_said_not_enabled", set())
    return stand_in


def check(capsys, knot, *extra: str) -> dict:
    args = ["check", "--format", "json", "--region", REGION, "--nameserver", knot.address, "--fail-on", "never"]
    code = main([*args, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return {"_stderr": err, **{r["name"]: r for r in json.loads(out)["identities"]}}


def test_open_recommendations_our_checks_do_not_explain_become_findings(vdm, ses, knot, capsys):
    world = ses(REGION)
    good = world.add_domain("vdm-good.test")
    nodmarc = world.add_domain("vdm-nodmarc.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(good) + "\n" + easy_dkim_zone_records(nodmarc))
    knot.set_zone("vdm-good.test", customer_cname_records(good) + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone("vdm-nodmarc.test", customer_cname_records(nodmarc))
    vdm.recommend("vdm-good.test", "DKIM", "DKIM signatures fail at Gmail.\nFix: publish evil", region=REGION)
    vdm.recommend("vdm-good.test", "SPF", "Consider a custom MAIL FROM domain", impact="LOW", region=REGION)
    vdm.recommend("vdm-nodmarc.test", "DMARC", "No DMARC record found", region=REGION)  # we say so already
    vdm.recommend("vdm-good.test", "BIMI", "Publish a BIMI record", region=REGION)  # not ours to judge
    vdm.recommend("elsewhere.test", "DKIM", "Not an identity of this scan", region=REGION)

    got = check(capsys, knot)

    dkim, spf = got["vdm-good.test"]["findings"]  # most severe first
    assert dkim["check"] == spf["check"] == "ses-recommendation"
    assert dkim["severity"] == "warning" and "SES recommends (DKIM, high impact)" in dkim["message"]
    assert "DKIM signatures fail at Gmail." in dkim["message"] and "DKIM signatures fail at Gmail." in dkim["fix"]
    assert spf["severity"] == "info" and "(SPF, low impact)" in spf["message"]
    assert got["vdm-good.test"]["status"] == "problem"
    assert [f["check"] for f in got["vdm-nodmarc.test"]["findings"]] == ["dmarc-record-missing"]
    [(_, listed)] = [c for c in vdm.calls if c[0] == "ListRecommendations"]
    assert listed["Filter"] == {"STATUS": "OPEN"}


def test_without_virtual_deliverability_manager_it_says_so_once_and_carries_on(vdm, ses, knot, capsys):
    vdm.enabled = False
    world = ses(REGION)
    tokens = world.add_domain("vdm-off.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone("vdm-off.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    vdm.recommend("vdm-off.test", "DKIM", "never read", region=REGION)

    first, second = check(capsys, knot, "-v"), check(capsys, knot, "-v")  # -v: log lines on stderr

    assert first["vdm-off.test"]["status"] == second["vdm-off.test"]["status"] == "ok"
    said = "Virtual Deliverability Manager is not enabled"
    assert said in first["_stderr"] and said not in second["_stderr"]
    assert not any(c[0] == "ListRecommendations" for c in vdm.calls)


def test_recommendations_are_read_page_after_page(vdm, ses, knot, capsys):
    world = ses(REGION)
    tokens = world.add_domain("vdm-pages.test")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    knot.set_zone("vdm-pages.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    for i in range(150):
        vdm.recommend(f"other-{i}.test", "DKIM", "elsewhere", region=REGION)
    vdm.recommend("vdm-pages.test", "DKIM", "on the second page", region=REGION)

    got = check(capsys, knot)

    assert [f["check"] for f in got["vdm-pages.test"]["findings"]] == ["ses-recommendation"]
    assert [p.get("NextToken") for op, p in vdm.calls if op == "ListRecommendations"] == [None, "100"]


def test_merge_keeps_an_explained_recommendation_out_and_raises_the_status_only_for_warnings():
    report = identity_report("example.com")
    explained = identity_report("example.org", dmarc_missing("example.org"))
    low = Recommendation("example.com", "SPF", "a nicety", "LOW")
    [ok_low] = merge([report], [low])
    assert ok_low.status is IdentityStatus.OK and [f.severity for f in ok_low.findings] == [Severity.INFO]
    [dmarc] = merge([explained], [Recommendation("EXAMPLE.org", "DMARC", "no record", "HIGH")])
    assert dmarc.findings == explained.findings


def test_recommendations_that_cannot_be_read_are_marked_not_evaluated(vdm, ses, knot):
    """So an open ses-recommendation alert is kept rather than resolved by a run that could not look."""
    import boto3

    from ses_dkim_monitor import cli
    from ses_dkim_monitor.settings import Settings

    vdm.denied = True
    ses(REGION).add_email("ops@vdm-denied.test")
    settings = Settings.from_env(
        {
            "SCAN_REGIONS": REGION,
            "DNS_NAMESERVERS": knot.address,
            "IMPORT_SES_RECOMMENDATIONS": "true",
            "SES_REQUESTS_PER_SECOND": "50",  # pacing is tests/scan/test_pacer.py's business
        }
    )

    report = cli.scan(settings, boto3.Session(), only=())

    assert [r.identity.name for r in report.identities] == ["ops@vdm-denied.test"]
    assert report.unevaluated == frozenset({"ses-recommendation"})
    vdm.denied = False
    assert cli.scan(settings, boto3.Session(), only=()).unevaluated == frozenset()
