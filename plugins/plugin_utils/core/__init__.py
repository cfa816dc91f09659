# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helpers every other group may use and that use none of them: the collection's errors (ParseError, ...),
files written atomically and checked names (``files``), the thin base of the action plugins (``action_base``) and
the call of a filter plugin into its Python (``filter_call``). Imports nothing from the other groups.
"""
