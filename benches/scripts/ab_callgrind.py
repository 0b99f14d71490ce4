#!/usr/bin/env python3
"""Instructions per request of two builds' read endpoints, counted by callgrind: repeatable
whatever else the machine is doing, unlike requests/s on a shared machine.

    benches/scripts/ab_callgrind.py OLD_BINARY NEW_BINARY DATABASE[,NEW_DATABASE] [REQUESTS] [ENDPOINTS]

A DATABASE is a SQLite file (each run gets a fresh copy) or a PostgreSQL URL (used as it is;
the counts are then the server's instructions, without the database's).

For each build and endpoint: a fresh copy of the database (its audit log file too), `serve`
under `valgrind --tool=callgrind`, one login and one warm-up request, the counters dumped (and
so zeroed), REQUESTS (default 300) requests one after another on one keep-alive connection, the
counters dumped again. The second dump over REQUESTS is the instructions per request of the
server process (all its threads). Prints old, new and the change. Run it on a machine that is
otherwise idle: a dump is taken when the server next runs, and on a loaded machine the figures
came out far too low (a /health of 3,000 instead of 53,000 instructions), so check that row. Every request of
the seeded doctor (`seed-doctor-1@synthetic.test`, as `ab.sh` seeds). /health is measured the
same way, so its row is the fixed cost of a round trip. Two databases, comma-separated, give each
build its own (as `ab.sh` seeds them, e.g. /tmp/ab-base-old.db,/tmp/ab-base-new.db when the new
build stores data another way, such as sealed by field encryption; set SYNAPSE_KEY_FILE to the
key file `ab.sh` made). With AB_KEEP_DUMPS=DIR the measured dump of each build and endpoint is
kept there (`old-patients.list.callgrind`, ...), for `callgrind_annotate --inclusive=yes` to say
where a request's instructions go."""
import glob, http.client, json, os, re, shutil, subprocess, sys, tempfile, time
from urllib.parse import quote

old, new = sys.argv[1], sys.argv[2]
old_database, _, new_database = sys.argv[3].partition(",")
new_database = new_database or old_database
requests = int(sys.argv[4]) if len(sys.argv) > 4 else 300
port = 18660
# A benchmark measures the server, not its rate limits: raised past what the load sends (older
# builds ignore these).
env = dict(os.environ, SYNAPSE_JWT_SECRET="ab-benchmark-secret-ab-benchmark-secret", SYNAPSE_LOG="warn",
           SYNAPSE_REQUESTS_PER_MINUTE_PER_USER="100000000", SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS="100000000")

def call(conn, method, path, token=None, body=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status >= 400:
        raise SystemExit(f"{method} {path}: {reply.status} {data[:200]!r}")
    return json.loads(data) if data else None

def paths(conn, token):
    """The endpoints to count, as the bench scenarios call them."""
    page = call(conn, "GET", "/api/v1/patients/list?limit=20", token)["data"]["items"]
    surnames = [p["full_name"].split()[-1].lower() for p in page[:6]]
    typed = [s[:n] for s in surnames for n in range(1, min(len(s), 6) + 1)]
    patient = page[0]["id"]
    report = call(conn, "GET", "/api/v1/reports/list?limit=20", token)["data"]["items"][0]["id"]
    return {
        "health": ["/health"],
        "patients.list": ["/api/v1/patients/list?limit=20"],
        "patients.search": [f"/api/v1/patients/search?q={quote(t)}&limit=10" for t in typed],
        "patients.get": [f"/api/v1/patients/{patient}"],
        "consultation.history": [f"/api/v1/consultation/history/{patient}"],
        "reports.list": ["/api/v1/reports/list?limit=20"],
        "reports.get": [f"/api/v1/reports/{report}"],
        "reports.stats": ["/api/v1/reports/stats"],
    }

def count(binary, database, endpoint):
    work = tempfile.mkdtemp(prefix="ab-callgrind-")
    if database.startswith("postgres"):
        # The server's instructions only: PostgreSQL runs outside callgrind, and reads do
        # not change what the next run finds (their audit rows aside).
        url = database
    else:
        for f in glob.glob(database + "*"):
            shutil.copy(f, os.path.join(work, os.path.basename(f)))
        url = "sqlite://" + os.path.join(work, os.path.basename(database))
    # %p: a process the server forks writes a file of its own rather than over the server's.
    out = os.path.join(work, "callgrind.out.%p")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve",
         "--database", url, "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    control = lambda what: subprocess.run(["callgrind_control", what, str(server.pid)], check=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                call(conn, "GET", "/health")
                break
            except (OSError, SystemExit):
                time.sleep(0.2)
        token = call(conn, "POST", "/api/v1/auth/login", None,
                     {"email": "seed-doctor-1@synthetic.test", "password": "password123"})["data"]["access_token"]
        targets = paths(conn, token)[endpoint]
        call(conn, "GET", targets[0], token)  # warm: statement caches, pages
        control("-d")
        for i in range(requests):
            call(conn, "GET", targets[i % len(targets)], token)
        control("-d")
    finally:
        server.terminate()
        server.wait()
    dumps = {}
    keep = os.environ.get("AB_KEEP_DUMPS")
    for dump in glob.glob(os.path.join(work, f"callgrind.out.{server.pid}.*")):
        if keep and dump.endswith(".2"):
            os.makedirs(keep, exist_ok=True)
            build = "old" if binary == old else "new"
            shutil.copy(dump, os.path.join(keep, f"{build}-{endpoint}.callgrind"))
        with open(dump) as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    dumps[int(dump.rsplit(".", 1)[1])] = int(m.group(1))
                    break
    shutil.rmtree(work, ignore_errors=True)
    return dumps.get(2, 0) / requests

endpoints = sys.argv[5].split(",") if len(sys.argv) > 5 else [
    "health", "patients.list", "patients.search", "patients.get", "consultation.history",
    "reports.list", "reports.get", "reports.stats"]
print("| endpoint | old instructions/request | new instructions/request | change |")
print("|---|---|---|---|")
for endpoint in endpoints:
    a, b = count(old, old_database, endpoint), count(new, new_database, endpoint)
    change = f"{(b / a - 1) * 100:+.1f} %" if a and b else "no dump (see above)"
    print(f"| {endpoint} | {a:,.0f} | {b:,.0f} | {change} |", flush=True)
