# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark run as one model: what the benchmark role's inputs mean, decided once in Python.

The benchmark role calls this through volt.netbench.run_plan twice and only reads the answers:

- :func:`plan_request` before anything is touched: the settings checked (one message per problem), the
  profile's defaults filled in, the backends asked for, the run id, the lab's paths
  (module_utils.lab.lab_paths), the configuration a run records and the extra vars that reproduce it;
- :func:`plan_lab` once the hypervisor has decided what it can run: the backends that run and why the
  others do not, the matrix (matrix.plan_matrix), the guests and their addresses, the native reference's
  endpoints, each data path's description, and the progress header every run directory starts with.

The YAML of the role holds no decision of its own: what a name, a default, a path or a sentence is,
is written here (or in the module this imports it from) once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS, on_bridge
from ansible_collections.volt.netbench.plugins.module_utils.qemu import data_nic_name
from ansible_collections.volt.netbench.plugins.module_utils.lab import default_controller_root, lab_paths, within
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.dry_run import results_dir_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import ssh_argv
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.inputs import benchmark_problems
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import (
    CAPACITY, NATIVE, PPS_SIZES, guest_tuning, native_tuning, plan_matrix)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.pps_search import LOSS_MAX_PCT, MODES as PPS_MODES
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import CPU_SAMPLES, ResultsError, new_run_id
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import (
    SweepError, guest_command, parse as parse_sweep, point_config, point_suffix, points, refusals, run_key)

# The profiles: what duration, ping_count and repeat mean when a run does not set them.
# pps_mode: a search costs about 18 s more per size, path and repetition than a flood (pps_search.py: 8 probes
# of 2 s; measured on the local lab, README): the quick profile floods, the default profile searches. The quick
# profile is a smoke run (one repetition: its report makes no claims); its 2 s tests keep the README's first command
# within 5 minutes on a clean 2-core TCG machine (the tools are two thirds of it: iperf3's omitted first second,
# sockperf's warm-up and netperf's end-of-test pad come on top of every duration).
PROFILES = {
    "default": {"duration": 30, "ping_count": 1000, "repeat": 3, "pps_mode": "search"},
    "quick": {"duration": 2, "ping_count": 200, "repeat": 1, "pps_mode": "flood"},
}
PROFILE_KEYS = ("duration", "ping_count", "repeat", "pps_mode")
DEFAULT_STREAMS = 8
# Checked on both guests before anything is measured (the clients and servers of the matrix; flock, which the run
# control's jobs hold their lock with - util-linux, essential on Debian, a busybox applet elsewhere).
GUEST_TOOLS = ["iperf3", "sockperf", "netperf", "netserver", "ping", "flock"]
# The guests of a lab and their management SSH ports on the hypervisor's loopback.
GUESTS = (("server", 10022), ("client", 10023))

# The settings the benchmark role passes (its variables without the benchmark_ prefix).
SETTINGS = {
    "backend": "all", "profile": "default", "results_dir": "results", "results_base": "", "display_dir": "",
    "duration": None,
    "ping_count": None, "repeat": None, "ping_interval": 0.01, "streams": DEFAULT_STREAMS,
    "pps_sizes": list(PPS_SIZES), "pps_mode": "", "pps_loss_max": LOSS_MAX_PCT, "tests": [], "baseline": "virtio",
    "native": True, "netns": "vnb-lab",
    "mtu": 1500, "server": "198.18.0.1", "client": "198.18.0.2", "prefix": 24, "vcpus": 0, "memory_mb": 0,
    "image": "", "test_margin": 60, "fleet": False, "topology": "same_host", "uplink": "", "macvtap_lower": "",
    # not role variables: the hypervisor's inventory name (inventory_hostname), its ansible_connection and
    # ansible_host (a simulated cross-host cable joins two labs of one machine), ansible_port, ansible_user,
    # ansible_ssh_private_key_file and ansible_ssh_common_args (how the guests' ProxyCommand and the watchdog's
    # heartbeat reach a remote hypervisor)
    "hypervisor": "localhost", "connection": "", "address": "", "port": "", "user": "", "key": "", "ssh_args": "",
    "heartbeat_timeout": 120,
    # the regression gate after the run (playbooks/tasks/gate.yml): its baseline is checked before anything is touched
    "against": "", "tolerance": 5.0,
    # the factors a run sweeps and their levels (plugin_utils/measure/sweep.py); {} = one configuration
    "sweep": {},
}
# same_host: both guests on each hypervisor; cross_host: a pair of hypervisors, the server VM on the first,
# the client VM on the second, the traffic across the wire between their NICs.
TOPOLOGIES = ("same_host", "cross_host")
# A cross-host pair whose labs live in namespaces of one machine (inventories/fleet-local) is wired by a simulated
# cable: a veth pair between the two labs' namespaces per wiring, each end named the same on both sides - the
# bridge's uplink (virtio, vhost-net) and macvtap's lower device.
CABLES = {"uplink": "vnbwire0", "macvtap_lower": "vnbwire1"}
# What the two hypervisors of a cross-host pair must agree on: one run, measured from the client.
PAIR_AGREES = ("backend", "profile", "duration", "ping_count", "repeat", "ping_interval", "streams", "pps_sizes",
               "pps_mode", "pps_loss_max",
               "tests", "native", "mtu", "server", "client", "prefix", "vcpus", "memory_mb", "results_dir")
