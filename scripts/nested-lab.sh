#!/usr/bin/env bash
# Trying it without spare hypervisors: two hypervisor VMs on this machine (playbooks/nested_lab.yml), the benchmark
# against them over real SSH (vhost-net included: their Debian kernel has vhost_net), then the VMs torn down.
#   sudo ./scripts/nested-lab.sh            the whole validation (about 75 min here), each phase's time printed:
#     1. a fleet of the two VMs, -e backend=all, both labs at once (matrices overlapping in time);
#     2. a cross-host pair (server VM on hv1, client VM on hv2, across the wires between the VMs), ansible-playbook
#        killed with SIGKILL once its matrix has started: both VMs' guards must tear their halves down on their own
#        kernels within the heartbeat timeout (checked over SSH: no QEMU, namespace, lab device, node or lock left);
#     3. the same pair again, to the end: its report names what the guards recovered.
#   sudo ./scripts/nested-lab.sh ARGS...    one benchmark.yml run with these ansible-playbook ARGS instead
#                                           (e.g. -l hv1 -e backend=vhost-net)
# NESTED_STEPS picks steps (default "fleet kill pair"; "kill pair" skips the fleet - step 3 names step 2's recovery).
# Every run: profile quick, three tests (NESTED_TESTS, JSON), no native reference. Results in results-nested/
# (NESTED_RESULTS). NESTED_KEEP=1 leaves the VMs up (tear down: playbooks/nested_lab.yml -e nested_lab_state=absent).
# Under TCG QEMU in the VMs runs TCG inside TCG: a check of the pipeline, not a benchmark.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/bootstrap.sh
source "$here/bootstrap.sh"
cd "$VNB_ROOT"
results=${NESTED_RESULTS:-$VNB_ROOT/results-nested}
tests=${NESTED_TESTS:-'["iperf3_tcp_single", "ping", "netperf_udp_rr"]'}
steps=" ${NESTED_STEPS:-fleet kill pair} "
inventory=/run/volt-netbench/controller/vnb-nested/hosts.yml
# the guests boot inside the VMs under TCG inside TCG: minutes, not seconds
common=(-i "$inventory" playbooks/benchmark.yml -e "results_dir=$results" -e profile=quick -e native=false
        -e "{\"tests\": $tests}" -e benchmark_boot_timeout=1800 -e benchmark_test_margin=300)
log_dir=$(mktemp -d /tmp/nested-lab.XXXXXX)
phase() { printf 'nested lab: %-58s %6d s\n' "$1" "$(( $(date +%s) - $2 ))"; }
say() { echo "nested lab: $*"; }

down() {
  local began
  began=$(date +%s)
  ansible-playbook playbooks/nested_lab.yml -e nested_lab_state=absent >/dev/null
  phase "hypervisor VMs torn down" "$began"
}
[ "${NESTED_KEEP:-0}" = 1 ] || trap down EXIT

# What is left of a lab on each VM: QEMU processes, namespaces, lab devices, macvtap nodes, locks ('' = nothing)
leftovers() {
  ansible -i "$inventory" hypervisors -o -m ansible.builtin.shell -a \
    'pgrep -a qemu-system; ip netns list; ip -o link show | grep -o "vnb[a-z0-9]*"; ls -A /dev/volt-netbench 2>/dev/null;
     ls /run/volt-netbench/*.lock 2>/dev/null; true' 2>&1 | sed -n 's/^\(hv[0-9]*\) | [A-Z]* | rc=0 | (stdout) *//p' \
    | grep -v '^$' || true
}

began=$(date +%s)
ansible-playbook playbooks/nested_lab.yml
phase "hypervisor VMs up (images cached)" "$began"

if [ $# -gt 0 ]; then
  began=$(date +%s)
  ansible-playbook "${common[@]}" "$@"
  phase "benchmark against the VMs" "$began"
  say "report in $results/"
  exit 0
fi

if [[ $steps == *" fleet "* ]]; then
  began=$(date +%s)
  ansible-playbook "${common[@]}" -e backend=all
  phase "1. fleet of hv1 and hv2, backend=all" "$began"
fi
[[ $steps == *" kill "* ]] || [[ $steps == *" pair "* ]] || exit 0

if [[ $steps == *" kill "* ]]; then
  began=$(date +%s)
  ansible-playbook "${common[@]}" -e topology=cross_host -e backend=all >"$log_dir/killed.log" 2>&1 &
  pid=$!
  until grep -q 'volt.netbench \[1/' "$log_dir/killed.log"; do
    kill -0 "$pid" 2>/dev/null || { tail -40 "$log_dir/killed.log"; say "the pair's run ended before its matrix"; exit 1; }
    sleep 5
  done
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  phase "2. cross-host pair: SIGKILL after its first test" "$began"
  grep 'volt.netbench \[' "$log_dir/killed.log" || true
  killed=$(date +%s)
  # the guards' heartbeat timeout (benchmark_heartbeat_timeout, 120 s), a guard's poll and the teardown itself
  until [ -z "$(leftovers)" ]; do
    if [ $(( $(date +%s) - killed )) -gt 420 ]; then
      say "left on the VMs 420 s after the SIGKILL:"; leftovers; exit 1
    fi
    sleep 15
  done
  phase "   both guards tore the pair's lab down" "$killed"
fi
[[ $steps == *" pair "* ]] || exit 0

began=$(date +%s)
# a failed test fails the playbook: say so at the end, after what the report says about the guards
status=0
ansible-playbook "${common[@]}" -e topology=cross_host -e backend=all | tee "$log_dir/pair.log" || status=$?
phase "3. cross-host pair, backend=all, to the end (exit $status)" "$began"
report=$(sed -n 's/.*Report: *\([^ ]*REPORT.md\).*/\1/p' "$log_dir/pair.log" | tail -1)
report=${report:-$(find "$results" -mindepth 3 -maxdepth 3 -name REPORT.md -printf '%T@ %p\n' 2>/dev/null \
  | sort -rn | head -1 | cut -d' ' -f2-)}
say "what the pair's report says the guards recovered (${report:-report not found}):"
if [ -n "$report" ] && grep -o 'Before this run, [^|]*' "$report"; then :; else say "no recovery named"; exit 1; fi
say "reports in $results/"
[ "$status" = 0 ] || { say "the pair's run failed (exit $status): see its report"; exit "$status"; }
