#!/usr/bin/env python3
"""Does a failed login take as long for an email without an account as for one with?

    benches/scripts/login_timing.py BINARY [ROUNDS]

Starts BINARY's server on a fresh demo database (lockout and login rate limits raised past the
run, so every attempt reaches the password check), then alternates wrong-password logins to an
account that exists (doc@demo.com) and to emails that do not, ROUNDS of each (default 200), one
at a time, and prints the median, the quartiles and the difference of the medians relative to
the spread. The bare `/health` round trip of the same run is printed for scale.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 18690


def call(conn, method, path, body=None):
    headers = {"content-type": "application/json"} if body is not None else {}
    started = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    reply = conn.getresponse()
    reply.read()
    return reply.status, (time.perf_counter() - started) * 1000


def summary(name, times):
    q = statistics.quantiles(times, n=4)
    print(f"{name:28} median {statistics.median(times):8.3f} ms   quartiles {q[0]:8.3f} – {q[2]:8.3f} ms   n={len(times)}")


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    work = tempfile.mkdtemp(prefix="login-timing-")
    env = dict(
        os.environ,
        SYNAPSE_LOG="warn",
        SYNAPSE_LOCKOUT_THRESHOLD="1000000",
        SYNAPSE_LOCKOUT_ACCOUNT_THRESHOLD="1000000",
        SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE="1000000",
        SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS="100000000",
    )
    server = subprocess.Popen(
        [binary, "serve", "--demo", "--listen", f"127.0.0.1:{PORT}", "--database", f"sqlite://{work}/demo.db"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                if call(conn, "GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        # Warm both paths (the decoy hash, the statements).
        for i in range(10):
            call(conn, "POST", "/api/v1/auth/login", {"email": "doc@demo.com", "password": "wrong-password-x"})
            call(conn, "POST", "/api/v1/auth/login", {"email": f"warm{i}@nowhere.test", "password": "wrong-password-x"})
        known, unknown, health = [], [], []
        for i in range(rounds):
            status, ms = call(conn, "POST", "/api/v1/auth/login", {"email": "doc@demo.com", "password": f"wrong-{i}"})
            assert status == 401, status
            known.append(ms)
            status, ms = call(conn, "POST", "/api/v1/auth/login", {"email": f"nobody{i}@nowhere.test", "password": f"wrong-{i}"})
            assert status == 401, status
            unknown.append(ms)
            health.append(call(conn, "GET", "/health")[1])
        summary("GET /health", health)
        summary("wrong password, known email", known)
        summary("unknown email", unknown)
        spread = statistics.median([abs(t - statistics.median(known)) for t in known])
        diff = statistics.median(unknown) - statistics.median(known)
        print(f"difference of medians: {diff:+.3f} ms ({diff / statistics.median(known) * 100:+.2f} %), "
              f"median absolute deviation of the known: {spread:.3f} ms")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
