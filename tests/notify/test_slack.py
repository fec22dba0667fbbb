"""The Slack channel against a local HTTP server standing in for the webhook."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from werkzeug import Response

from ses_dkim_monitor.notify.slack import (
    DIGEST_ITEMS_PER_MESSAGE,
    IAM_ACTIONS,
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    SlackNotifier,
    fit,
)
from ses_dkim_monitor.notify.slack_webhook import SecretWebhookUrl, WebhookUrlError, validate_webhook_url
from ses_dkim_monitor.settings import ConfigError, Settings
from ses_dkim_monitor.status_page import StatusPageLinks
from tests.support.alert_builders import HOSTILE, notification
from tests.support.block_kit import text_objects

HOOK = "/services/T000/B000/SECRET-TOKEN"


def block_count(body: dict) -> int:
    """Blocks in a payload, attachments included (what MAX_BLOCKS limits)."""
    return len(body.get("blocks", [])) + sum(len(a.get("blocks", [])) for a in body.get("attachments", []))


class Sleeps(list):
    """An injected sleep that only records: tests never wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def slack(httpserver_ipv4):
    return httpserver_ipv4


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


def notifier(server, sleeps, **options) -> SlackNotifier:
    url = server.url_for(HOOK)
    return SlackNotifier(lambda: url, sleep=sleeps, **options)


def posted(server) -> list[dict]:
    return [json.loads(request.get_data()) for request, _response in server.log]


def texts(body: dict) -> list[str]:
    """Every text Slack would render from a payload."""
    found = [body.get("text", "")]

    def walk(value):
        if isinstance(value, dict):
            if "text" in value and isinstance(value["text"], str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body.get("blocks", []))
    walk(body.get("attachments", []))
    return found


def test_opened_alert_is_block_kit_with_colour_identity_observation_and_fix(slack, sleeps):
    slack.expect_request(HOOK, method="POST").respond_with_data("ok")
    n = notification("opened")

    assert notifier(slack, sleeps).deliver([n]) == {n.state_id: True}

    [body] = posted(slack)
    [attachment] = body["attachments"]
    assert attachment["color"] == "#D40E0D"
    rendered = "\n".join(texts(body))
    assert "*CRITICAL*: A DKIM CNAME is missing from DNS" in rendered
    assert "*Identity*\nexample.com" in rendered and "*Account · region*\n123456789012 · us-east-1" in rendered
    assert "abc._domainkey.example.com does not exist (NXDOMAIN)" in rendered
    assert "```Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com```" in rendered
    assert body["text"] == "CRITICAL: A DKIM CNAME is missing from DNS - example.com (us-east-1)"
    assert sleeps == []


