#!/usr/bin/env bash
# One command on a fresh Debian machine: install everything (Knot DNS, Unbound,
# dnsdist, Chromium, the Python venv; the SAM CLI and template linters in
# .venv-sam), check lint, format and types, then run the whole test suite, one
# pytest worker per core (at most 4). Extra arguments go to pytest; -n 0 runs it
# in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
# The two installs share nothing (apt and .venv; pyenv's Python and .venv-sam),
# so they run side by side; the SAM tools' output is shown only if they fail.
# On a machine with no Python that can make a venv yet (Debian's python3 without python3-venv has no
# ensurepip), setup.sh installs it first and the SAM tools follow.
sam_log="$(mktemp)"
if python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  scripts/install-sam-tools.sh >"$sam_log" 2>&1 &
  sam_pid=$!
  scripts/setup.sh
else
  scripts/setup.sh
  scripts/install-sam-tools.sh >"$sam_log" 2>&1 &
  sam_pid=$!
fi
if ! wait "$sam_pid"; then
  cat "$sam_log" >&2
  echo "test.sh: scripts/install-sam-tools.sh failed (its output above)" >&2
  exit 1
fi
rm -f "$sam_log"
echo "test.sh: ruff check, ruff format --check, mypy" >&2
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
exec .venv/bin/python -m pytest --numprocesses=auto --maxprocesses=4 "$@"
