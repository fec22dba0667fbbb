"""Issue 20 end to end: a doubled-domain identity whose zone お名前.com serves, in English and in Japanese.

The identity's three DKIM CNAMEs were pasted with their full names into a
form that appends the zone, so each stands at ``<name>.<zone>``; the zone's
NS are dns1.onamae.com and dns2.onamae.com, served by knotd (moto for SES,
SNS read back through an SQS subscription, Slack a pytest-httpserver stand-in,
the status page rendered by headless Chromium). Everything a person reads
follows the language; check ids, causes, severities, JSON keys, SNS message
attributes and exit codes never change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import boto3
import pytest

from ses_dkim_monitor.cli import main
from tests.support.alert_builders import Topic
from tests.support.ses_world import easy_dkim_zone_records

DOMAIN = "onamae-jp.test"
ONAMAE_NS = "@ NS dns1.onamae.com.\n@ NS dns2.onamae.com.\n"
SCREENSHOTS = Path(tempfile.gettempdir()) / "ses-dkim-monitor-i18n"


@pytest.fixture()
def onamae(ses, knot):
    """The doubled-domain identity, its zone served by お名前.com's name servers (stood in for by knotd)."""
    world = ses("us-east-1")
    tokens = world.add_domain(DOMAIN)
    doubled = "\n".join(f"{t}._domainkey.{DOMAIN}.{DOMAIN}. CNAME {t}.dkim.amazonses.com." for t in tokens)
    knot.set_zone(DOMAIN, doubled + '\n_dmarc TXT "v=DMARC1; p=none"', ns=ONAMAE_NS)
    # お名前.com's servers, so the name-server check can ask them (they are this knotd).
    knot.set_zone("onamae.com", "dns1 A 127.0.0.1\ndns2 A 127.0.0.1")
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    return tokens


