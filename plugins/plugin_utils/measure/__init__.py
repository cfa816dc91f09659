# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run's measurement: which tests a run has and how each is planned (``matrix``, ``inputs``,
``dry_run``, ``survey``), the sweeps' factors and points (``sweep``), the loss-bounded packet-rate search
(``pps_search``), how a test is started and collected on a guest and what its outcome is called (``run_control``),
the lab's guests as an inventory (``guest_inventory``, ``nested_lab``), and what a run recorded: its run
directories, run.json and the raw files read back (``results``), the closing summary (``summary``).
Imports: core, statistics, parsers.
"""
