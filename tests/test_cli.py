"""The `ses-dkim-monitor` command: exit codes, the JSON contract, safe text output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ses_dkim_monitor.cli import main
from tests.support.knot import free_port
from tests.support.ses_world import customer_cname_records, easy_dkim_zone_records

CLI = Path(sys.executable).parent / "ses-dkim-monitor"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def healthy(ses, knot):
    world = ses("us-east-1")
    tokens = world.add_domain("cli-ok.test")
    knot.set_zone("cli-ok.test", customer_cname_records(tokens) + '\n_dmarc TXT "v=DMARC1; p=none"')
    knot.set_zone("dkim.amazonses.com", easy_dkim_zone_records(tokens))
    return world


def test_clean_scan_exits_zero_with_a_summary(capsys, healthy, knot):
    code, out, err = run(capsys, "--nameserver", knot.address)
    assert code == 0, err
    assert out.startswith("OK       cli-ok.test  [123456789012, us-east-1, DOMAIN]")
    assert "1 identities in us-east-1: 1 ok, 0 with problems, 0 unknown" in out
    assert "\033[" not in out  # no colour when not on a terminal


def test_critical_finding_exits_one_and_warning_respects_fail_on(capsys, healthy, knot):
    healthy.add_domain("cli-pending.test", dkim_status="PENDING", tokens=[])  # warnings only
    knot.set_zone("cli-pending.test", '_dmarc TXT "v=DMARC1; p=none"')
    assert run(capsys, "--nameserver", knot.address)[0] == 0  # default --fail-on critical
    assert run(capsys, "--nameserver", knot.address, "--fail-on", "warning")[0] == 1
    healthy.add_email("cli-alone@nowhere-cli.test")
    assert run(capsys, "--nameserver", knot.address)[0] == 1
    assert run(capsys, "--nameserver", knot.address, "--fail-on", "never")[0] == 0


def test_json_report_shape_is_the_documented_contract(capsys, healthy, knot):
    healthy.add_email("cli-alone@nowhere-cli.test")
    code, out, _ = run(capsys, "--nameserver", knot.address, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert set(doc) >= {"identities", "summary"}
    problem, ok = doc["identities"]  # problems first
    assert {"name", "region", "type", "status", "findings"} <= set(problem)
    assert problem["name"] == "cli-alone@nowhere-cli.test" and problem["type"] == "EMAIL_ADDRESS"
    assert problem["status"] == "problem" and ok["status"] == "ok"
    [f] = problem["findings"]
    assert set(f) >= {"check", "severity", "message", "fix"}
    assert f["check"] == "email-identity-without-dkim-domain" and f["severity"] == "critical"
    s = doc["summary"]
    assert (s["identities"], s["ok"], s["problem"], s["unknown"]) == (2, 1, 1, 0)
    assert s["findings"] == {"critical": 1, "warning": 0, "info": 0}
    assert s["complete"] is True and s["regions"] == ["us-east-1"]


def test_hostile_txt_cannot_reach_the_terminal_and_json_stays_valid(capsys, ses, knot):
    world = ses("us-east-1")
    world.add_domain("cli-hostile.test", dkim_status="NOT_STARTED", tokens=[])
    # Escape sequences, a non-UTF-8 byte and a quote in a DMARC-looking TXT.
    knot.set_zone("cli-hostile.test", '_dmarc TXT "\\027]0;pwned\\007\\027[2J\\255 \\"x"')
    code, out, _ = run(capsys, "--nameserver", knot.address, "--fail-on", "never")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in out
    code, out, _ = run(capsys, "--nameserver", knot.address, "--format", "json", "--fail-on", "never")
    doc = json.loads(out)
    [dmarc] = [f for f in doc["identities"][0]["findings"] if f["check"] == "dmarc-record-missing"]
    assert "\x1b]0;pwned" in dmarc["message"] and "\\xff" in dmarc["message"]
    assert out.isascii()


def test_dns_failure_is_unknown_and_still_exits_on_severity(capsys, ses, knot):
    world = ses("us-east-1")
    world.add_domain("cli-unknown.test")
    knot.set_zone("cli-unknown.test", "")
    knot.break_zone("cli-unknown.test")
    code, out, _ = run(capsys, "--nameserver", knot.address, "--format", "json")
    doc = json.loads(out)
    assert doc["identities"][0]["status"] == "unknown"
    assert [f["check"] for f in doc["identities"][0]["findings"]] == ["dns-lookup-failed"]
    assert code == 0  # dns-lookup-failed is a warning
    assert run(capsys, "--nameserver", knot.address, "--fail-on", "warning")[0] == 1


def test_identity_filter_and_unknown_identity(capsys, healthy, knot):
    code, out, _ = run(capsys, "--nameserver", knot.address, "--identity", "cli-ok.test")
    assert code == 0 and "cli-ok.test" in out
    code, out, err = run(capsys, "--nameserver", knot.address, "--identity", "nope.test")
    assert code == 2 and "no identity named nope.test" in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--region", "not a region"], "SCAN_REGIONS"),
        (["--nameserver", "dns.example.com"], "DNS_NAMESERVERS"),
        (["--nameserver", "127.0.0.1:99999"], "invalid port"),
    ],
)
def test_bad_configuration_exits_two_naming_the_setting(capsys, moto, args, needle):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert needle in err and "Traceback" not in err


def test_usage_error_exits_two(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--format", "yaml"])
    assert exc.value.code == 2


def test_unreachable_ses_exits_three_with_one_line(moto, knot, capsys, monkeypatch, aws_retry_sleeps):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    code, out, err = run(capsys, "--nameserver", knot.address)
    assert code == 3
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ses-dkim-monitor: scan incomplete: us-east-1: SES unreachable")
    assert aws_retry_sleeps, "the unreachable endpoint was retried (with backoff) before the region was given up"


def test_ses_error_answer_exits_three(moto, knot):
    # An endpoint that answers every SES call with an HTTP error (moto under a
    # path it does not serve). Access denied is one such answer; its mapping
    # to "access denied" is tested with real error shapes in test_scan.
    env = dict(os.environ, AWS_ENDPOINT_URL=moto + "/nonexistent-prefix", AWS_MAX_ATTEMPTS="1")
    result = subprocess.run(
        [str(CLI), "check", "--nameserver", knot.address], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("ses-dkim-monitor: scan incomplete: us-east-1: SES ListEmailIdentities failed")


def test_installed_command_runs_the_same_scan(healthy, knot):
    result = subprocess.run(
        [str(CLI), "check", "--nameserver", knot.address, "--format", "json"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["ok"] == 1


def test_notify_sends_current_findings_through_sns_and_slack(capsys, ses, knot, httpserver):
    import boto3

    from tests.support.alert_builders import Topic

    world = ses("us-east-1")
    world.add_email("cli-notify@nowhere-cli.test")
    topic = Topic()
    httpserver.expect_request("/services/T000/B000/hook", method="POST").respond_with_data("ok")
    secret = boto3.client("secretsmanager").create_secret(
        Name="slack-hook", SecretString=json.dumps({"webhook_url": httpserver.url_for("/services/T000/B000/hook")})
    )["ARN"]
    code, _out, err = run(
        capsys, "--nameserver", knot.address, "--notify", "--topic-arn", topic.arn, "--slack-secret-arn", secret
    )
    assert code == 1  # the critical finding still decides the exit status
    assert "notified 1 finding(s) through sns, slack: 2 delivered, 0 failed" in err
    [envelope] = topic.received()
    assert "cli-notify@nowhere-cli.test" in envelope["Message"]
    [(request, _)] = httpserver.log
    assert "email-identity-without-dkim-domain" in request.get_data(as_text=True)
    assert httpserver.url_for("/services/T000/B000/hook") not in err  # the webhook URL is a secret


def test_notify_that_cannot_deliver_exits_four(capsys, ses, knot, httpserver):
    import boto3

    world = ses("us-east-1")
    world.add_email("cli-notify@nowhere-cli.test")
    httpserver.expect_request("/services/T000/B000/hook", method="POST").respond_with_data("invalid_token", status=403)
    secret = boto3.client("secretsmanager").create_secret(
        Name="slack-hook-broken", SecretString=httpserver.url_for("/services/T000/B000/hook")
    )["ARN"]
    code, _, err = run(capsys, "--nameserver", knot.address, "--notify", "--slack-secret-arn", secret)
    assert code == 4
    assert "0 delivered, 1 failed" in err


def test_notify_without_a_channel_is_a_usage_error(capsys, ses, knot, monkeypatch):
    monkeypatch.delenv("ALERT_TOPIC_ARN", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_SECRET_ARN", raising=False)
    code, _, err = run(capsys, "--nameserver", knot.address, "--notify")
    assert code == 2 and "no channel configured" in err


def test_a_time_budget_spent_before_ses_is_read_exits_three_and_calls_nothing_healthy(capsys, healthy, knot):
    """--time-budget gives the CLI the Lambda's deadline: what it does not reach is never reported healthy."""
    code, out, err = run(capsys, "--nameserver", knot.address, "--time-budget", "0.000001")
    assert code == 3
    assert "out of time before its identities were listed" in err and "OK " not in out


@pytest.mark.parametrize("value", ["0", "-5", "soon", "inf", "nan"])
def test_a_time_budget_that_is_not_a_positive_number_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--time-budget", value])
    assert exc.value.code == 2 and "--time-budget" in capsys.readouterr().err
