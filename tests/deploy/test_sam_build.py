"""`sam build` for the declared runtime, then the built artifact run as Lambda would run it.

The build uses a Python 3.13 (the template's runtime) found through pyenv or on
PATH; without one the tests skip and say so. The artifact is then imported by
that Python 3.13 in a subprocess, isolated from the repository's src/ and the
test venv, and its handler runs each event of events/ against moto (over
HTTP) and knotd, configured exactly as the template configures the function.
The EMF lines it prints must carry the heartbeat metric with the namespace
and service dimension the alarm watches.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment import EXPECTED, check_result, deploy
from tests.support.lambda_runtime import FakeContext, emf_documents, metric_values
from tests.support.paths import EVENTS, REPO
from tests.support.template import load_template

SAM = REPO / ".venv-sam" / "bin" / "sam"
RUNTIME = "python3.13"

pytestmark = pytest.mark.sam


def find_python313() -> Path | None:
    """Python 3.13 for `sam build`: pyenv's builds first, then PATH; None if there is none."""
    candidates: list[str] = []
    roots = []
    if shutil.which("pyenv"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            roots.append(subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip())
    roots += [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        candidates += sorted(glob.glob(f"{root}/versions/3.13*/bin/python3.13"), reverse=True)
    if shutil.which(RUNTIME):
        candidates.append(shutil.which(RUNTIME) or "")
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            continue  # e.g. a pyenv shim for a version that is not selected
        if out.stdout.strip() == "True":
            return Path(candidate).resolve()
    return None


@pytest.fixture(scope="module")
def python313() -> Path:
    if not SAM.exists():
        pytest.skip(f"SAM CLI not installed: run scripts/install-sam-tools.sh to create {SAM.parent.parent}")
    found = find_python313()
    if found is None:
        pytest.skip(
            f"no Python 3.13 for `sam build` of runtime {RUNTIME}: install one "
            "(e.g. `pyenv install 3.13`) or put python3.13 on PATH"
        )
    return found


@pytest.fixture(scope="module")
def built(python313: Path, tmp_path_factory) -> Path:
    """`sam build` into a temporary directory; returns the function's artifact directory."""
    work = tmp_path_factory.mktemp("sam-build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        SAM_CLI_TELEMETRY="0",
        AWS_DEFAULT_REGION="us-east-1",
        PATH=f"{python313.parent}{os.pathsep}{env.get('PATH', '')}",
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            str(SAM),
            "build",
            "--template-file",
            str(REPO / "template.yaml"),
            "--base-dir",
            str(REPO),
            "--build-dir",
            str(work / "build"),
            "--cache-dir",
            str(work / "cache"),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"sam build failed:\n{result.stdout}\n{result.stderr}"
    print(f"sam build took {time.monotonic() - started:.1f} s")
    artifact = work / "build" / "MonitorFunction"
    assert (work / "build" / "template.yaml").is_file()
    return artifact


def test_artifact_holds_the_code_and_its_dependencies(built: Path):
    assert (built / "ses_dkim_monitor" / "handler.py").is_file()
    for package in ("dns", "aws_lambda_powertools", "slack_sdk", "boto3", "botocore"):
        assert (built / package).is_dir(), f"{package} missing from the artifact: check src/requirements.txt"
    # Test and build leftovers must not ship.
    assert not (built / "tests").exists()
    # The function runs on arm64: a native extension built for this x86 machine would not load there.
    wrong = [p.name for p in built.rglob("*.so") if "x86_64" in p.name]
    assert not wrong, f"x86_64 extensions in an arm64 artifact: {wrong}"


def test_artifact_holds_the_compiled_japanese_catalog(built: Path):
    """`sam build` copies src/ whole: the .mo the Japanese alerts need is in the artifact."""
    assert (built / "ses_dkim_monitor" / "locale" / "ja" / "LC_MESSAGES" / "ses_dkim_monitor.mo").is_file()


RUN_HANDLER = r"""
import json, sys
artifact, event_path = sys.argv[1], sys.argv[2]
sys.path.insert(0, artifact)  # what the Lambda runtime does with /var/task

import boto3
import ses_dkim_monitor
from ses_dkim_monitor.handler import lambda_handler

for module in (ses_dkim_monitor, boto3):
    assert module.__file__.startswith(artifact), f"{module.__name__} imported from {module.__file__}, not the artifact"

class Context:
    function_name = "ses-dkim-monitor-MonitorFunction-1A2B3C"
    memory_limit_in_mb = 512
    invoked_function_arn = sys.argv[3]
    aws_request_id = "8d7e5c0a-0000-4000-8000-000000000000"
    def get_remaining_time_in_millis(self):
        return 900_000

result = lambda_handler(json.load(open(event_path)), Context())
print("HANDLER-RESULT " + json.dumps(result))
"""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_built_handler_runs_each_event(name, built, python313, ses, knot, httpserver):
    dep = deploy(ses, knot, httpserver, prefix=f"build-{Path(name).stem}")
    # The Lambda environment: the template's variables plus what the runtime and moto need.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        **dep.env,
        **{k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": FakeContext.function_name,
    }
    result = subprocess.run(
        [str(python313), "-I", "-c", RUN_HANDLER, str(built), str(EVENTS / name), FakeContext.invoked_function_arn],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"built handler failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("HANDLER-RESULT ")]
    summary: dict[str, Any] = json.loads(line.removeprefix("HANDLER-RESULT "))

    check_result(name, summary, dep, slack_posts=len(httpserver.log))

    # The heartbeat as CloudWatch will extract it: namespace and service dimension as the alarm has them.
    template = load_template()
    alarm = template["Resources"]["HeartbeatAlarm"]["Properties"]
    docs = [d for d in emf_documents(result.stdout) if "ScanCompleted" in d]
    assert docs, "the run wrote no ScanCompleted metric"
    [directive] = docs[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == alarm["Namespace"]
    assert docs[0]["service"] == dep.env["POWERTOOLS_SERVICE_NAME"] == "ses-dkim-monitor"
    assert ["service"] in directive["Dimensions"]
    assert metric_values(result.stdout)["ScanCompleted"] == 1


def test_built_handler_speaks_japanese_with_alert_language_ja(built, python313, ses, knot, httpserver):
    """ALERT_LANGUAGE=ja (the AlertLanguage parameter): the built function's alerts are Japanese, their ids not."""
    dep = deploy(ses, knot, httpserver, prefix="build-ja")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        **dep.env,
        "ALERT_LANGUAGE": "ja",
        **{k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": FakeContext.function_name,
    }
    result = subprocess.run(
        [
            str(python313),
            "-I",
            "-c",
            RUN_HANDLER,
            str(built),
            str(EVENTS / "scheduled.json"),
            FakeContext.invoked_function_arn,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"built handler failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    sent = dep.sns_messages()
    assert sent, "the broken domain was alerted"
    texts = json.dumps([list(m) for m in sent], ensure_ascii=False)
    assert "対処方法" in texts and "dkim-record-missing" in texts
    slack = [request.get_data(as_text=True) for request, _response in httpserver.log]
    assert slack and any("対処方法" in json.dumps(json.loads(body), ensure_ascii=False) for body in slack)
