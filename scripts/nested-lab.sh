#!/usr/bin/env bash
# Trying it without spare hypervisors: two hypervisor VMs on this machine (playbooks/nested_lab.yml), the benchmark
# against them over real SSH (vhost-net included: their Debian kernel has vhost_net), then the VMs torn down.
#   sudo ./scripts/nested-lab.sh [ansible-playbook args for benchmark.yml, e.g. -l hv1 -e backend=all]
# Default: -l hv1 -e backend=all -e profile=quick with three tests, no native reference. Results in
# results-nested/ (NESTED_RESULTS). NESTED_KEEP=1 leaves the VMs up (tear down: playbooks/nested_lab.yml
# -e nested_lab_state=absent). Under TCG QEMU in the VMs runs TCG inside TCG: a check of the pipeline, not a
# benchmark - phases print as they end.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bootstrap.sh
source "$here/bootstrap.sh"
cd "$VNB_ROOT"
results=${NESTED_RESULTS:-$VNB_ROOT/results-nested}
inventory=/run/volt-netbench/controller/vnb-nested/hosts.yml
phase() { printf 'nested lab: %-34s %6d s\n' "$1" "$(( $(date +%s) - $2 ))"; }

down() {
  local began
  began=$(date +%s)
  ansible-playbook playbooks/nested_lab.yml -e nested_lab_state=absent >/dev/null
  phase "hypervisor VMs torn down" "$began"
}
[ "${NESTED_KEEP:-0}" = 1 ] || trap down EXIT

began=$(date +%s)
ansible-playbook playbooks/nested_lab.yml
phase "hypervisor VMs up (images cached)" "$began"

if [ $# -eq 0 ]; then
  set -- -l hv1 -e backend=all -e profile=quick -e native=false \
    -e '{"tests": ["iperf3_tcp_single", "ping", "netperf_udp_rr"]}'
fi
began=$(date +%s)
# the guests boot inside the VMs under TCG inside TCG: minutes, not seconds
ansible-playbook -i "$inventory" playbooks/benchmark.yml -e "results_dir=$results" \
  -e benchmark_boot_timeout=1800 -e benchmark_test_margin=300 "$@"
phase "benchmark against the VMs" "$began"
echo "nested lab: report in $results/"
