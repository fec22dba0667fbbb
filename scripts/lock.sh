#!/usr/bin/env bash
# Regenerate src/requirements.txt, the Lambda's locked dependencies, from
# pyproject.toml's [project.dependencies] (the one place they are declared).
#
# Every package is pinned (==) with the hashes of its release files, so that
# `sam build` installs exactly what was reviewed (pip's hash-checking mode turns
# on by itself when a requirements file carries hashes). Resolved with the
# Lambda runtime's Python (3.13) so that environment markers match the runtime.
# Run it after changing a dependency in pyproject.toml, review the diff, commit.
# tests/test_dependencies.py fails when the two files disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${LOCK_PYTHON:-$(ls -d "$(pyenv root 2>/dev/null || echo ~/.pyenv)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -1)}"
[ -x "$python" ] || { echo "lock.sh: no Python 3.13 found (set LOCK_PYTHON)" >&2; exit 1; }
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"$python" -m venv "$tools"
"$tools/bin/pip" install -q --disable-pip-version-check "pip-tools>=7.4,<8"
"$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
  --no-emit-find-links --output-file src/requirements.txt \
  pyproject.toml
echo "lock.sh: wrote src/requirements.txt with $("$python" --version)" >&2