def test_warning_and_reminder_are_marked_as_such(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    notifier(slack, sleeps).deliver([notification("reminder", severity="warning", check="dmarc-record-missing")])

    [body] = posted(slack)
    assert body["attachments"][0]["color"] == "#ECB22E"
    assert "*Reminder \u00b7 WARNING*: Domain has no DMARC record" in texts(body)[1]
    assert "open since 2024-05-01T12:00:00Z (26 h)" in "\n".join(texts(body))


def test_resolved_is_a_short_green_recovery_message(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    notifier(slack, sleeps).deliver([notification("resolved", reason="identity deleted")])

    [body] = posted(slack)
    assert body["attachments"][0]["color"] == "#2EB67D"
    assert len(body["attachments"][0]["blocks"]) == 3
    assert texts(body)[1] == (
        ":white_check_mark: *Resolved*: A DKIM CNAME is missing from DNS for *example.com* (us-east-1)"
    )
    assert texts(body)[2] == "identity deleted"


def test_hostile_dns_text_cannot_mention_or_link(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    n = notification("opened", message=f"TXT says {HOSTILE}", fix=f"Remove {HOSTILE}", identity="<!here>@example.com")
    notifier(slack, sleeps).deliver([n])

    [request, _] = slack.log[0]
    raw = request.get_data(as_text=True)
    body = json.loads(raw)
    rendered = "\n".join(texts(body))
    assert "<!channel>" not in rendered and "<!here>" not in rendered and "<https://" not in rendered
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; stuff" in rendered
    assert "&lt;!here&gt;@example.com" in rendered
    objects = text_objects(body)
    assert all(o.get("verbatim") is True for o in objects if o["type"] == "mrkdwn")
    # The hostile text only appears in plain_text, or as a whole code block, where Slack applies no markup.
    for o in objects:
        if o["type"] == "mrkdwn" and "evil.example" in o["text"]:
            inner = o["text"].removeprefix("```").removesuffix("```")
            assert o["text"].startswith("```") and o["text"].endswith("```") and "`" not in inner, o
    assert any("evil.example" in o["text"] for o in objects if o["type"] == "plain_text")


def test_fix_containing_backticks_is_not_put_in_a_code_block(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    notifier(slack, sleeps).deliver([notification("opened", fix="Publish ```<!channel>``` now")])

    objects = text_objects(posted(slack)[0])
    assert {"type": "plain_text", "text": "Publish ```&lt;!channel&gt;``` now", "emoji": False} in objects


def test_rate_limit_waits_for_retry_after_then_delivers_once(slack, sleeps):
    slack.expect_oneshot_request(HOOK).respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "7"})
    )
    slack.expect_request(HOOK).respond_with_data("ok")
    n = notification("opened")

    assert notifier(slack, sleeps).deliver([n]) == {n.state_id: True}
    assert sleeps == [7.0]
    assert [response.status_code for _request, response in slack.log] == [429, 200]


def test_retry_after_too_long_for_a_lambda_run_leaves_everything_pending(slack, sleeps):
    slack.expect_request(HOOK).respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "600"})
    )
    batch = [notification("opened"), notification("opened", identity="b.example")]

    result = notifier(slack, sleeps, max_retry_after=30).deliver(batch)

    assert result == {n.state_id: False for n in batch}
    assert sleeps == [] and len(slack.log) == 1  # the second message was not even tried


def test_server_errors_are_retried_with_backoff(slack, sleeps):
    slack.expect_oneshot_request(HOOK).respond_with_data("boom", status=500)
    slack.expect_oneshot_request(HOOK).respond_with_data("boom", status=503)
    slack.expect_request(HOOK).respond_with_data("ok")
    n = notification("opened")

    assert notifier(slack, sleeps, backoff=1.5).deliver([n]) == {n.state_id: True}
    assert sleeps == [1.5, 3.0]
    assert len(slack.log) == 3


