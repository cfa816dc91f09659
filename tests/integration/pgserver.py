"""A throwaway PostgreSQL server for the tests: a cluster made with the distribution's initdb in a temporary
directory, listening on a Unix socket there only (no TCP port), stopped and removed afterwards. Run as root, the
server runs as the distribution's ``postgres`` user (PostgreSQL refuses root); the tests connect as the cluster's
superuser ``volt`` (trust authentication on a socket no other user can reach: the directory is 0700)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


def server_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PgServer:
    """Start with :meth:`start`, connect with :attr:`dsn`, end with :meth:`stop`."""

    def __init__(self) -> None:
        self.bin = server_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server installed: scripts/test.sh installs it "
                               "(apt-get install postgresql-15)")
        self.base = Path(tempfile.mkdtemp(prefix="vnb-pg-"))
        self.data, self.socket, self.log = self.base / "data", self.base / "socket", self.base / "server.log"
        self.user = "postgres" if os.geteuid() == 0 else ""
        self.dsn = f"host={self.socket} dbname=postgres user=volt"

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(prefix + list(argv), check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> "PgServer":
        self.socket.mkdir()
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.base, self.socket):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.base, 0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "volt", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        options = f"-c listen_addresses='' -k {self.socket} -c fsync=off -c full_page_writes=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        return self

    def createdb(self, name: str) -> str:
        """A new empty database; returns its DSN."""
        self._run(str(self.bin / "createdb"), "-h", str(self.socket), "-U", "volt", name)
        return f"host={self.socket} dbname={name} user=volt"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
