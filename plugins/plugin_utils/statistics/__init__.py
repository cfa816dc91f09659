# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The numbers behind every claim (``stats``): percentiles and summaries, estimates with their t intervals,
Fieller ratios, Welch and margin tests, the Holm family, ranks. Pure scipy/numpy/statsmodels on lists of values: it
knows no test, backend or run. Imports nothing from the other groups.
"""
