# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run's measurements say, decided once for the report, the gate and the history: each table's cell
per backend from the per-repetition values (``cells``), each comparison's verdict in one corrected family
(``verdicts``) and the findings, hierarchy and recommendations in words (``claims``).
Imports: core, statistics, parsers, measure.
"""
