# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's logic, in Python; the plugins are thin calls into it. Grouped by responsibility, each group
importing only the groups before it in LAYERS (tests/unit/plugins/plugin_utils/test_layers.py checks every import):

core -> statistics -> parsers -> measure -> analysis -> history -> report -> run
"""

LAYERS = ("core", "statistics", "parsers", "measure", "analysis", "history", "report", "run")
