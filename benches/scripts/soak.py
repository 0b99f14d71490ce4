#!/usr/bin/env python3
"""The soak of docs/RELIABILITY.md: `synapse bench --scenario mixed` at half of the measured
saturation for a long run against a release server, sampling the server's resident memory,
open file descriptors and audit storage as it goes.

    benches/scripts/soak.py BINARY sqlite|postgres OUT_DIR [MINUTES]

It starts `BINARY serve --demo` on a fresh data directory (SQLite) or a fresh PostgreSQL database
(postgres://postgres@127.0.0.1:5432, trust auth) with the API's rate limits raised, measures
saturation with a 20 s run of 16 virtual users, then runs the same users with a think time that
halves their rate, for MINUTES (default 30). It prints a summary and writes short.json, soak.json,
samples.csv and summary.json into OUT_DIR.
"""
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

USERS = 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base, limit=60):
    started = time.time()
    while time.time() - started < limit:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not become healthy")


def scenario_rate(report):
    rest = [e for e in report["endpoints"] if e["endpoint"] != "health"]
    return sum(e["requests"] for e in rest) / report["scenario_seconds"]


def worst_p99(report):
    return max(e["latency_ms"]["p99"] for e in report["endpoints"] if e["endpoint"] != "health")


def errors(report):
    return sum(e["errors"] for e in report["endpoints"] if e["endpoint"] != "health")


def audit_bytes(engine, data, database):
    if engine == "sqlite":
        return sum(
            os.path.getsize(os.path.join(data, f))
            for f in os.listdir(data)
            if f.startswith("synapse.db-audit")
        )
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc",
         "SELECT pg_total_relation_size('audit_events') + pg_total_relation_size('audit_chain')"],
        capture_output=True, text=True, check=True)
    return int(out.stdout.strip() or 0)


def process_sample(pid):
    """Resident memory in all, and split into the process's own (anonymous) memory and the pages
    of files it maps: SQLite's readers map the database files, so pages of a growing file that a
    read touches count as resident though the kernel can drop them at any time."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                fields[name] = int(value.split()[0])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0), fields.get("RssFile", 0), fds


def bench(binary, env, base, duration, think_ms, out):
    command = [binary, "bench", "--server", base, "--scenario", "mixed",
               "--concurrency", str(USERS), "--duration", duration, "--think-ms", str(think_ms),
               "--max-requests", "100000000", "--json"]
    with open(out, "w") as f:
        subprocess.run(command, env=env, stdout=f, check=True)
    with open(out) as f:
        return json.load(f)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, engine, out_dir = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    minutes = float(sys.argv[4]) if len(sys.argv) > 4 else 30
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.join(out_dir, "data")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
    env.update({"SYNAPSE_CONFIG": os.path.join(out_dir, "no-config.toml"), "HOME": out_dir,
                "SYNAPSE_LOG": "warn"})
    server_env = dict(env, SYNAPSE_DATA_DIR=data,
                      SYNAPSE_REQUESTS_PER_MINUTE_PER_USER="1000000000",
                      SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS="1000000000")
    database = None
    if engine == "postgres":
        database = f"synapse_soak_{os.getpid()}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                        f"CREATE DATABASE {database}"], check=True, capture_output=True)
        server_env["SYNAPSE_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(out_dir, "serve.log"), "w")
    server = subprocess.Popen([binary, "serve", "--demo", "--listen", f"127.0.0.1:{port}"],
                              env=server_env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_healthy(base)
        short = bench(binary, env, base, "20s", 0, os.path.join(out_dir, "short.json"))
        saturation = scenario_rate(short)
        latency_ms = 1000 * USERS / saturation
        think_ms = max(1, round(latency_ms))
        print(f"saturation {saturation:.0f} req/s, p99 {worst_p99(short):.1f} ms; "
              f"soaking at think {think_ms} ms for {minutes} min", flush=True)
        samples = []
        started = time.time()
        soak = subprocess.Popen(
            [binary, "bench", "--server", base, "--scenario", "mixed",
             "--concurrency", str(USERS), "--duration", f"{int(minutes * 60)}s",
             "--think-ms", str(think_ms), "--max-requests", "100000000", "--json"],
            env=env, stdout=open(os.path.join(out_dir, "soak.json"), "w"))
        while soak.poll() is None:
            rss, anon, file_backed, fds = process_sample(server.pid)
            samples.append((round(time.time() - started), rss, fds,
                            audit_bytes(engine, data, database), anon, file_backed))
            time.sleep(15)
        if soak.returncode != 0:
            sys.exit(f"the soak's bench exited {soak.returncode}")
        with open(os.path.join(out_dir, "soak.json")) as f:
            report = json.load(f)
        with open(os.path.join(out_dir, "samples.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["seconds", "rss_kib", "open_fds", "audit_bytes", "rss_anon_kib",
                             "rss_file_kib"])
            writer.writerows(samples)
        # `bench` spends a fifth of the duration on /health first; "after the first minute"
        # counts from the start of the scenario.
        scenario_starts = minutes * 60 / 5
        after_minute = [s for s in samples if s[0] >= scenario_starts + 60] or samples
        first, last = after_minute[0], samples[-1]
        summary = {
            "engine": engine,
            "minutes": minutes,
            "think_ms": think_ms,
            "saturation_req_s": round(saturation),
            "soak_req_s": round(scenario_rate(report)),
            "requests": sum(e["requests"] for e in report["endpoints"] if e["endpoint"] != "health"),
            "errors": errors(report),
            "short_p99_ms": worst_p99(short),
            "soak_p99_ms": worst_p99(report),
            "p99_by_endpoint": {e["endpoint"]: [s["latency_ms"]["p99"], e["latency_ms"]["p99"]]
                                for e, s in zip(report["endpoints"], short["endpoints"])},
            "first_sample_s": first[0],
            "rss_kib_after_1min": first[1],
            "rss_kib_end": last[1],
            "rss_growth": round(last[1] / first[1] - 1, 4),
            "rss_anon_kib_after_1min": first[4],
            "rss_anon_kib_end": last[4],
            "rss_anon_growth": round(last[4] / first[4] - 1, 4),
            "rss_file_kib_after_1min": first[5],
            "rss_file_kib_end": last[5],
            "fds_after_1min": first[2],
            "fds_end": last[2],
            "fds_max": max(s[2] for s in samples),
            "audit_bytes_start": samples[0][3],
            "audit_bytes_end": last[3],
        }
        with open(os.path.join(out_dir, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        print(json.dumps(summary, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                            f"DROP DATABASE IF EXISTS {database}"], capture_output=True)


if __name__ == "__main__":
    main()