def test_slack_down_gives_up_after_the_attempts_and_stops_for_this_run(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("boom", status=500)
    batch = [notification("opened"), notification("opened", identity="b.example")]

    result = notifier(slack, sleeps, max_attempts=3).deliver(batch)

    assert result == {n.state_id: False for n in batch}
    assert len(slack.log) == 3 and sleeps == [1.0, 2.0]


def test_a_rejected_message_fails_alone(slack, sleeps):
    slack.expect_oneshot_request(HOOK).respond_with_data("invalid_blocks", status=400)
    slack.expect_request(HOOK).respond_with_data("ok")
    first, second = notification("opened"), notification("opened", identity="b.example")

    assert notifier(slack, sleeps).deliver([first, second]) == {first.state_id: False, second.state_id: True}
    assert sleeps == []


def test_a_webhook_that_never_answers_times_out(sleeps):
    with socket.socket() as silent:  # accepts connections (backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        n = notification("opened")

        result = SlackNotifier(lambda: url, timeout=0.2, max_attempts=2, sleep=sleeps).deliver([n])

    assert result == {n.state_id: False}
    assert sleeps == [1.0]


def test_a_refused_connection_is_a_failed_delivery_not_a_crash(sleeps):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    n = notification("opened")
    assert SlackNotifier(lambda: f"http://127.0.0.1:{port}/hook", sleep=sleeps).deliver([n]) == {n.state_id: False}


def test_large_digest_is_split_within_block_kit_limits(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    batch = [notification("opened", identity=f"d{i:03d}.example", message="x" * 5000) for i in range(95)]

    result = notifier(slack, sleeps, digest_threshold=10).deliver(batch)

    assert all(result.values()) and len(result) == 95
    bodies = posted(slack)
    assert len(bodies) == 3  # 40 + 40 + 15
    for body in bodies:
        assert block_count(body) <= MAX_BLOCKS
        assert all(len(t) <= MAX_SECTION_TEXT for t in texts(body))
    items = [b for body in bodies for b in body["attachments"][0]["blocks"] if b["type"] == "section"]
    assert len(items) == 95
    assert "[1/3]" in bodies[0]["text"] and "[3/3]" in bodies[2]["text"]
    assert len([b for b in bodies[0]["attachments"][0]["blocks"] if b["type"] == "section"]) == DIGEST_ITEMS_PER_MESSAGE


def test_digest_part_that_fails_stays_pending_alone(slack, sleeps):
    slack.expect_oneshot_request(HOOK).respond_with_data("ok")
    slack.expect_request(HOOK).respond_with_data("invalid_blocks", status=400)
    batch = [notification("opened", identity=f"d{i:03d}.example") for i in range(45)]

    result = notifier(slack, sleeps, digest_threshold=10).deliver(batch)

    assert sum(result.values()) == DIGEST_ITEMS_PER_MESSAGE
    assert len([ok for ok in result.values() if not ok]) == 5


def test_long_escaped_text_is_cut_without_breaking_an_entity():
    escaped = "a" * 2995 + "&amp;&lt;"
    cut = fit(escaped, 3000)
    assert len(cut) <= 3000 and cut.endswith("a\u2026")
    assert fit("short", 3000) == "short"


def test_long_observation_fits_a_section(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    notifier(slack, sleeps).deliver([notification("opened", message="<&>" * 4000)])

    for text in texts(posted(slack)[0]):
        assert len(text) <= MAX_SECTION_TEXT
        assert not text.rstrip("\u2026").endswith(("&", "&l", "&lt", "&a", "&am", "&amp", "&g", "&gt"))


def test_webhook_url_is_never_logged(slack, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    slack.expect_oneshot_request(HOOK).respond_with_data("boom", status=500)
    slack.expect_oneshot_request(HOOK).respond_with_data("invalid_payload", status=400)
    slack.expect_request(HOOK).respond_with_data("ok")

    notifier(slack, sleeps).deliver([notification("opened"), notification("opened", identity="b.example")])

    assert len(slack.log) == 3
    # werkzeug is the stand-in Slack server logging its own request lines, not the monitor.
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]
    assert any(r.levelno == logging.WARNING for r in ours), "the failures should have been logged"
    assert all("SECRET-TOKEN" not in r.getMessage() for r in ours)
    assert all("SECRET-TOKEN" not in json.dumps(r.__dict__, default=str) for r in ours)


@pytest.mark.parametrize("stored", ["{url}", '{{"webhook_url": "{url}"}}'])
def test_webhook_url_comes_from_secrets_manager_and_is_cached(moto, slack, sleeps, stored):
    slack.expect_request(HOOK).respond_with_data("ok")
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="slack-webhook", SecretString=stored.format(url=slack.url_for(HOOK)))["ARN"]
    calls: list[str] = []
    client.meta.events.register(
        "before-call.secretsmanager.*", lambda model, **kw: calls.append(f"secretsmanager:{model.name}")
    )
    url = SecretWebhookUrl(SecretsProvider(boto3_client=client), arn, max_age=300)
    slack_notifier = SlackNotifier(url, sleep=sleeps)

    slack_notifier.deliver([notification("opened")])
    slack_notifier.deliver([notification("opened", identity="b.example")])

    assert len(slack.log) == 2
    assert calls == ["secretsmanager:GetSecretValue"]
    assert set(calls) == set(IAM_ACTIONS)


def test_secret_without_a_url_fails_delivery_without_echoing_the_secret(moto, caplog, sleeps):
    caplog.set_level(logging.INFO)
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="slack-webhook", SecretString='{"token": "xoxb-not-a-webhook"}')["ARN"]
    n = notification("opened")

    result = SlackNotifier(SecretWebhookUrl(SecretsProvider(boto3_client=client), arn), sleep=sleeps).deliver([n])

    assert result == {n.state_id: False}
    logged = [json.dumps(r.__dict__, default=str) for r in caplog.records]
    assert any("holds no usable Slack webhook URL" in line for line in logged)
    assert not any("xoxb-not-a-webhook" in line for line in logged)


# -- the status page link (STATUS_PAGE_BUCKET) ------------------------------------------------------------

LINKS = StatusPageLinks("status-bucket", "eu-west-1")
CONSOLE = "https://eu-west-1.console.aws.amazon.com/s3/object/status-bucket?region=eu-west-1"


def page_links(body: dict) -> list[str]:
    """The text of every context block that links to a status page."""
    blocks = [b for part in [body, *body.get("attachments", [])] for b in part.get("blocks", [])]
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "Status page" in e["text"]]