def check(capsys, knot, *args: str) -> tuple[int, str, str]:
    code = main(["check", "--nameserver", knot.address, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_in_english_names_the_provider_and_says_the_problem_once(capsys, onamae, knot):
    code, out, _ = check(capsys, knot)
    assert code == 1
    assert out.count(f"DNS for {DOMAIN} is served by Onamae.com (dns1.onamae.com).") == 1
    assert "dkim-record-missing (doubled-domain): 3 of 3 DKIM CNAMEs are missing" in out
    # What the three records share is said once; each record's own host once.
    assert out.count("SES may still report DKIM as verified") == 1
    assert out.count("Not confirmed for Onamae.com") == 1
    for token in onamae:
        assert out.count(f'then add host "{token}._domainkey", type CNAME') == 1
    assert "records to publish:" in out


def test_text_report_in_japanese_with_the_option(capsys, onamae, knot):
    code, out, _ = check(capsys, knot, "--language", "ja")
    assert code == 1  # exit codes do not change with the language
    assert f"{DOMAIN} の DNS は お名前.com（dns1.onamae.com）が提供しています。" in out
    assert "dkim-record-missing (doubled-domain): DKIM の CNAME が 3 件中 3 件ありません" in out
    assert out.count("お名前.com について未確認の点") == 1
    for token in onamae:
        entry = f"「ホスト名」に「{token}._domainkey」、「種別」に「CNAME」、「値」に「{token}.dkim.amazonses.com.」"
        assert entry in out
    assert "問題あり" in out and "重大" in out
    assert "DNS for" not in out and "is missing" not in out


def test_text_report_follows_a_japanese_locale_without_the_option(capsys, onamae, knot, monkeypatch):
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    _code, out, _ = check(capsys, knot)
    assert "お名前.com（dns1.onamae.com）が提供しています" in out
    monkeypatch.setenv("LC_ALL", "C")  # LC_ALL comes before LANG: English again
    _code, out, _ = check(capsys, knot)
    assert f"DNS for {DOMAIN} is served by Onamae.com" in out


def test_an_unknown_language_is_a_usage_error_naming_the_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--language", "fr"])
    assert exit_.value.code == 2
    assert "--language" in capsys.readouterr().err


def test_json_report_keeps_its_contract_in_japanese_and_adds_the_provider(capsys, onamae, knot):
    _c, english, _e = check(capsys, knot, "--format", "json")
    _c, japanese, _e = check(capsys, knot, "--format", "json", "--language", "ja")
    en, ja = json.loads(english), json.loads(japanese)
    assert en["summary"]["language"] == "en" and ja["summary"]["language"] == "ja"
    [en_identity], [ja_identity] = en["identities"], ja["identities"]
    provider = {
        "id": "onamae",
        "name": "Onamae.com",
        "zone": DOMAIN,
        "nameservers": ["dns1.onamae.com", "dns2.onamae.com"],
    }
    assert en_identity["dns_provider"] == ja_identity["dns_provider"] == provider

    def without_text(identity: dict) -> dict:
        return {
            **identity,
            "findings": [{k: v for k, v in f.items() if k not in ("message", "fix")} for f in identity["findings"]],
        }

    # Only message and fix carry translated text: one finding per token, the same ids, causes, severities, records.
    assert without_text(en_identity) == without_text(ja_identity)
    assert [f["check"] for f in ja_identity["findings"]] == ["dkim-record-missing"] * 3
    assert {f["cause"] for f in ja_identity["findings"]} == {"doubled-domain"}
    assert all("お名前.com" in f["fix"] for f in ja_identity["findings"])
    summary_en = {k: v for k, v in en["summary"].items() if k not in ("language", "generated_at")}
    assert summary_en == {k: v for k, v in ja["summary"].items() if k not in ("language", "generated_at")}


def test_notify_in_japanese_sends_one_sns_message_for_the_three_records(capsys, onamae, knot):
    topic = Topic()
    code, _out, err = check(capsys, knot, "--notify", "--language", "ja", "--topic-arn", topic.arn)
    assert code == 1
    assert "3 件の検出結果を sns で通知しました: 配信 3 件、失敗 0 件" in err
    [envelope] = topic.received()  # three notifications, one message
    subject = envelope["Subject"]
    assert subject.startswith(f"重大 {DOMAIN} (us-east-1): ") and "3 件中" not in subject
    assert len(subject) < 100 and not any(unicodedata.category(ch)[0] == "C" for ch in subject)
    attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    assert attributes == {
        "severity": "critical",
        "event": "opened",
        "check": "dkim-record-missing",
        "region": "us-east-1",
        "account": "123456789012",
        "cause": "doubled-domain",
    }
    payload = json.loads(envelope["Message"])  # the queue gets the structured payload
    assert payload["check"] == "dkim-record-missing" and payload["count"] == 3
    assert sorted(n["key"] for n in payload["notifications"]) == sorted(f"dkim-record-missing#{t}" for t in onamae)
    assert "お名前.com（dns1.onamae.com）" in payload["fix"]


def test_notify_in_japanese_posts_one_slack_message(capsys, onamae, knot, httpserver):
    httpserver.expect_request("/services/T000/B000/hook", method="POST").respond_with_data("ok")
    secret = boto3.client("secretsmanager").create_secret(
        Name="slack-hook-ja", SecretString=json.dumps({"webhook_url": httpserver.url_for("/services/T000/B000/hook")})
    )["ARN"]
    code, _out, err = check(capsys, knot, "--notify", "--language", "ja", "--slack-secret-arn", secret)
    assert code == 1 and "配信 3 件" in err
    [(request, _response)] = httpserver.log
    body = json.loads(request.get_data(as_text=True))
    text = json.dumps(body, ensure_ascii=False)
    assert "DKIM の CNAME が DNS にありません（3 件）" in text
    assert "お名前.com（dns1.onamae.com）" in text and text.count("お名前.com について未確認の点") == 1
    assert "dkim-record-missing" in text and "doubled-domain" in text
    blocks = [block for attachment in body["attachments"] for block in attachment["blocks"]]
    assert {block["type"] for block in blocks} <= {"section", "context"}, "every block is one Slack knows"
    [records] = [
        b["text"]["text"]
        for b in blocks
        if b.get("text", {}).get("text", "").startswith("```") and "CNAME" in b["text"]["text"]
    ]
    lines = records.strip("`").split("\n")
    assert [line.split()[0] for line in lines] == [f"{t}._domainkey.{DOMAIN}." for t in onamae], (
        "the records to publish, one to a line, each as it is to be typed"
    )
    assert "\\x0a" not in records, "our own newlines are not shown as control characters"


def test_status_page_in_japanese_renders_in_chromium(capsys, onamae, knot):
    """The page in Japanese, screenshot by headless Chromium (scripts/setup.sh installs it and a CJK font)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "scripts/setup.sh installs Debian's chromium"
    fonts = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=True).stdout
    assert fonts.strip(), "a Japanese font (scripts/setup.sh installs one): without it Chromium draws empty boxes"
    _c, page, _e = check(capsys, knot, "--format", "html", "--language", "ja")
    assert '<html lang="ja">' in page and "お名前.com（dns1.onamae.com）" in page
    assert "SES DKIM ステータス" in page and 'data-count="3"' in page
    SCREENSHOTS.mkdir(exist_ok=True)
    html_path, png_path = SCREENSHOTS / "status-ja.html", SCREENSHOTS / "status-ja.png"
    html_path.write_text(page, encoding="utf-8")
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--window-size=1280,1400",
                f"--screenshot={png_path}",
                html_path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png_path.stat().st_size > 20_000


def test_fix_plan_in_japanese_names_the_provider_and_what_to_type_in_its_form(capsys, onamae, knot):
    code = main(["fix", "--nameserver", knot.address, "--language", "ja"])
    out, _err = capsys.readouterr()
    assert code == 1  # a plan remains: the zone is not in Route 53
    assert f"{DOMAIN} の DNS は お名前.com（dns1.onamae.com）が提供しています。" in out
    for token in onamae:
        assert f"お名前.com の入力フォーム: 「ホスト名」に「{token}._domainkey」、「種別」に「CNAME」" in out
        # The form's own words for the action and the fields; the records themselves are never translated.
        assert f"削除  ホスト名 {token}._domainkey.{DOMAIN}  種別 CNAME" in out
    assert "お名前.com について未確認の点" in out
    assert "ドライラン" in out and "dry run" not in out
