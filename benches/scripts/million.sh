#!/usr/bin/env bash
# The 1M-patient table of docs/PERFORMANCE.md ("One million patients, one request at a time"),
# repeatable: seed (once), settle, warm, measure.
#
#   benches/scripts/million.sh BINARY sqlite|postgres OUT_DIR
#
# Seeds 1,000,000 patients for ten doctors into /tmp/m1.db or the PostgreSQL database
# `synapse_m1` unless it is already there (M1_RESEED=1 seeds again), then, on PostgreSQL,
# waits for autovacuum to finish and runs VACUUM ANALYZE, so that every run starts from the
# same plans and visibility map. It then starts `serve` and, for each request of the table,
# first warms it (M1_WARM, default 3s, discarded) and then measures it M1_ROUNDS times
# (default 3) for M1_DURATION each (default 5s), one request at a time as seed-doctor-1, into
# OUT_DIR/<engine>-<request>-<round>.json. M1_TERMS lists the search terms, separated by |.
# `benches/scripts/million_table.py OUT_DIR` prints the table: per request and engine the
# median p50 and p99 of the rounds, and the worst p99.
#
# Warming matters: the database's files are read once so the OS caches them (see below), and
# each request is run before it is measured, so its pages are in SQLite's map or PostgreSQL's
# shared buffers; a five-second run begun cold puts those reads in its p99.
set -euo pipefail
binary=$1 engine=$2 out=$3
patients=${M1_PATIENTS:-1000000} doctors=${M1_DOCTORS:-10}
warm=${M1_WARM:-3s} duration=${M1_DURATION:-5s} rounds=${M1_ROUNDS:-3}
pg=${M1_POSTGRES:-postgres://postgres@127.0.0.1:5432}
port=${M1_PORT:-18200}
terms=${M1_TERMS:-"s|sm|smi|smith|anna|anna s|5550|mrn-0001|mith|nna|example.org|zz|qqq"}
mkdir -p "$out"
if [ ! -f "$out/data-keys" ]; then "$binary" admin keygen --out "$out/data-keys" >/dev/null; fi
export SYNAPSE_KEY_FILE=$out/data-keys
export SYNAPSE_JWT_SECRET=million-benchmark-secret-million-benchmark SYNAPSE_LOG=warn
export SYNAPSE_REQUESTS_PER_MINUTE_PER_USER=100000000 SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS=100000000

case $engine in
  sqlite)
    url=sqlite:///tmp/m1.db
    if [ "${M1_RESEED:-0}" = 1 ] || [ ! -f /tmp/m1.db ] || [ ! -f "$out/seeded-sqlite" ]; then
      rm -f /tmp/m1.db /tmp/m1.db-* "$out/seeded-sqlite"
      /usr/bin/time -f "seed: %e s" "$binary" seed --patients "$patients" --doctors "$doctors" --database "$url" >"$out/seed-sqlite.log" 2>&1
      touch "$out/seeded-sqlite"
    fi
    files="/tmp/m1.db /tmp/m1.db-audit"
    ;;
  postgres)
    url=$pg/synapse_m1
    if [ "${M1_RESEED:-0}" = 1 ] || [ ! -f "$out/seeded-postgres" ]; then
      rm -f "$out/seeded-postgres"
      psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS synapse_m1 WITH (FORCE)" -c "CREATE DATABASE synapse_m1"
      /usr/bin/time -f "seed: %e s" "$binary" seed --patients "$patients" --doctors "$doctors" --database "$url" >"$out/seed-postgres.log" 2>&1
      touch "$out/seeded-postgres"
    fi
    # A load leaves autovacuum and analyze work behind; a run that overlaps it measures that.
    for _ in $(seq 600); do
      busy=$(psql -tA "$pg/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'synapse_m1' AND backend_type = 'autovacuum worker'")
      [ "$busy" = 0 ] && break
      sleep 1
    done
    psql -q "$url" -c "VACUUM ANALYZE"
    files=$(psql -tA "$pg/postgres" -c "SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database WHERE datname = 'synapse_m1'")
    ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac

# Every page into the OS's cache: the database is about half the machine's memory, and a run
# that finds a page still on disk puts that read in its p99 (after a load, less than half of
# the PostgreSQL database was cached). Reading the files needs the right to read them (root, or
# the postgres user for PostgreSQL's).
find $files -type f -exec cat {} + >/dev/null

"$binary" serve --database "$url" --listen "127.0.0.1:$port" >"$out/server-$engine.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done

bench() {
  "$binary" bench --server "http://127.0.0.1:$port" --email seed-doctor-1@synthetic.test \
    --password password123 --concurrency 1 --json "$@"
}
run() { # name, then bench's arguments
  local name=$1; shift
  bench --duration "$warm" "$@" >/dev/null
  for round in $(seq "$rounds"); do
    bench --duration "$duration" "$@" >"$out/$engine-$name-$round.json"
  done
}
IFS='|' read -r -a search_terms <<<"$terms"
for term in "${search_terms[@]}"; do
  run "search=${term// /+}" --scenario search --terms "$term"
done
run list --scenario list
run reports --scenario reports
run stats --scenario stats
