"""The README keeps its promises: the two commands first, every check id documented."""

from __future__ import annotations

from pathlib import Path

from ses_dkim_monitor.catalogue import CHECKS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_demo_and_test_commands():
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/demo.sh", "scripts/test.sh"]
    for command in commands:
        assert (ROOT / command).stat().st_mode & 0o111, f"{command} is not executable"


def test_ci_runs_the_readme_test_command():
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_check_id_is_documented():
    missing = [check_id for check_id in CHECKS if f"`{check_id}`" not in README]
    assert missing == []
