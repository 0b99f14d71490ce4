#!/usr/bin/env python3
"""Measures live events (docs/PERFORMANCE.md, "Live events"): with SUBSCRIBERS doctors each
holding an open `GET /api/v1/events` stream, how long an event takes from its commit to the
subscriber's receipt, and what an idle stream costs the server in memory.

It logs in SUBSCRIBERS doctors (`seed-doctor-N@synthetic.test`, password123, as `synapse seed
--doctors N` makes them), takes one patient of each, reads the server's resident memory, opens
one stream per doctor and waits for each stream's `ready`, reads the memory again (the
difference over SUBSCRIBERS is an idle stream's cost), then makes WRITES patient updates one at a
time, each for the next doctor in turn, and times each event's arrival on its doctor's stream:

- commit to receipt: the receipt time minus the event's `at`, the time the server wrote into
  the event row in the write transaction just before its commit (same machine clock; `at` has
  millisecond precision, truncated, so this reads up to 1 ms high);
- write to receipt: from sending the PATCH to the receipt (the whole round, for comparison);
- /health: the round trip of `GET /health` on a fresh connection, sampled between writes.

Usage: events_latency.py SERVER_URL SERVER_PID [SUBSCRIBERS=500] [WRITES=400]
Prints one JSON line.
"""
import asyncio
import json
import sys
import time
import urllib.parse

PASSWORD = "password123"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"no VmRSS for {pid}")


def percentile(values, p):
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 2)


async def request(host, port, method, path, body=None, token=None):
    """One request on a fresh connection; returns (status, parsed JSON)."""
    reader, writer = await asyncio.open_connection(host, port)
    payload = json.dumps(body).encode() if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    header, _, rest = raw.partition(b"\r\n\r\n")
    status = int(header.split()[1])
    if b"transfer-encoding: chunked" in header.lower():
        body_bytes, data = b"", rest
        while data:
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body_bytes += data[:size]
            data = data[size + 2 :]
        rest = body_bytes
    return status, json.loads(rest) if rest else None


class Stream:
    """One open event stream, read as chunked HTTP and SSE text."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.unread = b""

    @classmethod
    async def open(cls, host, port, token):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            (
                f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise SystemExit(f"stream refused: {head!r}")
        return cls(reader, writer)

    async def message(self):
        """The next SSE message's data as JSON (comments skipped), and when it arrived."""
        while True:
            while b"\n\n" in self.unread:
                block, _, self.unread = self.unread.partition(b"\n\n")
                for line in block.split(b"\n"):
                    if line.startswith(b"data: "):
                        return json.loads(line[6:]), time.time()
            size_line = await self.reader.readline()
            size = int(size_line.strip().split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            self.unread += chunk[:-2]


def parse_at(text):
    # 2026-11-26T06:33:23.123Z
    from datetime import datetime, timezone

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


async def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    host, port = url.hostname, url.port or 80
    pid = int(sys.argv[2])
    subscribers = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    writes = int(sys.argv[4]) if len(sys.argv) > 4 else 400

    gate = asyncio.Semaphore(4)

    async def doctor(n):
        async with gate:
            status, reply = await request(
                host,
                port,
                "POST",
                "/api/v1/auth/login",
                {"email": f"seed-doctor-{n}@synthetic.test", "password": PASSWORD},
            )
            if status != 200:
                raise SystemExit(f"login {n}: {status} {reply}")
            token = reply["data"]["access_token"]
            status, page = await request(host, port, "GET", "/api/v1/patients/list?limit=1", token=token)
            return token, page["data"]["items"][0]["id"]

    doctors = await asyncio.gather(*(doctor(n) for n in range(1, subscribers + 1)))
    await asyncio.sleep(1)
    before = rss_kib(pid)
    streams = []
    for token, _ in doctors:
        streams.append(await Stream.open(host, port, token))
    for stream in streams:
        ready, _ = await stream.message()
        assert ready["kind"] == "ready", ready
    await asyncio.sleep(2)
    after = rss_kib(pid)

    commit_ms, write_ms, health_ms = [], [], []
    for i in range(writes):
        n = i % subscribers
        token, patient = doctors[n]
        sent = time.time()
        status, _ = await request(
            host, port, "PATCH", f"/api/v1/patients/{patient}", {"phone": f"+44 20 7946 {i:04d}"}, token
        )
        if status != 200:
            raise SystemExit(f"update {i}: {status}")
        event, received = await streams[n].message()
        assert event["kind"] == "patient.updated" and event["patient_id"] == patient, event
        commit_ms.append((received - parse_at(event["at"])) * 1000)
        write_ms.append((received - sent) * 1000)
        started = time.perf_counter()
        status, _ = await request(host, port, "GET", "/health")
        health_ms.append((time.perf_counter() - started) * 1000)

    summary = {
        "subscribers": subscribers,
        "writes": writes,
        "commit_to_receipt_ms": {"p50": percentile(commit_ms, 50), "p99": percentile(commit_ms, 99)},
        "write_to_receipt_ms": {"p50": percentile(write_ms, 50), "p99": percentile(write_ms, 99)},
        "health_ms": {"p50": percentile(health_ms, 50), "p99": percentile(health_ms, 99)},
        "rss_kib": {"before": before, "with_streams": after},
        "idle_stream_kib": round((after - before) / subscribers, 1),
    }
    print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in summary.items()}))
    for stream in streams:
        stream.writer.close()


if __name__ == "__main__":
    asyncio.run(main())
