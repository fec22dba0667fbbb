"""A pytest plugin that records every AWS operation the monitor's own code really makes during the suite.

The IAM tests (tests/deploy/test_template.py) find AWS calls by reading the
source, and docs/fix.md's policy is checked against ``IAM_ACTIONS``; both
would miss a call made through a path the reading does not see (a paginator
built from a variable, a library calling on our behalf). So every botocore
API call is recorded while the tests run, attributed to the first module of
``ses_dkim_monitor`` on the stack (calls the tests make themselves, to set up
moto, have none and are ignored), and at the end of the session each one must
be an IAM action some module declares in ``IAM_ACTIONS`` (the Lambda's and
the CLI's alike). A call nothing declares fails the session, naming the
operation and the module.

Under pytest-xdist each worker records its own calls and hands them to the
controller through ``workeroutput``, which checks the union.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ses_dkim_monitor"
PACKAGE = "ses_dkim_monitor"
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
# API operations whose IAM action has another name (as in tests/deploy/test_template.py).
IAM_ACTION_FOR_API = {
    "sns:PublishBatch": "sns:Publish",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
}
KEY = "aws_operations"

_recorded: dict[str, set[str]] = {}


def declared_actions() -> set[str]:
    """Every action any module declares in ``IAM_ACTIONS``."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            target = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "IAM_ACTIONS" and node.value is not None:
                found.update(ast.literal_eval(node.value))
    return found


def _caller_module() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return str(name)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _install() -> Any:
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        module = _caller_module()
        if module is not None:
            action = f"{self.meta.service_model.signing_name}:{operation_name}"
            _recorded.setdefault(IAM_ACTION_FOR_API.get(action, action), set()).add(module)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording
    return original


def undeclared(recorded: dict[str, set[str]]) -> dict[str, list[str]]:
    allowed = declared_actions() | NO_PERMISSION_NEEDED
    return {action: sorted(modules) for action, modules in sorted(recorded.items()) if action not in allowed}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config._aws_operations_original = _install()  # type: ignore[attr-defined]
    config._aws_operations_seen = {}  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Controller side (pytest-xdist): merge what a worker recorded."""
    for action, modules in json.loads(node.workeroutput.get(KEY, "{}")).items():
        node.config._aws_operations_seen.setdefault(action, set()).update(modules)


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    config = session.config
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: the controller checks
        config.workeroutput[KEY] = json.dumps({a: sorted(m) for a, m in _recorded.items()})
        yield
        return
    seen: dict[str, set[str]] = config._aws_operations_seen  # type: ignore[attr-defined]
    for action, modules in _recorded.items():
        seen.setdefault(action, set()).update(modules)
    bad = undeclared(seen)
    if bad:
        lines = [f"  {action} called by {', '.join(modules)}" for action, modules in bad.items()]
        sys.stderr.write(
            "\naws_operations: the code made AWS calls no module declares in IAM_ACTIONS:\n" + "\n".join(lines) + "\n"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    yield
