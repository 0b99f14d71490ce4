#!/usr/bin/env python3
"""Medians of an A/B run of benches/scripts/ab.sh: per engine, scenario and endpoint, the
requests/s, the share of /health measured in the same run, and the p99, for the old and the new
build, and the change of the share two ways: the median of each run's share (the endpoint and
/health measured back to back), and the share of the medians (the endpoint's median over the
/health median of all the build's runs). The /health phase is short, so a single run's share
swings with it; the second figure averages that out."""
import json, pathlib, statistics, sys
from collections import defaultdict

runs = defaultdict(list)  # (engine, scenario, endpoint, build) -> [(req/s, share, p99)]
health = defaultdict(list)  # (engine, build) -> [/health req/s of every run]
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    engine, build, _round, scenario = path.stem.split("-", 3)
    try:
        report = json.loads(path.read_text())
    except json.JSONDecodeError:  # a run still being written, or one that failed
        continue
    health[(engine, build)].append(report["endpoints"][0]["requests_per_s"])
    for row in report["endpoints"][1:]:
        if not row["requests"]:
            continue
        p99 = (row.get("latency_ms") or {}).get("p99")
        runs[(engine, scenario, row["endpoint"], build)].append(
            (row["requests_per_s"], row["vs_health"] or 0.0, p99 or 0.0))

def med(values, i):
    return statistics.median(v[i] for v in values)

print("| engine | scenario | endpoint | old req/s (share, p99 ms) | new req/s (share, p99 ms) | share change (per run) | share change (of medians) |")
print("|---|---|---|---|---|---|---|")
for (engine, scenario, endpoint, build) in sorted(k for k in runs if k[3] == "old"):
    old, new = runs[(engine, scenario, endpoint, "old")], runs.get((engine, scenario, endpoint, "new"), [])
    if not new:
        continue
    cell = lambda r: f"{med(r,0):,.0f} ({med(r,1)*100:.1f} %, {med(r,2):.1f})"
    change = (med(new, 1) / med(old, 1) - 1) * 100 if med(old, 1) else float("nan")
    h_old = statistics.median(health[(engine, "old")])
    h_new = statistics.median(health[(engine, "new")])
    of_medians = ((med(new, 0) / h_new) / (med(old, 0) / h_old) - 1) * 100
    print(f"| {engine} | {scenario} | {endpoint} | {cell(old)} | {cell(new)} | {change:+.1f} % | {of_medians:+.1f} % |")

print()
for (engine, build), values in sorted(health.items()):
    print(f"/health on {engine}, {build} build: median {statistics.median(values):,.0f} req/s over {len(values)} runs")
