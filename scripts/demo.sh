#!/usr/bin/env bash
# One command on a fresh Debian machine: install what is needed, then run the
# real `ses-dkim-monitor check` against local SES (moto) and DNS (Knot) stand-ins.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