# The host's side of the environment: a cross-host run shows each hypervisor's where they differ.
HOST_ENV = ("host_cpu", "host_ram", "host_kernel", "qemu_version", "accelerator")
# The hypervisor's name becomes a directory of the results tree and part of the guests' inventory names.
HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RunModelError(ValueError):
    """The settings cannot make a run; the message lists every problem."""


def _given(settings: dict[str, Any]) -> dict[str, Any]:
    """The profile's duration, ping_count, repeat and pps_mode where the run did not set its own (as given)."""
    profile = PROFILES.get(settings["profile"], PROFILES["default"])
    return {k: profile[k] if settings.get(k) in (None, "") else settings[k] for k in PROFILE_KEYS}


def under_base(results_dir: str, base: str) -> str:
    """RESULTS_DIR as the run writes it. With a BASE (an AWX job template's results_base: survey answers are the
    job user's, the base is the template owner's), RESULTS_DIR is taken relative to BASE and must stay inside it
    after every symbolic link and '..' is resolved (RunModelError says why not). Without one, RESULTS_DIR as given."""
    base = str(base or "").strip()
    if not base:
        return results_dir
    if not os.path.isabs(base):
        raise RunModelError(f"invalid benchmark settings: results_base {base!r} must be an absolute path")
    given = str(results_dir or "").strip()
    top = os.path.realpath(base)
    resolved = os.path.realpath(os.path.join(top, given))
    if resolved != top and not within(resolved, [top]):
        raise RunModelError(f"invalid benchmark settings: results_dir {given!r} leaves results_base {base} "
                            f"(it resolves to {resolved}): name a directory inside it, or leave it empty")
    return resolved


def problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with SETTINGS (empty when a run may start): the input check of inputs.py, the
    profile and backend names, and whether the controller can write the results directory."""
    out = []
    if settings["profile"] not in PROFILES:
        out.append(f"profile must be one of {', '.join(PROFILES)} (got {settings['profile']})")
    if settings.get("pps_mode") not in (None, "", *PPS_MODES):
        out.append(f"pps_mode must be one of {', '.join(PPS_MODES)} (got {settings['pps_mode']}): search finds the "
                   "highest rate with at most pps_loss_max % loss, flood reports what arrives of iperf3 -b 0")
    if settings["backend"] not in (*BACKENDS, "all"):
        out.append(f"backend must be one of {', '.join(BACKENDS)} or all (got {settings['backend']})")
    out += benchmark_problems({
        **_given(settings),
        **{k: settings[k] for k in ("ping_interval", "streams", "mtu", "pps_sizes", "pps_loss_max", "tests", "netns",
                                    "vcpus", "memory_mb", "server", "client", "prefix")},
    })
    try:
        if int(settings["heartbeat_timeout"]) < 10:
            raise ValueError
    except (TypeError, ValueError):
        out.append(f"heartbeat_timeout must be a whole number of seconds, at least 10 (got {settings['heartbeat_timeout']}): "
                   "the watchdog refreshes a remote hypervisor's heartbeat every 5 s")
    try:
        planned = points(parse_sweep(settings.get("sweep")))
    except SweepError as err:
        out.append(str(err))
    else:
        vcpus = int(settings["vcpus"]) if str(settings["vcpus"]).isdigit() else 0
        out += [f"sweep point {key} cannot run here: {why}"
                for key, why in (refusals(planned, vcpus=vcpus) if vcpus else {}).items()]
    if settings["topology"] not in TOPOLOGIES:
        out.append(f"topology must be one of {', '.join(TOPOLOGIES)} (got {settings['topology']})")
    if not HOST_NAME_RE.match(str(settings["hypervisor"])) or str(settings["hypervisor"]) in (".", ".."):
        out.append(f"the hypervisor's inventory name {settings['hypervisor']!r} cannot name its results directory: use "
                   "letters, digits, '_', '.' and '-'")
    try:
        if not 0 <= float(settings["tolerance"]) < 100:
            raise ValueError
    except (TypeError, ValueError):
        out.append(f"tolerance must be a percentage from 0 to below 100 (got {settings['tolerance']})")
    unwritable = results_dir_problem(settings["results_dir"])
    if unwritable:
        out.append(f"results_dir {settings['results_dir']} is not writable ({unwritable}): choose another one "
                   "with -e results_dir=PATH.")
    return out


def controller_root(settings: dict[str, Any]) -> str:
    """Where the controller keeps a lab's state (known_hosts, SSH control sockets, the watchdog's configuration):
    module_utils.lab.default_controller_root for a lab on this machine, a directory of its own below it for each
    remote hypervisor - two hypervisors' labs can have one name (a fleet's hosts in the default namespace, a
    cross-host pair's halves in the root namespace), and one watchdog's configuration written over the other's left
    the first hypervisor without a heartbeat: its guard tore the lab down under the run."""
    root = default_controller_root()
    return f"{root}/{settings['hypervisor']}" if settings["connection"] not in ("", "local") else root


def _same_host(settings: dict[str, Any]) -> dict[str, Any]:
    """One hypervisor boots both guests, runs the matrix and records the run."""
    return {"topology": "same_host", "hosts": [], "side": "", "peer": "", "guests": [name for name, _port in GUESTS],
            "records": True, "server_host": settings["hypervisor"], "client_host": settings["hypervisor"],
            "cables": [], "wire": ""}


def _machine(settings: dict[str, Any]) -> str:
    """Which machine a hypervisor is: the controller for a local connection or an SSH one to its loopback; an SSH
    connection through a ProxyCommand or ProxyJump goes wherever that leads (the nested lab's VMs: each a forwarded
    port on a namespace's loopback), so its address alone does not say - the connection's options do."""
    address = str(settings["address"] or settings["hypervisor"])
    if settings["connection"] in ("", "local"):
        return "the controller"
    if re.search(r"proxy(command|jump)", str(settings["ssh_args"] or ""), re.IGNORECASE):
        return f"{address}:{settings['port'] or 22} via {settings['ssh_args']}"
    if address in ("localhost", "::1") or address.startswith("127."):
        return "the controller"
    return address


def plan_pair(request: dict[str, Any], peers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A cross-host pair, from every hypervisor's request (plan_request's answers by inventory name, in the play's
    order; an empty one: that host failed its own checks): the first boots the server VM, the second the client VM,
    runs the matrix and records the run. Returns REQUEST with its pair (side, guests, who records, the cable to
    lay, the wire's description) and wiring (the NICs the lab uses). A same-host REQUEST comes back unchanged.
    Raises RunModelError with every problem, before anything is touched."""
    settings = request["settings"]
    if settings["topology"] == "same_host":
        return request
    me, names = settings["hypervisor"], list(peers)
    if len(names) != 2 or me not in names:
        raise RunModelError(
            f"topology=cross_host measures VM to VM between two hypervisors, but the play has {len(names)} "
            f"({', '.join(names)}): the first boots the server VM, the second the client VM - limit the play to a "
            "pair (-l host-a,host-b) or use topology=same_host")
    stopped = [n for n in names if not peers[n]]
    if stopped:
        raise RunModelError(f"the other hypervisor of the cross-host pair, {stopped[0]}, stopped at its own checks "
                            "(see its error): the pair cannot run")
    server_host, client_host = names
    other = client_host if me == server_host else server_host
    sides = {n: peers[n]["settings"] for n in names}
    found = [f"{key} differs ({server_host}: {sides[server_host][key]}, {client_host}: {sides[client_host][key]})"
             for key in PAIR_AGREES if sides[server_host][key] != sides[client_host][key]]
    needs = [k for k, used in (("uplink", any(on_bridge(b) for b in request["requested"])),
                               ("macvtap_lower", "macvtap" in request["requested"])) if used]
    in_netns = {n: bool(s["netns"]) for n, s in sides.items()}
    cables: list[dict[str, str]] = []
    if all(in_netns.values()):
        # both labs in namespaces: they can only meet on one machine, through a simulated cable
        if len({_machine(s) for s in sides.values()}) != 1:
            found.append(f"{server_host} and {client_host} keep their labs in namespaces on different machines, "
                         "which no cable joins: a pair of real hosts runs its labs outside namespaces "
                         "(benchmark_netns='') with benchmark_uplink / benchmark_macvtap_lower naming the NICs "
                         "wired to each other")
        if sides[server_host]["netns"] == sides[client_host]["netns"]:
            found.append(f"both hypervisors use the lab namespace {settings['netns']}: give each its own "
                         "(benchmark_netns)")
        wiring = {k: CABLES[k] if k in needs else "" for k in CABLES}
        if me == server_host:
            cables = [{"name": CABLES[k], "netns": settings["netns"], "peer_netns": sides[other]["netns"]}
                      for k in needs]
        wire = (f"a veth pair per wiring between {server_host}'s and {client_host}'s lab namespaces "
                f"({', '.join(CABLES[k] for k in needs)}), standing in for the cable between two hosts' NICs")
        wires = {k: f"the veth pair {CABLES[k]} between {server_host}'s and {client_host}'s lab namespaces" for k in needs}
    elif not any(in_netns.values()):
        for name, side in sides.items():
            found += [f"{name} needs benchmark_{k}: the NIC wired to the other hypervisor "
                      f"({'the bridge uplink of virtio and vhost-net' if k == 'uplink' else 'the lower device of macvtap'})"
                      for k in needs if not side[k]]
            if len(needs) == 2 and side["uplink"] and side["uplink"] == side["macvtap_lower"]:
                found.append(f"{name}'s benchmark_uplink and benchmark_macvtap_lower are both {side['uplink']}: a "
                             "bridge port cannot carry macvtaps - name a second NIC, or run backend=macvtap on its own")
        wiring = {k: settings[k] for k in CABLES}
        wires = {k: f"{server_host}'s {sides[server_host][k]} to {client_host}'s {sides[client_host][k]}" for k in needs}
        wire = "; ".join(wires.values())
    else:
        shown = ", ".join(f"{n}: {s['netns'] or 'none'}" for n, s in sides.items())
        found.append(f"one hypervisor's lab is in a namespace and the other's is not ({shown}): both or neither")
        wiring, wire, wires = {k: settings[k] for k in CABLES}, "", {}
    if found:
        raise RunModelError(f"topology=cross_host: {'; '.join(found)}")
    pair = {"topology": "cross_host", "hosts": names, "side": "server" if me == server_host else "client",
            "peer": other, "guests": ["server"] if me == server_host else ["client"], "records": me == client_host,
            "server_host": server_host, "client_host": client_host, "cables": cables, "wire": wire,
            # each wiring's wire (uplink: the bridge backends', macvtap_lower: macvtap's)
            "wires": wires}
    return dict(request, pair=pair, wiring=wiring)


def extra_vars(settings: dict[str, Any]) -> dict[str, Any]:
    """The playbook's extra vars that reproduce the run: those that differ from the profile's defaults."""
    out: dict[str, Any] = {"backend": settings["backend"], "profile": settings["profile"]}
    out.update({k: int(settings[k]) for k in ("duration", "ping_count", "repeat") if settings[k] is not None})
    if settings.get("pps_mode") not in (None, ""):
        out["pps_mode"] = settings["pps_mode"]
    if float(settings.get("pps_loss_max", LOSS_MAX_PCT)) != LOSS_MAX_PCT:
        out["pps_loss_max"] = float(settings["pps_loss_max"])
    if int(settings["streams"]) != DEFAULT_STREAMS:
        out["streams"] = int(settings["streams"])
    if [int(s) for s in settings["pps_sizes"]] != list(PPS_SIZES):
        out["pps_sizes"] = settings["pps_sizes"]
    if settings["tests"]:
        out["tests"] = settings["tests"]
    if settings["image"]:
        out["image"] = settings["image"]
    if not boolean(settings["native"], strict=False):
        out["native"] = False
    if settings["topology"] != "same_host":
        out["topology"] = settings["topology"]
    return out


def _matrix(settings: dict[str, Any], backends: list[str], native: dict[str, Any] | None = None,
            point: dict[str, Any] | None = None) -> dict[str, Any]:
    """The matrix of BACKENDS (and NATIVE) at a sweep's POINT (its streams and message size; None: no sweep)."""
    factors = (point or {}).get("factors") or {}
    return plan_matrix(backends, str(settings["server"]), str(settings["client"]), int(settings["prefix"]),
                       duration=settings["duration"], ping_count=settings["ping_count"],
                       ping_interval=float(settings["ping_interval"]),
                       streams=int(factors.get("streams", settings["streams"])),
                       pps_sizes=[int(s) for s in settings["pps_sizes"]], selected=list(settings["tests"] or []),
                       margin=int(settings["test_margin"]), repeat=settings["repeat"], native=native,
                       pps_mode=settings["pps_mode"], pps_loss_max=float(settings["pps_loss_max"]),
                       message_size=factors.get("message_size"), point=point_suffix(factors),
                       load_fraction=factors.get("load"))


def sweep_run_problems(sweep: dict[str, list[Any]], settings: dict[str, Any]) -> list[str]:
    """Why a run (not check mode) cannot measure SWEEP with SETTINGS: a cross-host pair, an MTU sweep on links the
    lab does not own (the host's own namespace, a NIC given as uplink or macvtap lower device: their MTU is the
    host's to set)."""
    out = []
    if sweep and settings["topology"] != "same_host":
        out.append("sweep: a cross-host pair does not sweep yet: sweep on one hypervisor's lab (topology=same_host)")
    if "mtu" in sweep:
        owned = [name for name in ("uplink", "macvtap_lower") if str(settings.get(name) or "")]
        if not str(settings["netns"] or ""):
            out.append("sweep: mtu sets the MTU of every link in the lab's namespace, and netns='' is the host's own: "
                       "give the lab a namespace of its own (netns), or run once per MTU")
        if owned:
            out.append(f"sweep: mtu would change the MTU of a NIC of the host's ({' and '.join(owned)}): set its MTU "
                       "yourself and run once per MTU (-e mtu=...)")
    return out


def plan_request(given: dict[str, Any], now: dt.datetime | None = None, store: str = "",
                 check_mode: bool = False) -> dict[str, Any]:
    """The run as asked for, before the hypervisor is touched. Raises RunModelError with every problem. STORE: the
    results store the gate's baseline may be kept in (the hypervisor's runs there count as the tree's). A sweep is
    planned and checked; CHECK_MODE (ansible-playbook --check) lists its points, a run refuses what it cannot
    measure (sweep_run_problems)."""
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise RunModelError(f"run_plan: unknown settings {', '.join(unknown)} (known: {', '.join(SETTINGS)})")
    settings = {**SETTINGS, **given}
    settings["results_dir"] = under_base(settings["results_dir"], settings["results_base"])
    found = problems(settings)
    if found:
        raise RunModelError(f"invalid benchmark settings: {'; '.join(found)}")
    sweep = parse_sweep(settings["sweep"])
    refused = [] if check_mode else sweep_run_problems(sweep, settings)
    if refused:
        raise RunModelError(f"invalid benchmark settings: {'; '.join(refused)}")
    settings.update({k: v if k == "pps_mode" else int(v) for k, v in _given(settings).items()})
    settings["pps_loss_max"] = float(settings["pps_loss_max"])
    settings["native"] = boolean(settings["native"], strict=False)
    settings["fleet"] = boolean(settings["fleet"], strict=False)
    display_dir = settings["display_dir"] or settings["results_dir"]
    top = settings["results_dir"]  # a fleet's whole tree, whose host directories are made below
    # a cross-host pair makes one run (recorded by the client's hypervisor): the results tree keeps its top level
    if settings["fleet"] and settings["topology"] == "same_host":
        # a fleet: every hypervisor's runs and report under its own directory of the results tree
        settings["results_dir"] = os.path.join(settings["results_dir"], settings["hypervisor"])
        display_dir = f"{display_dir.rstrip('/')}/{settings['hypervisor']}"
    if str(settings["against"] or "").strip():
        # the gate's baseline must exist before the lab is built, not after the run
        from ansible_collections.volt.netbench.plugins.plugin_utils.history.regression import resolve, stored_runs  # pylint: disable=import-outside-toplevel
        from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import load_runs  # pylint: disable=import-outside-toplevel
        from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import open_store  # pylint: disable=import-outside-toplevel
        try:
            runs = None
            if store:
                with open_store(store, read_only=True) as opened:
                    runs = stored_runs(load_runs(settings["results_dir"]), opened, str(settings["hypervisor"]))
            resolve(settings["results_dir"], str(settings["against"]), bases=[top, settings["results_base"]], runs=runs)
        except ResultsError as err:
            raise RunModelError(f"invalid benchmark settings: against: {err}") from err
    requested = list(BACKENDS) if settings["backend"] == "all" else [settings["backend"]]
    paths = lab_paths(settings["netns"], controller_root=controller_root(settings))
    ssh = ({"host": str(settings["address"] or settings["hypervisor"]), "port": str(settings["port"] or ""),
            "user": str(settings["user"] or ""), "key": str(settings["key"] or ""), "args": str(settings["ssh_args"] or "")}
           if settings["connection"] not in ("", "local") else {})
    asked = _matrix(settings, requested)
    config = {
        "profile": settings["profile"],
        "duration_s": settings["duration"],
        "ping_count": settings["ping_count"],
        "ping_interval_s": float(settings["ping_interval"]),
        "parallel_streams": int(settings["streams"]),
        "pps_sizes": [int(s) for s in settings["pps_sizes"]],
        "pps_mode": settings["pps_mode"],
        "pps_loss_max_percent": settings["pps_loss_max"],
        "tests": asked["test_names"],
        "repeat": settings["repeat"],
        "iperf3_omit_s": asked["iperf3_omit_s"],
        "mtu": int(settings["mtu"]),
        "netns": settings["netns"],
        "topology": settings["topology"],
        "extra_vars": extra_vars({**SETTINGS, **given}),
        # a sweep's factors and levels (each point's run also records its own point: sweep.point_config)
        **({"sweep": sweep} if sweep else {}),
    }
    return {
        "settings": settings,
        "requested": requested,
        "run_id": new_run_id(now),
        "results_dir": settings["results_dir"],
        "display_dir": display_dir,
        # the name a fleet's host reports under ('' for a hypervisor on its own)
        "fleet_host": settings["hypervisor"] if settings["fleet"] and settings["topology"] == "same_host" else "",
        # how this hypervisor takes part (plan_pair fills a cross-host pair in)
        "pair": _same_host(settings),
        # the NICs the lab's wiring uses: the bridge's uplink and macvtap's lower device ('' = none / built)
        "wiring": {"uplink": settings["uplink"], "macvtap_lower": settings["macvtap_lower"]},
        # a remote hypervisor as Ansible reaches it (the guests' ProxyCommand), and the heartbeat its guard
        # watches (the watchdog refreshes it over the same ssh); both empty for a local one
        "ssh": ssh,
        "heartbeat": {"ssh": ssh_argv(ssh), "path": paths["heartbeat"], "recovered": paths["recovered"],
                      "stale_after": int(settings["heartbeat_timeout"])} if ssh else {},
        "paths": paths,
        # the native reference's namespaces (the watchdog deletes them with every process in them)
        "native_netns": list(paths["native_netns"].values()) if settings["native"] else [],
        "guest_tools": list(GUEST_TOOLS),
        # the files the teardown keeps in every run directory (results.py reads the CPU samples by that name)
        "run_files": {"cpu_samples": CPU_SAMPLES, "console": "console-{guest}.log"},
        # the configuration each backend's run records (its own traffic servers' commands)
        "configs": {b: dict(config, server_commands=[" ".join(c) for c in asked["servers_by_backend"][b]],
                            guest_tuning=" ".join(guest_tuning())) for b in requested},
        "config": config,
        # the sweep's factors and points (one point without a sweep)
        "sweep": {"factors": sweep, "points": points(sweep)},
    }


def data_path(backend: str, run_backends: list[str], macvtap_vhost: bool, pair: dict[str, Any] | None = None) -> str:
    """What BACKEND's data path is, in the report's words (PAIR: a cross-host pair, plan_pair's)."""
    cross = bool(pair) and pair["topology"] == "cross_host"
    bridged = on_bridge(backend) if backend != NATIVE else any(on_bridge(b) for b in run_backends)
    # the wire this backend's traffic crosses (a pair wires the bridge's uplink and macvtap's lower device apart)
    across = ((pair or {}).get("wires") or {}).get("uplink" if bridged else "macvtap_lower") or (pair or {}).get("wire")
    if backend == NATIVE:
        wiring = "the bridge (veth pairs)" if bridged else "the macvtap lower device (macvlan, bridge mode)"
        if cross:
            return (f"two network namespaces, the server's on {pair['server_host']} and the client's on "
                    f"{pair['client_host']}, each on its host's {wiring.replace('the ', '', 1)}, across "
                    f"{across}; no VM: the tools run on the hypervisors")
        return f"two network namespaces on {wiring}, no VM: the tools run on the hypervisor"
    if backend == "virtio":
        text = "tap on a Linux bridge, virtio-net in QEMU's userspace (vhost=off)"
    elif backend == "vhost-net":
        text = "tap on a Linux bridge, virtio-net in the vhost-net kernel thread (vhost=on)"
    elif macvtap_vhost:
        text = "macvtap (bridge mode) on the lower device, virtio-net in the vhost-net kernel thread (vhost=on)"
    else:
        text = "macvtap (bridge mode) on the lower device, virtio-net in QEMU userspace"
    if cross:
        text += f"; server VM on {pair['server_host']}, client VM on {pair['client_host']}, across {across}"
    return text


def host_environment(capabilities: dict[str, Any], image: dict[str, Any] | None = None,
                     now: dt.datetime | None = None) -> dict[str, Any]:
    """The run's environment as the hypervisor (and the guest image) describe it before the guests boot."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return {
        "date": now.strftime("%Y-%m-%d"),
        "host_cpu": f"{capabilities.get('cpu_model', '')} ({capabilities.get('cpu_count', '')} CPUs)",
        "host_ram": capabilities.get("ram", ""),
        "host_nic": "",
        "host_kernel": capabilities.get("kernel", ""),
        "vm_vcpus": "",
        "vm_ram": "",
        "guest_kernel": (image or {}).get("kernel_release", ""),
        "qemu_version": capabilities.get("qemu_version", ""),
        "accelerator": capabilities.get("accelerator", ""),
    }


def _pair_view(pair: dict[str, Any], capabilities: dict[str, Any], pair_capabilities: list[dict[str, Any]],
               hypervisor: str) -> dict[str, dict[str, Any]]:
    """Each hypervisor's capabilities by name (a cross-host pair's two; one host's own otherwise)."""
    if pair["topology"] != "cross_host":
        return {hypervisor: capabilities}
    by_host = {**dict(zip(pair["hosts"], pair_capabilities or [])), hypervisor: capabilities}
    stopped = [h for h in pair["hosts"] if not by_host.get(h)]
    if stopped:
        raise RunModelError(f"the other hypervisor of the cross-host pair, {stopped[0]}, stopped before its preflight "
                            "(see its error): the pair cannot run")
    return {h: by_host[h] for h in pair["hosts"]}


def _decisions(by_host: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A backend runs when every hypervisor of the run can run it; the reason names the host that cannot."""
    if len(by_host) == 1:
        return next(iter(by_host.values())).get("backends") or {}
    out: dict[str, dict[str, Any]] = {}
    for host, caps in by_host.items():
        for backend, decision in (caps.get("backends") or {}).items():
            mine = out.setdefault(backend, {"usable": True, "reason": ""})
            if not decision.get("usable"):
                mine["usable"] = False
                mine["reason"] = "; ".join(r for r in (mine["reason"], f"on {host}: {decision.get('reason', '')}") if r)
    return out


def plan_lab(request: dict[str, Any], capabilities: dict[str, Any], image: dict[str, Any] | None = None,
             now: dt.datetime | None = None, pair_capabilities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The lab of a run, from its request (plan_request's answer, plan_pair's for a cross-host pair) and the
    hypervisor's decisions (hypervisor_capabilities: backends with usable/reason, tools, vhost_net and the
    host's description); a cross-host pair's also from PAIR_CAPABILITIES (both hypervisors', in the pair's
    order): a backend runs when both can run it, the environment shows each host where they differ."""
    settings, paths, pair = request["settings"], request["paths"], request["pair"]
    now = now or dt.datetime.now(dt.timezone.utc)
    by_host = _pair_view(pair, capabilities, pair_capabilities or [], settings["hypervisor"])
    decisions = _decisions(by_host)
    run_backends = [b for b in request["requested"] if (decisions.get(b) or {}).get("usable")]
    unsupported = {b: f"preflight: {d.get('reason', '')}" for b, d in decisions.items() if not d.get("usable")}
    environment = host_environment(capabilities, image, now)
    if len(by_host) > 1:
        shown = {h: host_environment(c, image, now) for h, c in by_host.items()}
        for key in HOST_ENV:
            values = {h: e[key] for h, e in shown.items()}
            environment[key] = (next(iter(values.values())) if len(set(values.values())) == 1
                                else "; ".join(f"{h}: {v}" for h, v in values.items()))
        environment["topology"] = (f"cross-host: server VM on {pair['server_host']}, client VM on "
                                   f"{pair['client_host']}, across {pair['wire']}")
        environment["cpu_sampled"] = f"{pair['client_host']} (the client VM's hypervisor)"
    out: dict[str, Any] = {
        "run_backends": run_backends,
        "unsupported": unsupported,
        # the backends this hypervisor records as not run (a cross-host pair's client records the pair's)
        "not_run": unsupported if pair["records"] else {},
        "environment": environment,
        # the runs of the lab: the backends that run, then the native reference (none where the run is not recorded)
        "runs": [],
        "plan": {},
        "tests": [],
        "guests": [],
        "guest_hosts": {},
        "guest_checks": [],
        "native_endpoints": [],
        "native_servers": [],
        "headers": {},
        "started": now.isoformat(),
        # what the run will not measure although it was asked for, said before the lab starts
        "before_lab": [],
    }
    # the backends this host cannot run, recorded as not run at every point (each point's report names them)
    out["not_run_runs"] = [{"key": run_key(backend, point), "backend": backend, "reason": reason,
                            "config": point_config(point, request["configs"].get(backend) or request["config"])}
                           for point in request["sweep"]["points"] for backend, reason in out["not_run"].items()]
    out["queues"] = 1
    if not run_backends:
        return out
    native = None
    if settings["native"]:
        missing = sorted({t for caps in by_host.values() for t, present in (caps.get("tools") or {}).items()
                          if not present})
        native = {"server_netns": paths["native_netns"]["server"], "client_netns": paths["native_netns"]["client"],
                  "job_dir": paths["native_job_dir"], "missing": missing}
    planned_points = request["sweep"]["points"]
    plans = [(point, _matrix(settings, run_backends, native if point["native"] else None, point))
             for point in planned_points]
    _capacity_once(plans)
    plan = plans[0][1]
    addresses = plan["addresses"]
    by_reason: dict[str, list[str]] = {}
    for name, why in plan["native_unavailable"].items():
        by_reason.setdefault(why, []).append(name)
    out["before_lab"] = [f"the native reference will not run {', '.join(names)}: {why}"
                         for why, names in by_reason.items()]
    macvtap_vhost = all(c.get("vhost_net") == "available" for c in by_host.values())
    owner = {"server": pair["server_host"], "client": pair["client_host"]}
    # the guests' inventory names (distinct per hypervisor in a fleet or a pair, whose labs run at the same time)
    guest_hosts = {name: f"{owner[name]}-{name}" if settings["fleet"] else name for name, _port in GUESTS}
    mine = [name for name, _port in GUESTS if name in pair["guests"]]
    # each guest's data NICs as the guest names them (host_network builds them in the backends' order), with the
    # queues they boot with: a sweep's largest queue count (a tap with as many queues, a macvtap opened as often)
    queues = max([int(p["factors"].get("queues", 1)) for p in planned_points] + [1])
    # a queue count above the guests' vCPUs (benchmark_vcpus, or the qemu_guest role's default for the
    # accelerator: 4 with KVM, 1 under TCG) is refused before the lab is built
    vcpus = int(settings["vcpus"] or 0) or (4 if capabilities.get("accelerator") == "kvm" else 1)
    refused = refusals(planned_points, vcpus=vcpus)
    if refused:
        raise RunModelError("; ".join(f"sweep point {key} cannot run here: {why}" for key, why in refused.items())
                            + (" - set -e benchmark_vcpus=N (at most the host's CPUs)" if not settings["vcpus"] else ""))
    nics = [{"name": data_nic_name(index), "backend": backend, "queues": queues}
            for index, backend in enumerate(run_backends)]
    # the native reference's namespaces exist where it follows the points (every point or none: the same factors)
    tests = _interleaved(plans, settings["repeat"], nics, [settings["netns"]] + (
        list(paths["native_netns"].values()) if NATIVE in plan["paths"] else []))
    out.update(
        runs=[run_key(path, point) for point, point_plan in plans for path in point_plan["paths"]]
        if pair["records"] else [],
        plan=plan,
        queues=queues,
        # the matrix runs from the client: where it is booted
        tests=tests if "client" in mine else [],
        macvtap_vhost=macvtap_vhost,
        # index: the guest's place in the lab (its MACs), also when the other guest boots on another hypervisor
        guests=[{"name": name, "host": guest_hosts[name], "ssh_port": port, "index": index,
                 "data_addresses": {b: addresses[b][f"{name}_cidr"] for b in run_backends}}
                for index, (name, port) in enumerate(GUESTS) if name in mine],
        guest_hosts=guest_hosts,
        # each guest of this hypervisor checked (the client first), the traffic servers started on the server
        # both tuned first (matrix.GUEST_SYSCTLS)
        guest_checks=[{"name": name, "servers": [guest_tuning()] + (plan["server_commands"] if name == "server" else [])}
                      for name in reversed(mine)],
        native_endpoints=[{"name": name, "netns": paths["native_netns"][name],
                           "address": addresses[NATIVE][f"{name}_cidr"]}
                          for name in mine] if NATIVE in plan["paths"] else [],
        native_servers=plan["servers_by_backend"].get(NATIVE, []) if "server" in mine else [],
    )
    for point, point_plan in plans if pair["records"] else []:
        for path in point_plan["paths"]:
            config = request["configs"].get(path) or request["config"]
            if path == NATIVE:
                config = dict(config, server_commands=[" ".join(c) for c in plan["servers_by_backend"][NATIVE]],
                              native_tuning=native_tuning())
            env = dict(environment, data_path=data_path(path, run_backends, macvtap_vhost, pair),
                       data_subnet=addresses[path]["subnet"], lab_backends=run_backends)
            if path == NATIVE:
                env["native_unavailable"] = plan["native_unavailable"]
            out["headers"][run_key(path, point)] = {
                "backend": path, "planned": point_plan["planned_by_backend"][path],
                "config": point_config(point, config), "environment": env, "started": out["started"]}
    return out


def _capacity_once(plans: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """A load sweep's loss-bounded rate is searched once per path and combination of the other factors' levels - at
    the point of the load's first level, in its first repetition - and every load point of that combination paces
    its load from it (``load_rate.run``: that point's run). Edits PLANS in place (their tests and planned lists)."""
    if not any("load" in point["factors"] for point, _plan in plans):
        return
    first_level = plans[0][0]["factors"]["load"]
    by_others = {}
    for point, _plan in plans:
        others = {k: v for k, v in point["factors"].items() if k != "load"}
        if point["factors"]["load"] == first_level:
            by_others[json.dumps(others, sort_keys=True)] = point
    for point, plan in plans:
        home = by_others[json.dumps({k: v for k, v in point["factors"].items() if k != "load"}, sort_keys=True)]

        def kept(test: dict[str, Any], home: dict[str, Any] = home, point: dict[str, Any] = point) -> bool:
            return test["name"] != CAPACITY or (point is home and test["repetition"] == 1)

        plan["tests"] = [t for t in plan["tests"] if kept(t)]
        plan["planned_by_backend"] = {b: [t for t in planned if kept(t)]
                                      for b, planned in plan["planned_by_backend"].items()}
        for test in plan["tests"]:
            if test.get("load_rate"):
                test["load_rate"] = dict(test["load_rate"], run=run_key(test["backend"], home))


def _interleaved(plans: list[tuple[dict[str, Any], dict[str, Any]]], repeat: int, nics: list[dict[str, Any]],
                 namespaces: list[str]) -> list[dict[str, Any]]:
    """The matrix of every point of a sweep (PLANS: each point with its plan_matrix), in the sweep's order: for each
    test, each repetition goes round the points and, inside a point, round the backends (sweep.order). The first
    entry at a point carries ``set_point``: the guests' command for it (on their NICS), and the MTU the lab's
    NAMESPACES take. Without a sweep: the one plan's matrix as it is."""
    if len(plans) == 1 and not plans[0][0]["factors"]:
        return plans[0][1]["tests"]
    by_point = {point["key"]: {(t["name"], t["repetition"]): [] for t in plan["tests"]} for point, plan in plans}
    for point, plan in plans:
        for test in plan["tests"]:
            by_point[point["key"]][(test["name"], test["repetition"])].append(dict(test, point=point["key"]))
    tests, current = [], None
    # a load sweep's capacity searches first: every load point paces its load from one
    names = plans[0][1]["test_names"]
    for name in [n for n in names if n == CAPACITY] + [n for n in names if n != CAPACITY]:
        for k in range(1, repeat + 1):
            for point, _plan in plans:
                for test in by_point[point["key"]].get((name, k), []):
                    if point["key"] != current:
                        factors = point["factors"]
                        test["set_point"] = {"key": point["key"], "guest_command": guest_command(factors, nics),
                                             "mtu": factors.get("mtu"), "netns": namespaces if "mtu" in factors else []}
                        current = point["key"]
                    tests.append(test)
    planned = sum(t["duration_s"] + t["extra_s"] for t in tests)
    left = planned
    for position, test in enumerate(tests, 1):
        left -= test["duration_s"] + test["extra_s"]
        test.update(position=position, total=len(tests), planned_s=planned, remaining_s=left)
    return tests
