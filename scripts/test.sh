#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run it:
# Debian's Chromium for the browser tests (HAProxy and python3-yaml for the
# scale-out ones), a virtualenv with the pinned
# dependencies, ruff, and pytest (browser tests included). Extra arguments go
# to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/haproxy ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    chromium fonts-dejavu-core haproxy python3-yaml >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# requirements-dev.txt pins PyTorch's CPU build; on Linux x86_64 that is torch==2.13.0+cpu, which PyPI
# does not have: where pip does not find it already (a local wheel), PyTorch's CPU index has it
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt \
  || .venv/bin/pip install -q --disable-pip-version-check \
       --extra-index-url https://download.pytorch.org/whl/cpu -r requirements-dev.txt
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
