#!/usr/bin/env bash
# One command on a fresh Debian machine: install everything (Knot DNS, the
# Python venv, the SAM CLI and template linters in .venv-sam), check lint,
# format and types, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-sam-tools.sh
echo "test.sh: ruff check, ruff format --check, mypy" >&2
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