@pytest.mark.parametrize("event", ["opened", "reminder", "resolved"])
def test_with_a_status_page_each_message_links_to_its_accounts_and_regions_page_escaped(slack, sleeps, event):
    slack.expect_request(HOOK).respond_with_data("ok")
    n = notification(event, region="ap-south-1", reason="identity deleted" if event == "resolved" else "")

    notifier(slack, sleeps, links=LINKS).deliver([n])

    [body] = posted(slack)
    [link] = page_links(body)
    page = f"{CONSOLE}&amp;prefix=status/123456789012/ap-south-1.html"  # Slack's & escaped, as everywhere
    assert link == f":page_facing_up: <{page}|Status page of 123456789012 · ap-south-1> (AWS console sign-in)"
    [obj] = [o for o in text_objects(body) if o["text"] == link]
    assert obj["type"] == "mrkdwn" and obj["verbatim"] is True


def test_without_a_status_page_no_message_links_to_one(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    batch = [notification("opened"), notification("resolved", identity="b.example")]

    notifier(slack, sleeps).deliver(batch)
    notifier(slack, sleeps, digest_threshold=1).deliver(batch)

    bodies = posted(slack)
    assert len(bodies) == 3 and [page_links(b) for b in bodies] == [[], [], []]
    assert not [b for b in bodies if "console.aws" in json.dumps(b)]


def test_a_digest_links_once_to_the_index_page_within_block_kit_limits(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    batch = [notification("opened", identity=f"d{i:03d}.example") for i in range(DIGEST_ITEMS_PER_MESSAGE + 5)]

    notifier(slack, sleeps, digest_threshold=10, links=LINKS).deliver(batch)

    bodies = posted(slack)
    assert len(bodies) == 2
    for body in bodies:
        assert page_links(body) == [
            f":page_facing_up: <{CONSOLE}&amp;prefix=status/index.html|Status page> (AWS console sign-in)"
        ]
        assert block_count(body) <= MAX_BLOCKS


# -- issue 18: one escape per newline in digests; webhook hosts; what a failed reply may put in the logs --------


def test_a_newline_in_a_message_shows_as_one_escape_in_digests_exactly_as_in_single_messages(slack, sleeps):
    slack.expect_request(HOOK).respond_with_data("ok")
    n = replace(notification("opened", message="line one\nline two <b>"), cause="doubled-domain")
    batch = [n, notification("opened", identity="b.example")]

    notifier(slack, sleeps).deliver([n])
    notifier(slack, sleeps, digest_threshold=1).deliver(batch)

    single, digest = posted(slack)
    shown = "line one\\x0aline two &lt;b&gt;"  # the message's own newline: one visible escape
    assert {"type": "plain_text", "text": shown, "emoji": False} in text_objects(single)
    [item] = [o for o in text_objects(digest) if o["type"] == "plain_text" and "line one" in o["text"]]
    cause, saw, fix = item["text"].split("\n")  # the digest's own line breaks stay line breaks
    assert cause.startswith("Cause: ") and "\\x0a" not in cause
    assert saw == f"Saw: {shown}"
    assert fix == "Fix: Publish abc._domainkey.example.com CNAME abc.dkim.amazonses.com"
    assert item["text"].count("\\x0a") == 1, "one newline in the message, one escape in the digest"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://hooks.slack.com/services/T0/B0/tok", True),
        ("https://hooks.slack-gov.com/services/T0/B0/tok", True),
        ("https://HOOKS.SLACK.COM/services/T0/B0/tok", True),  # host names are not case-sensitive
        ("https://hooks.slack.com:443/services/T0/B0/tok", True),
        ("http://127.0.0.1:8080/services/T0/B0/tok", True),  # a local stand-in
        ("https://hooks.slack.co/services/T0/B0/tok", False),  # one letter short: somebody else's host
        ("https://hooks.slack.com./services/T0/B0/tok", False),  # a trailing dot is another name to a TLS check
        ("https://hooks.slack.com:8443/services/T0/B0/tok", False),
        ("https://hooks.slack.com.evil.example/services/T0/B0/tok", False),
        ("https://evil.example/services/T0/B0/tok", False),
        ("https://xn--hooks-slack-com.example/services/T0/B0/tok", False),
        ("http://hooks.slack.com/services/T0/B0/tok", False),
        ("https://127.0.0.1/services/T0/B0/tok", True),
        ("https://slack-proxy.example.net/services/T0/B0/tok", False),  # only when allow-listed (below)
    ],
)
def test_only_slacks_own_webhook_hosts_are_accepted_unless_allow_listed(url, accepted):
    if accepted:
        assert validate_webhook_url(url, secret_arn="arn:s") == url
    else:
        with pytest.raises(WebhookUrlError) as refused:
            validate_webhook_url(url, secret_arn="arn:s")
        assert "tok" not in str(refused.value) and "arn:s" in str(refused.value)


