#!/usr/bin/env bash
# Install the SAM CLI and the template linters into their own venv,
# <repo>/.venv-sam, kept apart from the project venv because aws-sam-cli pins
# boto3/botocore differently from the monitor.
#
# Idempotent: when the venv already has all three tools at the requested
# versions it does nothing, so scripts/test.sh can call it on every run.
#
# Environment:
#   SAM_TOOLS_PYTHON   interpreter for the venv (default: python3.13, python3.12, python3)
#   SAM_TOOLS_VENV     venv path (default: <repo>/.venv-sam)
#   SAM_TOOLS_FORCE=1  reinstall even when the tools are present
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SAM_TOOLS_VENV:-$repo_root/.venv-sam}"

# Pins: bounded below by versions known to support python3.13/arm64 SAM
# templates and cfn-lint v1 rules; bounded above at the next major so a
# breaking release does not change CI results on its own.
requirements=(
  "aws-sam-cli>=1.120,<2"
  "cfn-lint>=1.20,<2"
  "checkov>=3.2,<4"
)

have_tools() {
  [[ -x "$venv/bin/sam" && -x "$venv/bin/cfn-lint" && -x "$venv/bin/checkov" ]] || return 1
  "$venv/bin/python" - "${requirements[@]}" <<'PY' || return 1
import sys
from importlib.metadata import version, PackageNotFoundError
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

if [[ "${SAM_TOOLS_FORCE:-0}" != 1 ]] && have_tools; then
  echo "install-sam-tools: $venv already has aws-sam-cli, cfn-lint, checkov"
  exit 0
fi

pick_python() {
  if [[ -n "${SAM_TOOLS_PYTHON:-}" ]]; then echo "$SAM_TOOLS_PYTHON"; return; fi
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  echo "install-sam-tools: no Python >= 3.9 with the venv module found" >&2
  exit 1
}

python_bin="$(pick_python)"
start=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
  echo "install-sam-tools: creating $venv with $python_bin"
  "$python_bin" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
echo "install-sam-tools: installed in $((SECONDS - start)) s:"
"$venv/bin/sam" --version
"$venv/bin/cfn-lint" --version
echo "checkov $("$venv/bin/checkov" --version)"
