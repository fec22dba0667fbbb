def test_a_problem_dns_can_fix_names_the_command_that_plans_it():
    from ses_dkim_monitor.models import ScanReport
    from ses_dkim_monitor.render.text_report import to_text
    from tests.support.alert_builders import identity_report, missing_token, signing_disabled

    report = ScanReport(
        identities=(
            identity_report("fixable.example", missing_token("fixable.example", "abc")),
            identity_report("console.example", signing_disabled("console.example")),
        ),
        regions=("us-east-1",),
        generated_at="2026-11-29T00:00:00+00:00",
    )

    text = to_text(report)

    assert "plan the DNS change: ses-dkim-monitor fix --region us-east-1 --identity fixable.example" in text
    assert "--identity console.example" not in text  # signing is turned on in SES, not in DNS
