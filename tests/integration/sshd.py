"""A remote hypervisor for the tests: an SSH server (asyncssh) on this machine's loopback that runs every command
it is asked to as the user running it, with SFTP for Ansible's file transfers. The controller reaches "the
hypervisor" over real SSH - its own connection, the guests' ProxyCommand through it, the watchdog's heartbeat -
while everything still runs here.

    python sshd.py PORT HOST_KEY AUTHORIZED_KEYS COMMAND_LOG
(prints "listening" once it accepts connections; every command it runs is appended to COMMAND_LOG)
"""

from __future__ import annotations

import asyncio
import sys

import asyncssh


async def _copy(reader, writer, close: bool) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            if hasattr(writer, "drain"):
                await writer.drain()
    except (BrokenPipeError, ConnectionResetError, asyncssh.Error):
        pass  # the command stopped reading (it exited): the client's remaining input is dropped, as sshd does
    finally:
        if close:
            try:
                writer.close()
            except (OSError, asyncssh.Error):
                pass


COMMAND_LOG = ""


async def run_command(process: asyncssh.SSHServerProcess) -> None:
    """Run the session's command (a shell when there is none), its streams relayed as bytes, and send its exit
    status once its output is out."""
    with open(COMMAND_LOG, "a", encoding="utf-8") as log:
        log.write(f"{process.command}\n")
    proc = await asyncio.create_subprocess_shell(process.command or "exec /bin/sh", stdin=asyncio.subprocess.PIPE,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                 start_new_session=True)
    feed = asyncio.ensure_future(_copy(process.stdin, proc.stdin, close=True))
    await asyncio.gather(_copy(proc.stdout, process.stdout, close=False),
                         _copy(proc.stderr, process.stderr, close=False))
    status = await proc.wait()
    feed.cancel()
    process.exit(status if status >= 0 else 128 - status)


async def serve(port: int, host_key: str, authorized_keys: str) -> None:
    await asyncssh.create_server(asyncssh.SSHServer, "127.0.0.1", port, server_host_keys=[host_key],
                                 authorized_client_keys=authorized_keys, process_factory=run_command,
                                 encoding=None, sftp_factory=True, allow_scp=True, keepalive_interval=0)
    print("listening", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    COMMAND_LOG = sys.argv[4]
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
