"""The loss-bounded packet rate's search against a path of known capacity: a client and a server namespace routed
through a third whose egress to the server is shaped by a token bucket (tc tbf; forwarded packets are dropped
there, the sender feels no back-pressure - as a guest's datagrams meet a host's queues), real iperf3 between them. The search must
find a rate the bucket carries without loss, near the bucket's rate; a flood gets about the bucket's rate through.

(This kernel has no sch_netem; tbf is there. Addresses in 198.18.0.0/15; every packet stays in the two
namespaces this test creates.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / ".collections"))
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search  # noqa: E402

pytestmark = [pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("iperf3"), reason="needs root and iperf3")]

SERVER, CLIENT = "198.18.1.2", "198.18.0.1"
# 20 Mbit/s of 106-byte frames (64 bytes of UDP payload + 8 UDP + 20 IPv4 + 14 Ethernet): 23.6 kpps
RATE_BIT, FRAME = 20_000_000, 64 + 42
CAPACITY_PPS = RATE_BIT / (FRAME * 8)


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture
def shaped_pair():
    srv, mid, cli = (f"vnbps-{side}{os.getpid()}" for side in "smc")
    try:
        for ns in (srv, mid, cli):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "vnbps0", "netns", cli, "type", "veth", "peer", "name", "vnbps1", "netns", mid)
        sh("ip", "link", "add", "vnbps2", "netns", mid, "type", "veth", "peer", "name", "vnbps3", "netns", srv)
        for ns, dev, cidr in ((cli, "vnbps0", f"{CLIENT}/24"), (mid, "vnbps1", "198.18.0.254/24"),
                              (mid, "vnbps2", "198.18.1.254/24"), (srv, "vnbps3", f"{SERVER}/24")):
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", cli, "route", "add", "198.18.1.0/24", "via", "198.18.0.254")
        sh("ip", "-n", srv, "route", "add", "198.18.0.0/24", "via", "198.18.1.254")
        sh("ip", "netns", "exec", mid, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # the bucket: its queue (limit) is the buffer that hides excess in short probes
        sh("tc", "-n", mid, "qdisc", "add", "dev", "vnbps2", "root", "tbf", "rate", str(RATE_BIT), "burst", "32kb",
           "limit", "64kb")
        server = subprocess.Popen(["ip", "netns", "exec", srv, "iperf3", "-s", "-B", SERVER],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        yield cli
    finally:
        for ns in (srv, mid, cli):
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            if pids:
                sh("kill", *pids, check=False)
        time.sleep(0.2)
        for ns in (srv, mid, cli):
            sh("ip", "netns", "delete", ns, check=False)


def test_the_search_finds_the_buckets_rate_and_keeps_every_probe(shaped_pair):
    cli = shaped_pair
    seconds = {"flood": pps_search.PROBE_S, "probe": pps_search.PROBE_S, "confirm": 3}

    def probe(kind, target):
        rate = str(pps_search.bits_per_second(target, 64) if target else 0)
        argv = ["iperf3", "-c", SERVER, "-t", str(seconds[kind]), "-J", "-u", "-l", "64", "-b", rate]
        began = time.monotonic()
        out = sh("ip", "netns", "exec", cli, *argv, check=False)
        assert out.returncode == 0, out.stdout[-500:] + out.stderr
        return pps_search.probe_record(kind, target, 64, argv, out.stdout, time.monotonic() - began)

    found = pps_search.search(probe, loss_max=0.1)
    flood, result = found["probes"][0], found["result"]
    print(f"\nbucket {CAPACITY_PPS:,.0f} pps; flood sent {flood['sent_pps']:,.0f}, got {flood['received_pps']:,.0f} "
          f"({flood['lost_percent']:.1f} % lost); found {found['found_pps'] or 0:,.0f} pps offered, "
          f"{result['received_pps']:,.0f} received, {result['lost_percent']:.3f} % lost, "
          f"{len(found['probes'])} runs")
    assert flood["kind"] == "flood" and flood["lost_percent"] > 0.1, "the sender outruns the bucket"
    assert found["message"] == "" and result["lost_percent"] <= 0.1
    # near the bucket's rate: no more than it, no less than 80 % of it
    assert 0.8 * CAPACITY_PPS <= result["received_pps"] <= 1.02 * CAPACITY_PPS
    # what arrived of the flood is what the bucket let through: about its rate, never much above it. Not
    # necessarily above the loss-bounded rate: the flood's sender, the forwarding namespace and the receiver share
    # two CPUs, and a flooded receiver loses some of what the bucket passed (measured on CI: 21,781 pps of the
    # flood arrived, 22,863 of the paced rate) - the report shows both, it does not assume an order
    assert 0.7 * CAPACITY_PPS <= flood["received_pps"] <= 1.03 * CAPACITY_PPS
    assert flood["sent_pps"] > 2 * flood["received_pps"]
    # every probe kept with its command, its rate and iperf3's own output
    for record in found["probes"]:
        assert record["command"].startswith(f"iperf3 -c {SERVER}") and '"sum_received"' in record["output"]
        assert record["target_bps"] == (0 if record["target_pps"] is None else
                                        pytest.approx(pps_search.bits_per_second(record["target_pps"], 64), rel=1e-5))
