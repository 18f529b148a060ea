"""A fork server for the crash test: one interpreter imports the gateway once, then forks a fresh
`greenpoints merchant serve` process for every restart.

Each child is a real, separate process running the command line's entry point (`cli.main.main`)
with its own database connections, threads and HTTP server, killed with a real SIGKILL; only the
imports (seconds of CPU on a busy machine) are done once instead of at every restart. The cold
start itself is exercised by the other gateway tests, which run the console script.

Protocol on stdin/stdout, one line each: `start PORT LOG FAILPOINT|-` → `PID`;
`poll PID` → `alive` | `dead CODE`; `kill PID` → `dead CODE`.
"""

from __future__ import annotations

import os
import signal
import sys


def _child(port: str, log: str, failpoint: str) -> None:
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    if failpoint == "-":
        os.environ.pop("GREENPOINTS_GATEWAY_FAILPOINT", None)
    else:
        os.environ["GREENPOINTS_GATEWAY_FAILPOINT"] = failpoint
    from cli.main import main

    code = 1
    try:
        code = main(["merchant", "serve", "--port", port])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


_ended: dict[int, str] = {}


def _status(pid: int, wait: bool) -> str:
    if pid in _ended:
        return _ended[pid]
    done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
    if done == 0:
        return "alive"
    _ended[pid] = f"dead {os.waitstatus_to_exitcode(status)}"
    return _ended[pid]


def main() -> None:
    # Everything a gateway imports, once (no threads are started by importing them).
    import uvicorn  # noqa: F401

    import cli.main  # noqa: F401
    import merchant.gateway.app
    import merchant.gateway.service  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "start":
            pid = os.fork()
            if pid == 0:
                _child(*args)
            answer = str(pid)
        elif command == "poll":
            answer = _status(int(args[0]), wait=False)
        elif command == "kill":
            pid = int(args[0])
            if pid not in _ended:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:  # not yet its own group leader
                    os.kill(pid, signal.SIGKILL)
            answer = _status(pid, wait=True)
        else:
            answer = f"error unknown command {command}"
        print(answer, flush=True)


if __name__ == "__main__":
    main()
