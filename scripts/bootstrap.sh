#!/usr/bin/env bash
# Prepares this checkout to run: a Python virtualenv in .venv with the pinned requirements.
# Idempotent: does nothing when .venv already matches requirements*.txt. Sourced or run; VNB_TESTS=1 adds the
# test tools (requirements-test.txt).
set -euo pipefail

VNB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VNB_VENV=${VNB_VENV:-$VNB_ROOT/.venv}
PYTHON=${PYTHON:-python3}

die() { echo "volt.netbench: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer (Debian: apt-get install python3)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$PYTHON" -V 2>&1) is too old: ansible-core 2.19 needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"

apt_install() {
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install it: install it with your package manager"
  [ "$(id -u)" = 0 ] || die "missing $*: run as root (or install it yourself) so apt-get can install it"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

# Host tools the scripts themselves use (the roles install what the lab needs).
for tool in git rsync; do
  command -v "$tool" >/dev/null || apt_install "$tool"
done

# A benchmark needs the collection's and the controller's requirements only; VNB_TESTS=1 (scripts/test.sh) adds
# the test tools (pytest, ansible-lint, asyncssh ...) to the same venv.
req() { cat "$@" | sha256sum | cut -d' ' -f1; }
want=$(req "$VNB_ROOT"/requirements.txt "$VNB_ROOT"/requirements-controller.txt)
if [ ! -x "$VNB_VENV/bin/python" ] || [ "$(cat "$VNB_VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  echo "volt.netbench: preparing $VNB_VENV (pinned requirements)" >&2
  rm -rf "$VNB_VENV"
  if ! "$PYTHON" -m venv "$VNB_VENV" 2>/dev/null; then
    rm -rf "$VNB_VENV"
    apt_install python3-venv
    "$PYTHON" -m venv "$VNB_VENV"
  fi
  # no byte-compiling of every installed module (half of the install's time): Python compiles what a run imports,
  # once, when it first imports it
  "$VNB_VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check \
    -r "$VNB_ROOT/requirements-controller.txt"
  echo "$want" > "$VNB_VENV/.requirements.sha256"
fi
if [ "${VNB_TESTS:-0}" = 1 ]; then
  want_tests=$(req "$VNB_ROOT"/requirements.txt "$VNB_ROOT"/requirements-controller.txt "$VNB_ROOT"/requirements-test.txt)
  if [ "$(cat "$VNB_VENV/.requirements-test.sha256" 2>/dev/null)" != "$want_tests" ]; then
    echo "volt.netbench: adding the test tools to $VNB_VENV (pinned requirements)" >&2
    "$VNB_VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check \
      -r "$VNB_ROOT/requirements-test.txt"
    echo "$want_tests" > "$VNB_VENV/.requirements-test.sha256"
  fi
  # the suite runs without writing byte code (PYTHONDONTWRITEBYTECODE, scripts/test.sh): the venv's is compiled
  # once here, on both cores, instead of in every test's Python (some packages' own test files do not compile)
  if [ "$(cat "$VNB_VENV/.compiled.sha256" 2>/dev/null)" != "$want_tests" ]; then
    "$VNB_VENV/bin/python" -m compileall -q -j 0 \
      "$("$VNB_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
    echo "$want_tests" > "$VNB_VENV/.compiled.sha256"
  fi
fi
export PATH="$VNB_VENV/bin:$PATH"
