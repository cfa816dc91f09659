#!/usr/bin/env bash
# The whole test suite: unit tests (parsers, fuzzing, report), integration tests (FQCN from a
# checkout and from an installed collection, lab devices in private namespaces), ansible-lint
# (production profile) and ansible-test sanity. Sets itself up; run as root for the lab tests.
#   ./scripts/test.sh [pytest args]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the venv with the test tools too
export VNB_TESTS=1
# shellcheck source=scripts/bootstrap.sh
source "$here/bootstrap.sh"
cd "$VNB_ROOT"
# ansible-test sanity runs shellcheck on the scripts
command -v shellcheck >/dev/null || apt_install shellcheck
# the stand-in cloud image (tests/integration/cloud_image) is built before any role installs these
command -v debootstrap >/dev/null || apt_install debootstrap
command -v qemu-img >/dev/null || apt_install qemu-utils
# the packet-rate search's test runs iperf3 between two namespaces of its own
command -v iperf3 >/dev/null || apt_install iperf3
# the results store's tests start a throwaway PostgreSQL server of their own (tests/integration/pgserver.py);
# the package's own cluster, which its installation may start, is stopped again
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_install postgresql
  command -v pg_lsclusters >/dev/null && pg_lsclusters --no-header | while read -r version name _rest; do
    pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
  done
fi
export PYTHONDONTWRITEBYTECODE=1
# two workers (pytest-xdist): the benchmark's lab tests in order on one (they share the hypervisor lock),
# the guest tests as another group, everything else wherever a worker is free
exec python -m pytest -p no:cacheprovider -n 2 --dist loadgroup tests/unit tests/integration "$@"
