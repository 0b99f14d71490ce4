#!/usr/bin/env python3
"""The table of a run of benches/scripts/million.sh: per request and engine, the median p50 and
p99 of the rounds (ms), the worst round's p99, and the /health round trip of the same runs."""
import json, pathlib, statistics, sys
from collections import defaultdict

rounds = defaultdict(list)  # (request, engine) -> [(p50, p99)]
health = defaultdict(list)  # engine -> [/health p50 ms]
# In the order measured, which is the order of the table in docs/PERFORMANCE.md.
for path in sorted(pathlib.Path(sys.argv[1]).glob("*-*-*.json"), key=lambda p: p.stat().st_mtime):
    engine, rest = path.stem.split("-", 1)
    request, _round = rest.rsplit("-", 1)
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError:  # a run still being written, or one that failed
        continue
    first, *rows = report["endpoints"]
    health[engine].append((first.get("latency_ms") or {}).get("p50") or 0.0)
    for row in rows:
        if row["requests"]:
            latency = row.get("latency_ms") or {}
            rounds[(request, engine)].append((latency.get("p50") or 0.0, latency.get("p99") or 0.0))

engines = sorted({engine for _, engine in rounds})
requests = list(dict.fromkeys(request for request, _ in rounds))
print("| request | " + " | ".join(f"{e} p50 / p99 ms (worst p99)" for e in engines) + " |")
print("|---|" + "---|" * len(engines))
for request in requests:
    cells = []
    for engine in engines:
        values = rounds.get((request, engine))
        if not values:
            cells.append("")
            continue
        p50 = statistics.median(v[0] for v in values)
        p99 = statistics.median(v[1] for v in values)
        cells.append(f"{p50:.2f} / {p99:.2f} ({max(v[1] for v in values):.2f})")
    name = "search `" + request[len("search="):].replace("+", " ") + "`" if request.startswith("search=") else request
    print(f"| {name} | " + " | ".join(cells) + " |")
for engine in engines:
    print(f"\n/health p50 on {engine}: {statistics.median(health[engine]):.2f} ms (median of {len(health[engine])} runs)")
