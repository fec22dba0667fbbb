"""Re-check jobs: planning, the wait for a Route 53 change, the second look, and the queue message."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ses_dkim_monitor.triggers import jobs
from ses_dkim_monitor.triggers.affected import KnownIdentity
from ses_dkim_monitor.triggers.events import EventKind, Recheck

A, B = "123456789012", "210987654321"
AT = datetime(2026, 11, 28, 10, 1, 17, tzinfo=UTC)


def route53(change: str | None = "C123") -> Recheck:
    return Recheck(EventKind.ROUTE53, A, None, (), ("tok._domainkey.example.com",), change_id=change, reason="r53")


def test_one_job_per_account_and_region_each_identity_once():
    known = [
        KnownIdentity(A, "eu-west-1", "example.com", "example.com"),
        KnownIdentity(A, "eu-west-1", "ops@example.com", "example.com"),
        KnownIdentity(A, "us-east-1", "example.com", "example.com"),
        KnownIdentity(B, "eu-west-1", "example.com", "example.com"),
        KnownIdentity(A, "eu-west-1", "example.com", "example.com"),
    ]
    planned = jobs.plan(route53(), known, event_time=AT)
    assert [(j.account, j.region, j.identities) for j in planned] == [
        (A, "eu-west-1", ("example.com", "ops@example.com")),
        (A, "us-east-1", ("example.com",)),
        (B, "eu-west-1", ("example.com",)),
    ]
    assert all(j.change_id == "C123" and j.change_account == A and j.event_time == AT.isoformat() for j in planned)


def test_whole_account_event_is_one_job_per_region_even_with_nothing_indexed():
    sending = Recheck(EventKind.SES_SENDING_STATUS, A, "eu-west-1", (), (), whole_account=True, ses_says="paused")
    [job] = jobs.plan(sending, [], event_time=AT)
    assert (job.region, job.identities, job.whole_account) == ("eu-west-1", (), True)
    assert job.debounce_keys == (jobs.WHOLE_ACCOUNT,)
    assert "paused" not in jobs.encode(job), "a job carries no text: what SES says is read from SES"


def test_a_recommendation_job_asks_for_ses_words_by_a_flag_and_carries_none_of_its_own():
    advice = Recheck(EventKind.SES_RECOMMENDATION, A, "eu-west-1", ("example.com",), (), ses_says="DKIM fails")
    [job] = jobs.plan(advice, [KnownIdentity(A, "eu-west-1", "example.com", "example.com")], event_time=AT)
    assert job.quote_recommendations and "DKIM fails" not in jobs.encode(job)
    assert jobs.decode(jobs.encode(job)) == job


def test_a_route53_change_its_account_cannot_be_asked_about_is_not_waited_for():
    known = [KnownIdentity(B, "eu-west-1", "example.com", "example.com")]
    [job] = jobs.plan(route53(), known, event_time=AT, ask_change=False)
    assert (job.change_id, job.change_account, job.waits_for_change) == (None, None, False)


def test_a_route53_job_polls_its_change_then_looks_when_in_sync():
    [job] = jobs.plan(route53(), [KnownIdentity(A, "eu-west-1", "example.com", "example.com")], event_time=AT)
    assert job.waits_for_change and jobs.first_delay(job, delay_seconds=30) == jobs.POLL_SECONDS
    pending = jobs.after_poll(job, in_sync=False)
    assert pending is not None and pending.polls == 1
    assert jobs.after_poll(pending, in_sync=True) is None


def test_polling_is_bounded_then_it_looks_anyway():
    [job] = jobs.plan(route53(), [KnownIdentity(A, "eu-west-1", "example.com", "example.com")], event_time=AT)
    steps = 0
    while (nxt := jobs.after_poll(job, in_sync=False)) is not None:
        job, steps = nxt, steps + 1
        assert steps < 1000, "the poll loop must end by itself"
    assert steps == jobs.MAX_POLLS - 1
    assert not jobs.after_poll(job, in_sync=False) and not replace(job, polls=jobs.MAX_POLLS).waits_for_change


def test_other_events_wait_the_configured_delay_capped_by_sqs():
    ses = Recheck(EventKind.SES_API, A, "eu-west-1", ("example.com",), (), reason="ses")
    [job] = jobs.plan(ses, [KnownIdentity(A, "eu-west-1", "example.com", "example.com")], event_time=AT)
    assert not job.waits_for_change
    assert jobs.first_delay(job, delay_seconds=30) == 30
    assert jobs.first_delay(job, delay_seconds=5000) == jobs.SQS_MAX_DELAY


def test_there_is_exactly_one_second_look():
    [job] = jobs.plan(route53(), [KnownIdentity(A, "eu-west-1", "example.com", "example.com")], event_time=AT)
    second = jobs.second_look(job)
    assert second is not None and second.look == jobs.SECOND_LOOK and not second.waits_for_change
    assert jobs.second_look(second) is None


def test_a_job_survives_the_queue_unchanged():
    job = jobs.RecheckJob(A, "eu-west-1", ("example.com", "ops@example.com"), "why", AT.isoformat(), change_id="C1")
    body = jobs.encode(job)
    assert jobs.is_job(body)
    assert jobs.decode(body) == job


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"schema": "ses-dkim-monitor/recheck/v0"}, "version"),
        ({"identities": "example.com"}, "identities"),
        ({"identities": []}, "identities"),
        ({"look": 3}, "look"),
        ({"polls": -1}, "polls"),
        ({"polls": True}, "polls"),
        ({"account": 12}, "account"),
        ({"event_time": "yesterday"}, "event_time"),  # the field: the value is whatever the sender wrote
        ({"whole_account": "no"}, "whole_account"),
    ],
)
def test_a_damaged_job_is_refused_naming_what_is_wrong(change, names):
    body = json.loads(jobs.encode(jobs.RecheckJob(A, "eu-west-1", ("example.com",), "why", AT.isoformat())))
    body.update(change)
    with pytest.raises(ValueError, match=names):
        jobs.decode(json.dumps(body))


def test_a_shard_message_is_not_a_job():
    assert not jobs.is_job(json.dumps({"schema": "ses-dkim-monitor/shard/v1"}))
    assert not jobs.is_job("{not json")
