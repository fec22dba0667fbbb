"""The deployed function compares name servers in its rotating sample over the schedule it really runs on.

Each scheduled run compares the identities whose daily turn fell since the
previous run, so the function must know the longest gap between runs: the
template already asks for it (HeartbeatPeriodSeconds, beside the schedule)
and hands it on as SCHEDULE_PERIOD_SECONDS.
"""

from __future__ import annotations

from ses_dkim_monitor.settings import Settings
from tests.support.deployment import deployed_environment
from tests.support.template import load_template, props


def test_the_function_samples_over_the_heartbeat_period_of_its_schedule():
    template = load_template()
    env = props(template, "MonitorFunction")["Environment"]["Variables"]
    assert env["SCHEDULE_PERIOD_SECONDS"] == {"Ref": "HeartbeatPeriodSeconds"}
    daily = Settings.from_env(deployed_environment(template, {"HeartbeatPeriodSeconds": "86400"}))
    assert daily.schedule_period_seconds == 86400 and daily.check_nameservers == "sample"
    hourly = Settings.from_env(deployed_environment(template, {}))
    assert hourly.schedule_period_seconds == 3600
