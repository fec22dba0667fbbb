#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine:
# Knot DNS (a real authoritative server for the tests), dnsdist (the
# benchmark's latency proxy), Unbound (a real recursive resolver: the answers a
# VPC resolver gives, a CNAME and its target's records in one), Chromium and a
# Japanese font (the status page's screenshot test) and a Python virtual
# environment in .venv.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v knotd >/dev/null 2>&1 || [ -x /usr/sbin/knotd ] || need_apt+=(knot)
command -v dnsdist >/dev/null 2>&1 || [ -x /usr/bin/dnsdist ] || need_apt+=(dnsdist)
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || need_apt+=(unbound)
# The Japanese status page is rendered and screenshot by headless Chromium in the tests
# (tests/test_japanese_end_to_end.py); without a CJK font Chromium draws Japanese as empty boxes.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# IPA Gothic: a Japanese font of 3.5 MB to download (Noto CJK is 56 MB, and the page needs no other CJK script).
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need_apt+=(fonts-ipafont-gothic)
python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then PYTHON="$candidate"; break; fi
  done
fi
[ -n "$PYTHON" ] || need_apt+=(python3 python3-venv python3-pip)

stamp=".venv/.installed-$(cat pyproject.toml src/requirements.txt | sha256sum | cut -c1-16)"
make_venv() {
  [ ! -e "$stamp" ] || return 0
  echo "setup: creating .venv with $("$PYTHON" --version)" >&2
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
}
# With a Python already here, the venv is built while apt installs the servers (they share nothing).
venv_pid=""
if [ -n "$PYTHON" ] && [ ${#need_apt[@]} -gt 0 ]; then
  make_venv &
  venv_pid=$!
fi
wait_venv() {
  if [ -n "$venv_pid" ]; then
    wait "$venv_pid" || { echo "setup: creating .venv failed" >&2; exit 1; }
  else
    make_venv
  fi
}

if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  # Keep apt from starting knotd/dnsdist/unbound as system services while they are
  # installed (the tests and the demo start their own). The policy file is
  # only created when none exists, and removed again whatever happens, so
  # apt behaves as before on the user's machine once this script is done.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ -n "$created_policy" ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  PYTHON="${PYTHON:-python3}"
fi

wait_venv
