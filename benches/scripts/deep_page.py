#!/usr/bin/env python3
"""Measures what a page deep in the patients list costs against the first page, over HTTP with
one keep-alive connection, one request at a time (docs/PERFORMANCE.md, "One million patients").

It logs in, walks the list by cursor (100 rows a page) to row ROW, then times REPEAT requests
each of: the first page, the page at ROW by its cursor, and the page at ROW by offset (what a
client that pages by offset pays). Pages are 20 rows, as the workstation asks.

Usage: deep_page.py SERVER_URL EMAIL PASSWORD [ROW=90000] [REPEAT=300]
Prints one JSON line of p50/p99 milliseconds per kind of page.
"""
import http.client
import json
import sys
import time
import urllib.parse


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    email, password = sys.argv[2], sys.argv[3]
    row = int(sys.argv[4]) if len(sys.argv) > 4 else 90000
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 300
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)

    def call(method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        reply = conn.getresponse()
        payload = json.loads(reply.read())
        if reply.status != 200:
            sys.exit(f"{method} {path}: {reply.status} {payload}")
        return payload["data"]

    token = call("POST", "/api/v1/auth/login", {"email": email, "password": password})[
        "access_token"
    ]
    cursor, walked = None, 0
    while walked < row:
        query = {"limit": min(100, row - walked)}
        if cursor:
            query["cursor"] = cursor
        page = call("GET", "/api/v1/patients/list/?" + urllib.parse.urlencode(query), token=token)
        walked += len(page["items"])
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            sys.exit(f"the list ends at row {walked}, before row {row}")

    pages = {
        "first": "/api/v1/patients/list/?limit=20",
        "cursor": "/api/v1/patients/list/?" + urllib.parse.urlencode({"limit": 20, "cursor": cursor}),
        "offset": f"/api/v1/patients/list/?limit=20&offset={row}",
    }
    result = {"row": row, "repeat": repeat}
    for kind, path in pages.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            call("GET", path, token=token)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        result[kind] = {
            "p50_ms": round(times[len(times) // 2], 2),
            "p99_ms": round(times[min(len(times) - 1, len(times) * 99 // 100)], 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
