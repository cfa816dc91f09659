# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs over time: the history of a results tree or store and its change points (``history``), the
results store on SQLite or PostgreSQL with one schema (``store``), and the regression gate that compares a run with
its baseline (``regression``). Imports: core, statistics, parsers, measure, analysis.
"""
