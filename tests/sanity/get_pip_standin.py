"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test sanity downloads get-pip.py from ci-files.testing.ansible.com, which is not
reachable from a closed network. It uses a cached copy when one exists at
~/.ansible/test/cache/get_pip_<version>.py and runs it inside each fresh test venv with pip's
arguments, expecting pip to be installed afterwards. This does the same with the standard
library's ensurepip, then hands the arguments to that pip.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys


GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process; the real pip run must see
    # the machine's index and certificate settings again
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
    # --no-setuptools / --no-wheel are get-pip.py's own options, not pip's
    args = [a for a in sys.argv[1:] if a and a not in GET_PIP_ONLY]
    if not args:
        return 0
    return subprocess.call([sys.executable, "-m", "pip", "install", *args], env=env)


if __name__ == "__main__":
    sys.exit(main())
