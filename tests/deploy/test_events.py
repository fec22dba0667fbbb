"""Every event in events/ through the real handler, configured the way template.yaml configures it.

The function's environment is built from the template (tests/support/template.py
``deployed_environment``) with the resources it refers to created in moto:
the state table from the template's own definition, the alert topic, and a
Slack webhook secret pointing at a local HTTP server. DNS answers come from
a real knotd. So a change to the template's wiring, an event file or the
handler's event handling shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ses_dkim_monitor import handler
from tests.support.deployment import EXPECTED, check_result, deploy
from tests.support.lambda_runtime import FakeContext, metric_values
from tests.support.paths import EVENTS


@pytest.fixture(autouse=True)
def clean_metrics():
    handler.metrics.clear_metrics()
    yield
    handler.metrics.clear_metrics()


def test_every_event_file_is_covered():
    files = sorted(p.name for p in EVENTS.glob("*.json"))
    assert files == sorted(EXPECTED), f"events/ holds {files}; give each an expectation in EXPECTED"


def test_scheduled_event_is_what_eventbridge_sends():
    event = json.loads((EVENTS / "scheduled.json").read_text())
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert {"id", "account", "time", "region", "resources", "detail"} <= set(event)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_runs_through_the_handler(name, ses, knot, httpserver, monkeypatch, capsys):
    dep = deploy(ses, knot, httpserver, prefix=f"events-{Path(name).stem}")
    for key, value in dep.env.items():
        if not key.startswith("POWERTOOLS_"):  # read by Powertools at import, set by conftest
            monkeypatch.setenv(key, value)
    event = json.loads((EVENTS / name).read_text())

    result = handler.lambda_handler(event, FakeContext())

    check_result(name, result, dep, slack_posts=len(httpserver.log))
    metrics = metric_values(capsys.readouterr().out)
    assert metrics["ScanCompleted"] == 1, "every completed run writes the heartbeat the alarm watches"
    if EXPECTED[name]["notify"]:
        assert metrics["NotificationsFailed"] == 0, "the delivery alarm needs a 0 on good runs"
