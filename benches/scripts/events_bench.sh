#!/usr/bin/env bash
# Live events with many subscribers (docs/PERFORMANCE.md, "Live events"): seeds DOCTORS doctors
# with four patients each, serves them, and runs events_latency.py with one open stream per
# doctor.
#
#   benches/scripts/events_bench.sh BINARY sqlite|postgres [DOCTORS=500] [WRITES=400]
#
# Prints the JSON line of events_latency.py.
set -euo pipefail
binary=$1 engine=$2 doctors=${3:-500} writes=${4:-400}
port=18660
pg=${EVENTS_POSTGRES:-postgres://postgres@127.0.0.1:5432}
here=$(dirname "$0")
export SYNAPSE_JWT_SECRET=events-benchmark-secret-events-benchmark SYNAPSE_LOG=warn
# A benchmark measures the server, not its rate limits: raised past what the load sends.
export SYNAPSE_REQUESTS_PER_MINUTE_PER_USER=100000000 SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS=100000000 SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS=4096
export SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE=100000

case $engine in
  sqlite)
    rm -f /tmp/events-bench.db*
    url=sqlite:///tmp/events-bench.db
    ;;
  postgres)
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS events_bench WITH (FORCE)" -c "CREATE DATABASE events_bench"
    url=$pg/events_bench
    ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac
"$binary" seed --patients $((doctors * 4)) --doctors "$doctors" --database "$url" >/dev/null
"$binary" serve --database "$url" --listen "127.0.0.1:$port" >/tmp/events-bench-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
python3 "$here/events_latency.py" "http://127.0.0.1:$port" "$server" "$doctors" "$writes"
