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
import os
import re
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS, on_bridge
from ansible_collections.volt.netbench.plugins.module_utils.lab import lab_paths
from ansible_collections.volt.netbench.plugins.plugin_utils.dry_run import results_dir_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.inputs import benchmark_problems
from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import NATIVE, PPS_SIZES, plan_matrix
from ansible_collections.volt.netbench.plugins.plugin_utils.results import CPU_SAMPLES, new_run_id

# The profiles: what duration, ping_count and repeat mean when a run does not set them.
PROFILES = {
    "default": {"duration": 30, "ping_count": 1000, "repeat": 3},
    "quick": {"duration": 5, "ping_count": 200, "repeat": 1},
}
DEFAULT_STREAMS = 8
# Checked on both guests before anything is measured (the clients and servers of the matrix).
GUEST_TOOLS = ["iperf3", "sockperf", "netperf", "netserver", "ping"]
# The guests of a lab and their management SSH ports on the hypervisor's loopback.
GUESTS = (("server", 10022), ("client", 10023))

# The settings the benchmark role passes (its variables without the benchmark_ prefix).
SETTINGS = {
    "backend": "all", "profile": "default", "results_dir": "results", "display_dir": "", "duration": None,
    "ping_count": None, "repeat": None, "ping_interval": 0.01, "streams": DEFAULT_STREAMS,
    "pps_sizes": list(PPS_SIZES), "tests": [], "baseline": "virtio", "native": True, "netns": "vnb-lab",
    "mtu": 1500, "server": "198.18.0.1", "client": "198.18.0.2", "prefix": 24, "vcpus": 0, "memory_mb": 0,
    "image": "", "test_margin": 60, "fleet": False,
    # not a role variable: the hypervisor's inventory name (inventory_hostname)
    "hypervisor": "localhost",
}
# The hypervisor's name becomes a directory of the results tree and part of the guests' inventory names.
HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RunModelError(ValueError):
    """The settings cannot make a run; the message lists every problem."""


def _given(settings: dict[str, Any]) -> dict[str, Any]:
    """The profile's duration, ping_count and repeat where the run did not set its own (as given)."""
    profile = PROFILES.get(settings["profile"], PROFILES["default"])
    return {k: profile[k] if settings.get(k) is None else settings[k] for k in ("duration", "ping_count", "repeat")}


def problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with SETTINGS (empty when a run may start): the input check of inputs.py, the
    profile and backend names, and whether the controller can write the results directory."""
    out = []
    if settings["profile"] not in PROFILES:
        out.append(f"profile must be one of {', '.join(PROFILES)} (got {settings['profile']})")
    if settings["backend"] not in (*BACKENDS, "all"):
        out.append(f"backend must be one of {', '.join(BACKENDS)} or all (got {settings['backend']})")
    out += benchmark_problems({
        **_given(settings),
        **{k: settings[k] for k in ("ping_interval", "streams", "mtu", "pps_sizes", "tests", "netns", "vcpus",
                                    "memory_mb", "server", "client", "prefix")},
    })
    if not HOST_NAME_RE.match(str(settings["hypervisor"])) or str(settings["hypervisor"]) in (".", ".."):
        out.append(f"the hypervisor's inventory name {settings['hypervisor']!r} cannot name its results directory: use "
                   "letters, digits, '_', '.' and '-'")
    unwritable = results_dir_problem(settings["results_dir"])
    if unwritable:
        out.append(f"results_dir {settings['results_dir']} is not writable ({unwritable}): choose another one "
                   "with -e results_dir=PATH.")
    return out


def extra_vars(settings: dict[str, Any]) -> dict[str, Any]:
    """The playbook's extra vars that reproduce the run: those that differ from the profile's defaults."""
    out: dict[str, Any] = {"backend": settings["backend"], "profile": settings["profile"]}
    out.update({k: int(settings[k]) for k in ("duration", "ping_count", "repeat") if settings[k] is not None})
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
    return out


def _matrix(settings: dict[str, Any], backends: list[str], native: dict[str, Any] | None = None) -> dict[str, Any]:
    return plan_matrix(backends, str(settings["server"]), str(settings["client"]), int(settings["prefix"]),
                       duration=settings["duration"], ping_count=settings["ping_count"],
                       ping_interval=float(settings["ping_interval"]), streams=int(settings["streams"]),
                       pps_sizes=[int(s) for s in settings["pps_sizes"]], selected=list(settings["tests"] or []),
                       margin=int(settings["test_margin"]), repeat=settings["repeat"], native=native)


def plan_request(given: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """The run as asked for, before the hypervisor is touched. Raises RunModelError with every problem."""
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise RunModelError(f"run_plan: unknown settings {', '.join(unknown)} (known: {', '.join(SETTINGS)})")
    settings = {**SETTINGS, **given}
    found = problems(settings)
    if found:
        raise RunModelError(f"invalid benchmark settings: {'; '.join(found)}")
    settings.update({k: int(v) for k, v in _given(settings).items()})
    settings["native"] = boolean(settings["native"], strict=False)
    settings["fleet"] = boolean(settings["fleet"], strict=False)
    display_dir = settings["display_dir"] or settings["results_dir"]
    if settings["fleet"]:
        # a fleet: every hypervisor's runs and report under its own directory of the results tree
        settings["results_dir"] = os.path.join(settings["results_dir"], settings["hypervisor"])
        display_dir = f"{display_dir.rstrip('/')}/{settings['hypervisor']}"
    requested = list(BACKENDS) if settings["backend"] == "all" else [settings["backend"]]
    paths = lab_paths(settings["netns"])
    asked = _matrix(settings, requested)
    config = {
        "profile": settings["profile"],
        "duration_s": settings["duration"],
        "ping_count": settings["ping_count"],
        "ping_interval_s": float(settings["ping_interval"]),
        "parallel_streams": int(settings["streams"]),
        "pps_sizes": [int(s) for s in settings["pps_sizes"]],
        "tests": asked["test_names"],
        "repeat": settings["repeat"],
        "iperf3_omit_s": asked["iperf3_omit_s"],
        "mtu": int(settings["mtu"]),
        "netns": settings["netns"],
        "extra_vars": extra_vars({**SETTINGS, **given}),
    }
    return {
        "settings": settings,
        "requested": requested,
        "run_id": new_run_id(now),
        "results_dir": settings["results_dir"],
        "display_dir": display_dir,
        # the name a fleet's host reports under ('' for a hypervisor on its own)
        "fleet_host": settings["hypervisor"] if settings["fleet"] else "",
        "paths": paths,
        # the native reference's namespaces (the watchdog deletes them with every process in them)
        "native_netns": list(paths["native_netns"].values()) if settings["native"] else [],
        "guest_tools": list(GUEST_TOOLS),
        # the files the teardown keeps in every run directory (results.py reads the CPU samples by that name)
        "run_files": {"cpu_samples": CPU_SAMPLES, "console": "console-{guest}.log"},
        # the configuration each backend's run records (its own traffic servers' commands)
        "configs": {b: dict(config, server_commands=[" ".join(c) for c in asked["servers_by_backend"][b]])
                    for b in requested},
        "config": config,
    }


def data_path(backend: str, run_backends: list[str], macvtap_vhost: bool) -> str:
    """What BACKEND's data path is, in the report's words."""
    if backend == NATIVE:
        if any(on_bridge(b) for b in run_backends):
            return "two network namespaces on the bridge (veth pairs), no VM: the tools run on the hypervisor"
        return ("two network namespaces on the macvtap lower device (macvlan, bridge mode), no VM: the tools run "
                "on the hypervisor")
    if backend == "virtio":
        return "tap on a Linux bridge, virtio-net in QEMU's userspace (vhost=off)"
    if backend == "vhost-net":
        return "tap on a Linux bridge, virtio-net in the vhost-net kernel thread (vhost=on)"
    if macvtap_vhost:
        return "macvtap (bridge mode) on the lower device, virtio-net in the vhost-net kernel thread (vhost=on)"
    return "macvtap (bridge mode) on the lower device, virtio-net in QEMU userspace"


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


def plan_lab(request: dict[str, Any], capabilities: dict[str, Any], image: dict[str, Any] | None = None,
             now: dt.datetime | None = None) -> dict[str, Any]:
    """The lab of a run, from its request (plan_request's answer) and the hypervisor's decisions
    (hypervisor_capabilities: backends with usable/reason, tools, vhost_net and the host's description)."""
    settings, paths = request["settings"], request["paths"]
    now = now or dt.datetime.now(dt.timezone.utc)
    decisions = capabilities.get("backends") or {}
    run_backends = [b for b in request["requested"] if (decisions.get(b) or {}).get("usable")]
    unsupported = {b: f"preflight: {d.get('reason', '')}" for b, d in decisions.items() if not d.get("usable")}
    environment = host_environment(capabilities, image, now)
    out: dict[str, Any] = {
        "run_backends": run_backends,
        "unsupported": unsupported,
        "environment": environment,
        # the runs of the lab: the backends that run, then the native reference
        "runs": [],
        "plan": {},
        "guests": [],
        "guest_hosts": {},
        "native_endpoints": [],
        "headers": {},
        "started": now.isoformat(),
    }
    if not run_backends:
        return out
    native = None
    if settings["native"]:
        tools = capabilities.get("tools") or {}
        native = {"server_netns": paths["native_netns"]["server"], "client_netns": paths["native_netns"]["client"],
                  "job_dir": paths["native_job_dir"],
                  "missing": [t for t, present in tools.items() if not present]}
    plan = _matrix(settings, run_backends, native)
    addresses = plan["addresses"]
    macvtap_vhost = capabilities.get("vhost_net") == "available"
    guest_hosts = {name: f"{settings['hypervisor']}-{name}" if settings["fleet"] else name for name, _port in GUESTS}
    out.update(
        runs=plan["paths"],
        plan=plan,
        macvtap_vhost=macvtap_vhost,
        guests=[{"name": name, "host": guest_hosts[name], "ssh_port": port,
                 "data_addresses": {b: addresses[b][f"{name}_cidr"] for b in run_backends}} for name, port in GUESTS],
        # the guests' inventory names (distinct per hypervisor in a fleet, whose labs run at the same time)
        guest_hosts=guest_hosts,
        native_endpoints=[{"name": name, "netns": paths["native_netns"][name], "address": addresses[NATIVE][f"{name}_cidr"]}
                          for name in ("server", "client")] if NATIVE in plan["paths"] else [],
    )
    for path in plan["paths"]:
        config = request["configs"].get(path) or request["config"]
        if path == NATIVE:
            config = dict(config, server_commands=[" ".join(c) for c in plan["servers_by_backend"][NATIVE]])
        env = dict(environment, data_path=data_path(path, run_backends, macvtap_vhost),
                   data_subnet=addresses[path]["subnet"], lab_backends=run_backends)
        if path == NATIVE:
            env["native_unavailable"] = plan["native_unavailable"]
        out["headers"][path] = {"backend": path, "planned": plan["planned_by_backend"][path], "config": config,
                                "environment": env, "started": out["started"]}
    return out
