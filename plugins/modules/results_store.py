#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.results_store runs on the controller (plugins/action/results_store.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: results_store
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Set up a results store and import results trees into it
description:
  - A results store keeps every recorded run beyond the results directory it was written to - an AWX job's dies
    with its container - for the regression gate, the history and dashboards. It is a PostgreSQL database (a
    fleet's, an AWX site's; psycopg 3) or an SQLite file, with the same schema (C(vnb_runs), C(vnb_cells),
    C(vnb_values), C(vnb_verdicts); versioned in C(vnb_schema)).
  - Brings the store's schema up to date (migrations in order, once, also when several controllers open it at
    once), then with O(import_dir) writes every run of a results tree into it - a single host's tree
    (C(<backend>/<run id>/)) as O(host), a fleet's (C(<host>/<backend>/<run id>/)) by its host directories.
    Importing a run the store holds already replaces it - a tree imported twice is imported once.
  - Names are checked where they are read (run ids, backends, host names), in the tree and in the store.
  - Runs on the controller.
options:
  store:
    description:
      - The store - a PostgreSQL DSN (C(postgresql://user@db.example/vnb) or C(host=db.example dbname=vnb
        user=vnb)) or the path of an SQLite file (made when missing).
      - A DSN with a password belongs in the environment (C(VOLT_NETBENCH_STORE)), not in extra vars.
    type: str
    required: true
  import_dir:
    description: A results tree whose runs are written into the store.
    type: path
  host:
    description: The host a single host's tree is kept under (default C(localhost), the local lab's).
    type: str
  export_dir:
    description:
      - Write what a report of each host counts into this results tree, in a fleet's layout
        (C(<host>/<backend>/<run id>/) with run.json, samples.jsonl and rtts.json) - per backend its newest run and
        its newest run with data, and every backend's run of the host's newest run id with data - so that
        M(volt.netbench.report) renders every host's report and the fleet report from the store alone (runs other
        controllers recorded included; their raw files stay where they are, which run.json names). A run directory
        that exists already is left as it is.
    type: path
  hosts:
    description: The hosts O(export_dir) gets (default every host the store holds runs of).
    type: list
    elements: str
attributes:
  check_mode:
    support: none
    description: Touches nothing in check mode.
  diff_mode:
    support: none
    description: No diff.
seealso:
  - module: volt.netbench.record_run
  - module: volt.netbench.compare_runs
"""

EXAMPLES = r"""
- name: Keep today's results tree in the fleet's store
  volt.netbench.results_store:
    store: "{{ lookup('ansible.builtin.env', 'VOLT_NETBENCH_STORE') }}"
    import_dir: /srv/volt-netbench/results
"""

RETURN = r"""
migrated:
  description: The schema versions applied now (empty when the store was up to date).
  returned: success
  type: list
  elements: int
schema:
  description: The schema version of the store.
  returned: success
  type: int
imported:
  description: With O(import_dir) - runs imported, skipped (not readable runs) and hosts.
  returned: success
  type: dict
exported:
  description: With O(export_dir) - the runs written per host (C(BACKEND/RUN_ID)).
  returned: success
  type: dict
runs:
  description: How many runs the store holds.
  returned: success
  type: int
hosts:
  description: The hosts the store holds runs of.
  returned: success
  type: list
  elements: str
"""