def test_an_allow_listed_host_is_accepted_over_https_only(moto):
    proxy = "https://slack-proxy.example.net/services/T0/B0/tok"
    assert validate_webhook_url(proxy, secret_arn="arn:s", extra_hosts=("slack-proxy.example.net",)) == proxy
    with pytest.raises(WebhookUrlError):
        validate_webhook_url(
            proxy.replace("https:", "http:"), secret_arn="arn:s", extra_hosts=("slack-proxy.example.net",)
        )
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="proxied-hook", SecretString=proxy)["ARN"]
    hosts = Settings.from_env({"SCAN_REGIONS": "us-east-1", "SLACK_WEBHOOK_HOSTS": "slack-proxy.example.net"})
    assert hosts.slack_webhook_hosts == ("slack-proxy.example.net",)
    url = SecretWebhookUrl(SecretsProvider(boto3_client=secrets), arn, extra_hosts=hosts.slack_webhook_hosts)
    assert url() == proxy


@pytest.mark.parametrize(
    "value", ["hooks.slack.com.", "https://x.example", "x.example:8443/path", "a b.example", "-x.example"]
)
def test_a_malformed_webhook_host_allow_list_stops_at_start_up_naming_the_setting(value):
    with pytest.raises(ConfigError, match="SLACK_WEBHOOK_HOSTS"):
        Settings.from_env({"SCAN_REGIONS": "us-east-1", "SLACK_WEBHOOK_HOSTS": value})


@pytest.mark.parametrize(
    ("status", "body", "logged"),
    [
        (404, "no such hook /services/T000/B000/SECRET-TOKEN", None),
        (403, "invalid_token", "invalid_token"),
        (400, "invalid_payload\n", "invalid_payload"),
        (410, "channel_is_archived", "channel_is_archived"),
        (500, "<html>proxy error for /services/T000/B000/SECRET-TOKEN</html>", None),
    ],
)
def test_a_failed_reply_logs_only_slacks_known_error_code_and_the_status(slack, sleeps, caplog, status, body, logged):
    caplog.set_level(logging.DEBUG)
    slack.expect_request(HOOK).respond_with_data(body, status=status)

    n = notification("opened")
    assert notifier(slack, sleeps, max_attempts=1).deliver([n]) == {n.state_id: False}

    ours = [r for r in caplog.records if r.name.startswith("ses_dkim_monitor")]
    [failure] = [r for r in ours if r.levelno == logging.WARNING]
    assert failure.status == status and failure.error == logged
    assert all("SECRET-TOKEN" not in json.dumps(r.__dict__, default=str) for r in ours)
