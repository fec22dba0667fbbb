"""The documented environment variables (variables.py, in docs/architecture.md) are what settings.py reads."""

from __future__ import annotations

import ast
import enum

import pytest

from ses_dkim_monitor.settings import ConfigError, Settings
from ses_dkim_monitor.variables import VARIABLES, Variable
from tests.support.paths import SRC

BASE = {"AWS_REGION": "us-east-1"}


def names_settings_reads() -> set[str]:
    """Every upper-case string literal settings.from_env passes to its readers (get, number, flag, arn, ...)."""
    tree = ast.parse((SRC / "settings.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
            if text.isupper() and text.replace("_", "").isalpha() and "_" in text:
                found.add(text)
    return found


def test_the_table_names_exactly_the_variables_settings_reads():
    documented = [v.name for v in VARIABLES]
    assert len(documented) == len(set(documented))
    assert set(documented) == names_settings_reads()


def shown(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if value in ("", ()):
        return "(none)"
    return str(value)


@pytest.mark.parametrize("variable", [v for v in VARIABLES if v.attribute], ids=lambda v: v.name)
def test_each_documented_default_is_what_the_code_uses_when_the_variable_is_unset(variable: Variable):
    settings = Settings.from_env(BASE)
    value = getattr(settings, variable.attribute)
    if variable.name == "SCAN_REGIONS":
        assert value == ("us-east-1",)  # the documented `AWS_REGION`
    elif variable.name == "DNS_NAMESERVERS":
        assert value == ()  # the system resolver
    else:
        assert shown(value) == variable.default.split(" ")[0]


@pytest.mark.parametrize(
    "variable, env",
    [(v, env) for v in VARIABLES for env in v.bad],
    ids=lambda x: x.name if isinstance(x, Variable) else "",
)
def test_each_documented_refusal_stops_start_up_naming_the_variable(variable: Variable, env: dict[str, str]):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**BASE, **env})
    assert variable.name in str(refused.value)


def test_every_variable_that_can_be_refused_has_an_example_that_is():
    assert [v.name for v in VARIABLES if v.refused and not v.bad] == []
