#!/usr/bin/env bash
# Runs the benchmark on the built-in local lab (this machine is the hypervisor, the lab lives in
# a private network namespace) for every backend the host supports, and writes results/REPORT.md.
#   ./scripts/benchmark.sh [-e backend=virtio] [-e profile=default] [other ansible-playbook args]
# The quick profile (2 s per test, 200 pings, packet rates by flood) is the default here; -e profile=default runs the full one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bootstrap.sh
source "$here/bootstrap.sh"
cd "$VNB_ROOT"
exec ansible-playbook playbooks/benchmark.yml -e backend=all -e profile=quick "$@"
