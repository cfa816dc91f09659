#!/usr/bin/env bash
# The collection's documentation site, built the way the Ansible documentation site builds a collection's: the
# guides (docs/docsite/rst, listed in docs/docsite/extra-docs.yml) and a reference of every module, plugin and role
# that antsibull-docs generates from their own documentation (DOCUMENTATION, meta/argument_specs.yml), rendered by
# Sphinx with the Ansible theme; warnings are errors. Offline: no intersphinx inventory is fetched. Sets itself up
# (the venv's documentation tools are the test tools').
#   ./scripts/docs.sh [DEST]    the site in DEST/build/html/index.html (DEST: .docs in the checkout)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VNB_TESTS=1
# shellcheck source=scripts/bootstrap.sh
source "$here/bootstrap.sh"
cd "$VNB_ROOT"
dest=$(realpath -m "${1:-$VNB_ROOT/.docs}")
# DEST is emptied first: only a directory this script made (its marker inside) or an empty one
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ] && [ ! -f "$dest/.volt-netbench-docs" ]; then
  die "$dest is not empty and not a documentation build of this script: name another directory"
fi
rm -rf "$dest"
mkdir -p "$dest"
touch "$dest/.volt-netbench-docs"
export ANSIBLE_COLLECTIONS_PATH="$VNB_ROOT/.collections"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$dest" \
  --project volt.netbench --copyright "volt.netbench contributors" --title volt.netbench volt.netbench >/dev/null
# No network: instead of the inventories the generated configuration fetches (docs.python.org, docs.ansible.com),
# one made here of the Ansible documentation's labels the generated pages link to (a label missing here fails the
# build: add it with its page on docs.ansible.com)
python3 - "$dest/ansible_devel.inv" <<'INVENTORY'
import sys
import zlib

LABELS = [  # label, page#anchor under https://docs.ansible.com/projects/ansible/devel/, title
    ("action_plugins", "plugins/action.html#action-plugins", "Action plugins"),
    ("callback_plugins", "plugins/callback.html#callback-plugins", "Callback plugins"),
    ("common_return_values", "reference_appendices/common_return_values.html#common-return-values",
     "Return Values"),
    ("ansible_configuration_settings", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    *((f"ansible_collections.ansible.builtin.{m}_module",
       f"collections/ansible/builtin/{m}_module.html#ansible-collections-ansible-builtin-{m}-module",
       f"ansible.builtin.{m} module") for m in ("fetch", "slurp")),
]
lines = "".join(f"{label} std:label -1 {uri} {title}\n" for label, uri, title in LABELS)
with open(sys.argv[1], "wb") as out:
    out.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(lines.encode()))
INVENTORY
echo "intersphinx_mapping = {'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv')}" \
  >> "$dest/conf.py"
"$dest/build.sh"
echo "volt.netbench documentation: $dest/build/html/index.html"
