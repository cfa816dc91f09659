# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each tool's real output (every released format) into plain dicts: ``iperf3`` (-J), ``ping`` (iputils and
BusyBox), ``sockperf`` (summary and --full-log), ``netperf`` (omni CSV); ``_common`` their shared checks. A parser
raises ParseError with what it could not read, never guesses. Imports: core, statistics (percentiles).
"""
