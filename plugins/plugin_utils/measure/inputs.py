# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmark accepts as input: the one place that checks a run's settings before anything is
touched (no lock, no device, no guest), with a message per problem that names the variable, the value
and what is allowed. Extra vars from a command line or an AWX survey arrive as strings or as lists."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import MAX_REPEAT, PATHS, lab_addresses, plan_tests

# ip-netns names become files under /run/netns; the lab's device names are derived from nothing else.
NETNS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MIN_MEMORY_MB = 256
MAX_VCPUS = 64
UDP_IP_HEADERS = 28


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def benchmark_problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with a benchmark's settings (empty when a run may start).

    SETTINGS: duration, ping_count, ping_interval, streams, repeat, mtu, pps_sizes, tests, netns,
    vcpus, memory_mb, and server, client and prefix (the lab addresses; checked when given) - values as the
    playbook resolved them, the profile's already filled in.
    """
    out: list[str] = []

    def whole(name: str, low: int, high: int | None, what: str) -> int | None:
        raw = settings.get(name)
        value = _int(raw)
        if value is None or value < low or (high is not None and value > high):
            allowed = f"{low}-{high}" if high is not None else f"at least {low}"
            out.append(f"{name} must be {what}, {allowed} (got {raw})")
            return None
        return value

    whole("duration", 1, None, "a whole number of seconds")
    whole("ping_count", 1, None, "a whole number of echo requests")
    interval = _number(settings.get("ping_interval"))
    if interval is None or interval <= 0:
        out.append(f"ping_interval must be a number of seconds above 0 (got {settings.get('ping_interval')})")
    streams = whole("streams", 1, 128, "a whole number of parallel iperf3 streams")
    whole("repeat", 1, MAX_REPEAT, "a whole number of repetitions")
    mtu = whole("mtu", 576, 65535, "an MTU in bytes")

    sizes = settings.get("pps_sizes")
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple)) or not sizes:
        out.append(f"pps_sizes must be a non-empty list of UDP payload sizes in bytes, e.g. "
                   f"-e '{{\"pps_sizes\": [64, 128]}}' (got {sizes!r})")
        sizes = []
    else:
        bad = [s for s in sizes if _int(s) is None or _int(s) < 1]
        if bad:
            out.append(f"pps_sizes: {', '.join(repr(s) for s in bad)} is not a UDP payload size: each must be a "
                       f"whole number of bytes from 1 to MTU - {UDP_IP_HEADERS}"
                       f"{f' = {mtu - UDP_IP_HEADERS}' if mtu else ''} (got {list(sizes)!r})")
        elif mtu:
            too_big = [_int(s) for s in sizes if _int(s) > mtu - UDP_IP_HEADERS]
            if too_big:
                out.append(f"packet size {', '.join(map(str, too_big))} is above the MTU: a UDP payload can be at "
                           f"most MTU - {UDP_IP_HEADERS} = {mtu - UDP_IP_HEADERS} bytes (benchmark_mtu={mtu}).")

    if "pps_loss_max" in settings:
        loss = _number(settings.get("pps_loss_max"))
        if loss is None or not 0 <= loss < 100:
            out.append(f"pps_loss_max must be a loss in percent, at least 0 and below 100, e.g. 0.1 "
                       f"(got {settings.get('pps_loss_max')})")
    tests = settings.get("tests")
    valid_sizes = [_int(s) for s in sizes if _int(s)] or [64]
    plan = plan_tests("198.18.0.1", duration=1, ping_count=1, ping_interval=0.01, streams=streams or 8,
                      pps_sizes=valid_sizes)
    names = [t["name"] for t in plan]
    if tests is None or tests == "":
        pass
    elif isinstance(tests, str) or not isinstance(tests, (list, tuple)):
        out.append(f"tests must be a list of test names, got {tests!r}: pass -e '{{\"tests\": [{_quoted(tests)}]}}' "
                   f"(choose from {', '.join(names)})")
    else:
        unknown = [t for t in tests if t not in names]
        if unknown:
            out.append(f"tests: unknown tests {', '.join(map(str, unknown))}: choose from {', '.join(names)}")

    netns = settings.get("netns")
    if netns not in (None, "") and (not isinstance(netns, str) or not NETNS_RE.match(netns)):
        out.append(f"benchmark_netns {netns!r} is not a namespace name: use 1-32 letters, digits, '_', '.' or '-' "
                   "(starting with a letter or digit), or leave it empty for a real lab in the root namespace")
    vcpus = _int(settings.get("vcpus"))
    if vcpus is None or not 0 <= vcpus <= MAX_VCPUS:
        out.append(f"benchmark_vcpus must be 0 (the default: 4 with KVM, 1 under TCG) or 1-{MAX_VCPUS} vCPUs "
                   f"(got {settings.get('vcpus')})")
    memory = _int(settings.get("memory_mb"))
    if memory is None or (memory != 0 and memory < MIN_MEMORY_MB):
        out.append(f"benchmark_memory_mb must be 0 (the default: 8192 with KVM, 1024 under TCG) or at least "
                   f"{MIN_MEMORY_MB} MiB (got {settings.get('memory_mb')})")
    if "server" in settings or "client" in settings:
        out.extend(_address_problems(settings.get("server"), settings.get("client"), settings.get("prefix", 24)))
    return out


def _address_problems(server: Any, client: Any, prefix: Any) -> list[str]:
    """The lab addresses: two IPv4 addresses of one subnet, never a public one, with room for every data
    path's subnet after them (the same planning as the run's, matrix.lab_addresses)."""
    import ipaddress  # pylint: disable=import-outside-toplevel

    given = f"benchmark_server_address={server}, benchmark_client_address={client}, benchmark_prefix={prefix}"
    if _int(prefix) is None:
        return [f"benchmark_prefix must be a whole number 8-30 (got {prefix})"]
    try:
        lab_addresses(list(PATHS), str(server), str(client), _int(prefix))
    except ValueError as err:
        return [f"lab addresses ({given}): {err}"]
    public = [a for a in (server, client) if ipaddress.IPv4Address(str(a)).is_global]
    if public:
        return [f"lab addresses ({given}): {', '.join(map(str, public))} is a public address; the lab's traffic "
                "must stay on the lab: use the benchmarking range 198.18.0.0/15 (the defaults 198.18.0.1 and "
                "198.18.0.2) or a private range"]
    return []


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return ", ".join(f'"{part.strip()}"' for part in re.split(r"[,\s]+", value) if part.strip())
    return '"..."'
