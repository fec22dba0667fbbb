"""Where the fix command sits: below the CLI, never importing it (no circle, no upward import)."""

from __future__ import annotations

from tests.deploy.test_template import reachable_from


def test_the_fix_package_never_imports_the_cli_that_runs_it():
    reached = reachable_from("fix.command")
    assert {"fix.apply", "fix.locate"} <= reached, "the import walk finds nothing: is it broken?"
    assert "cli" not in reached, "fix/command.py reaches cli.py, which imports it: a circle and an upward import"


def test_exit_codes_and_the_scan_have_one_home_the_cli_still_names():
    from ses_dkim_monitor import cli, exit_codes, local_scan

    names = ("EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "EXIT_INCOMPLETE", "EXIT_NOT_DELIVERED", "EXIT_APPLY_FAILED")
    for name in names:
        assert getattr(cli, name) == getattr(exit_codes, name), name  # kept importable from cli for users
    assert cli.scan is local_scan.scan
    assert {"exit_codes", "local_scan"} <= reachable_from("fix.command")
