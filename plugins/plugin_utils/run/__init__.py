# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The top: the run as one model decided before anything is touched (``run_model``: settings, profiles,
backends, the lab's plan, the gate's baseline) and the reaper of runs whose ansible-playbook disappeared
(``reaper``). Imports every other group; nothing imports it but the plugins.
"""
