#!/usr/bin/env bash
# A/B of two builds' read endpoints under 32 connections, on copies of one seeded database,
# the two builds interleaved round by round so both see the same machine.
#
#   benches/scripts/ab.sh OLD_BINARY NEW_BINARY sqlite|postgres OUT_DIR [ROUNDS] [PATIENTS]
#
# Seeds PATIENTS (default 16000) patients for one doctor with each binary (the same seed gives
# the same data; each build stores it its own way, e.g. sealed by field encryption), then for
# each round runs OLD then NEW: a fresh copy of that build's database, `serve`, and
# `bench --json` for each of the read scenarios. `benches/scripts/ab_table.py OUT_DIR` prints
# the medians. The data keys are a key file in OUT_DIR (a build without field encryption
# ignores them).
#
# With AB_SERVER_CPUS and AB_LOAD_CPUS (taskset lists, e.g. 0 and 1) the server runs on the
# first and the load generator on the second; on PostgreSQL the database's processes are put
# on the server's CPUs too for the run (and back on every CPU after), so the load generator no
# longer takes its share of the cores the server is measured on.
set -euo pipefail
old=$1 new=$2 engine=$3 out=$4 rounds=${5:-3} patients=${6:-16000}
port=18650
duration=${AB_DURATION:-6s}
scenarios=${AB_SCENARIOS:-"list search reports stats mixed"}
pg=${AB_POSTGRES:-postgres://postgres@127.0.0.1:5432}
server_cpus=${AB_SERVER_CPUS:-} load_cpus=${AB_LOAD_CPUS:-}
# Prefixes rather than functions: `taskset` execs the program, so `$!` stays the server's pid.
on_server_cpus=() on_load_cpus=()
if [ -n "$server_cpus" ]; then on_server_cpus=(taskset -c "$server_cpus"); fi
if [ -n "$load_cpus" ]; then on_load_cpus=(taskset -c "$load_cpus"); fi
pin_postgres() { for pid in $(pgrep -x postgres); do taskset -a -c -p "$1" "$pid" >/dev/null; done; }
if [ -n "$server_cpus" ] && [ "$engine" = postgres ]; then
  pin_postgres "$server_cpus"
  trap 'pin_postgres 0-$(($(nproc) - 1))' EXIT
fi
mkdir -p "$out"
if [ ! -f "$out/data-keys" ]; then "$new" admin keygen --out "$out/data-keys" >/dev/null; fi
export SYNAPSE_KEY_FILE=$out/data-keys
export SYNAPSE_JWT_SECRET=ab-benchmark-secret-ab-benchmark-secret SYNAPSE_LOG=warn
# A benchmark measures the server, not its rate limits: raised past what the load sends.
export SYNAPSE_REQUESTS_PER_MINUTE_PER_USER=100000000 SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS=100000000 SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS=4096

case $engine in
  sqlite)
    rm -f /tmp/ab-base-*.db* /tmp/ab-run.db*
    "$old" seed --patients "$patients" --doctors 1 --database "sqlite:///tmp/ab-base-old.db" >/dev/null
    "$new" seed --patients "$patients" --doctors 1 --database "sqlite:///tmp/ab-base-new.db" >/dev/null
    fresh() { rm -f /tmp/ab-run.db*; for f in /tmp/ab-base-"$1".db*; do cp "$f" "${f/ab-base-$1/ab-run}"; done; echo "sqlite:///tmp/ab-run.db"; }
    ;;
  postgres)
    for build in old new; do
      psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS ab_run WITH (FORCE)" -c "DROP DATABASE IF EXISTS ab_base_$build WITH (FORCE)" -c "CREATE DATABASE ab_base_$build"
      binary=$old; [ "$build" = new ] && binary=$new
      "$binary" seed --patients "$patients" --doctors 1 --database "$pg/ab_base_$build" >/dev/null
      psql -q "$pg/ab_base_$build" -c "VACUUM ANALYZE"
    done
    fresh() { psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS ab_run WITH (FORCE)" -c "CREATE DATABASE ab_run TEMPLATE ab_base_$1" >/dev/null; echo "$pg/ab_run"; }
    ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac

for round in $(seq "$rounds"); do
  for build in old new; do
    binary=$old; [ "$build" = new ] && binary=$new
    url=$(fresh "$build")
    "${on_server_cpus[@]}" "$binary" serve --database "$url" --listen "127.0.0.1:$port" >"$out/server-$engine-$build-$round.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    for s in $scenarios; do
      "${on_load_cpus[@]}" "$new" bench --server "http://127.0.0.1:$port" --email seed-doctor-1@synthetic.test \
        --password password123 --concurrency 32 --duration "$duration" --scenario "$s" --json \
        >"$out/$engine-$build-$round-$s.json"
    done
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
