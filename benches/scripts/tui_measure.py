#!/usr/bin/env python3
"""Measures the workstation as a doctor meets it, through a real pseudo-terminal:

  * start to the first frame (the login screen) against a running server;
  * resident memory after paging through N patients of the list.

Usage: tui_measure.py SYNAPSE_BINARY SERVER_URL EMAIL PASSWORD [PATIENTS_TO_PAGE]
The server must already run (e.g. `synapse serve` over a seeded database). Prints one JSON line.
"""
import json
import os
import pty
import select
import sys
import time


def read_until(fd, needle, timeout):
    """Reads from the pty until `needle` (bytes) appears; returns the elapsed seconds."""
    start = time.monotonic()
    seen = b""
    while time.monotonic() - start < timeout:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if needle in seen:
                return time.monotonic() - start, seen
            seen = seen[-65536:]
    raise SystemExit(f"timed out waiting for {needle!r}")


LOADED = []


def drain(fd, seconds):
    """Reads output for `seconds`, remembering the list's "Patients · N of M" counts."""
    import re
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            for match in re.finditer(rb"Patients \xc2\xb7 (\d+) of", chunk):
                LOADED.append(int(match.group(1)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    binary, server, email, password = sys.argv[1:5]
    to_page = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"})
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(binary, [binary, "--server", server, "--token-store", "memory"], env)
    import fcntl, struct, termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    first_frame, _ = read_until(fd, b"Log in to Synapse", 10)
    first_frame = time.monotonic() - started
    os.write(fd, email.encode() + b"\t" + password.encode() + b"\r")
    read_until(fd, b"Patients", 10)
    drain(fd, 0.5)
    # PgDn moves a page of rows; the list fetches pages of 50 ahead of the selection.
    page_rows = 32
    presses = to_page // page_rows + 1
    for _ in range(presses):
        os.write(fd, b"\x1b[6~")
        # Give the list time to fetch the next page before the next key.
        drain(fd, 0.03)
    drain(fd, 2.0)
    rss = rss_kib(pid)
    os.write(fd, b"\x03")
    drain(fd, 0.5)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    print(json.dumps({
        "start_to_login_frame_ms": round(first_frame * 1000, 1),
        "page_down_presses": presses,
        "rss_mib_after_paging": round(rss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
