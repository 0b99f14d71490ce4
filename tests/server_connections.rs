//! Connection hygiene of `synapse serve`, on the real binary over raw sockets: a flood of idle
//! connections from one address does not stop the server answering another; silent, slow-head,
//! slow-body and idle kept-alive connections are closed; a declared oversized body gets 413
//! before it is sent; and the HTTP layer's own refusals (400, 414, 431) come in the error
//! envelope with a request id.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::served::{BIN, Served, synapse};
use serde_json::Value;

/// Short limits, so each test waits seconds, not minutes.
const SHORT: &[(&str, &str)] = &[
    ("SYNAPSE_HEADER_READ_TIMEOUT_S", "1"),
    ("SYNAPSE_BODY_TIMEOUT_S", "1"),
    ("SYNAPSE_IDLE_TIMEOUT_S", "1"),
];

fn server(dir: &Path) -> Served {
    Served::start(
        dir,
        &dir.join("data"),
        &["--demo"],
        SHORT,
        Duration::from_secs(60),
    )
}

fn address(served: &Served) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], served.port))
}

/// An answer read off a raw socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {:?}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error envelope, with the request id in the body the same as in the header.
    fn expect_envelope(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{} {:?}", self.head, self.body);
        let body = self.json();
        assert_eq!(body["status"], "error", "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        let id = self
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-ID: {}", self.head));
        assert_eq!(body["request_id"], id.as_str(), "{body}");
        body
    }
}

/// Reads one answer (head, then a `Content-Length` body), at most `limit`.
fn read_answer(stream: &mut TcpStream, limit: Duration) -> Answer {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "closed before an answer: {:?}",
                String::from_utf8_lossy(&bytes)
            ),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no answer within {limit:?} ({e}): {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let mut body = bytes[head_end + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
    let mut answer = Answer {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = answer
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) => panic!("body cut short ({e})"),
        }
    }
    answer.body = body;
    answer
}

/// Whether the server closes the connection within `limit` (EOF or reset), sending nothing
/// more than `allowed_data` would let through.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(bytes).expect("write");
    stream
}

#[test]
fn a_silent_connection_and_a_slow_request_head_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let served = server(dir.path());
    let mut silent = TcpStream::connect(address(&served)).unwrap();
    let mut slow = send(
        address(&served),
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    );
    // A byte now and then does not keep a head open past its timeout.
    slow.write_all(b"X-Slow: 1").unwrap();
    let limit = Duration::from_secs(8);
    assert!(
        closed_within(&mut slow, limit).is_some(),
        "a slow request head was still open after {limit:?}"
    );
    assert!(
        closed_within(&mut silent, limit).is_some(),
        "a silent connection was still open after {limit:?}"
    );
}

#[test]
fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let served = server(dir.path());
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut stream = send(address(&served), request);
    assert_eq!(read_answer(&mut stream, Duration::from_secs(5)).status, 200);
    // Requests closer together than the idle timeout keep it open.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(500));
        stream.write_all(request).unwrap();
        assert_eq!(read_answer(&mut stream, Duration::from_secs(5)).status, 200);
    }
    let closed = closed_within(&mut stream, Duration::from_secs(8))
        .expect("an idle kept-alive connection was still open after 8 s");
    assert!(
        closed >= Duration::from_millis(700),
        "closed too soon: {closed:?}"
    );
}

#[test]
fn a_slow_body_is_cut_with_408_in_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let served = server(dir.path());
    let mut stream = send(
        address(&served),
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"email\":",
    );
    let started = Instant::now();
    let answer = read_answer(&mut stream, Duration::from_secs(8));
    answer.expect_envelope(408, "REQUEST_TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        closed_within(&mut stream, Duration::from_secs(3)).is_some(),
        "the connection stayed open after the 408"
    );
}

#[test]
fn a_declared_body_over_the_limit_gets_413_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let served = server(dir.path());
    let mut stream = send(
        address(&served),
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 2097152\r\n\r\n",
    );
    // Well before the body timeout would cut it.
    let answer = read_answer(&mut stream, Duration::from_millis(900));
    answer.expect_envelope(413, "PAYLOAD_TOO_LARGE");
}

#[test]
fn the_http_layer_s_own_refusals_come_in_the_envelope_with_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let served = server(dir.path());
    let addr = address(&served);

    let long = format!(
        "GET /api/v1/patients/search?q={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "a".repeat(70_000)
    );
    let answer = read_answer(&mut send(addr, long.as_bytes()), Duration::from_secs(5));
    answer.expect_envelope(414, "VALIDATION_ERROR");

    let mut many = String::from("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let answer = read_answer(&mut send(addr, many.as_bytes()), Duration::from_secs(5));
    answer.expect_envelope(431, "VALIDATION_ERROR");

    let malformed = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nNot a header\r\n\r\n";
    let answer = read_answer(&mut send(addr, malformed), Duration::from_secs(5));
    answer.expect_envelope(400, "VALIDATION_ERROR");

    // The server carries on.
    let mut again = send(addr, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(read_answer(&mut again, Duration::from_secs(5)).status, 200);
}

/// `synapse serve` with an open-file limit of `files` (soft and hard), so the flood below
/// would exhaust it if the server took every connection.
fn serve_with_file_limit(dir: &Path, port: u16, files: u32) -> Child {
    let base = synapse(dir);
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("ulimit -n {files} && exec \"$0\" \"$@\""),
        BIN,
        "serve",
        "--demo",
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    for (name, value) in base.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    for (name, _) in std::env::vars_os() {
        if common::served::is_synapse_var(&name) {
            command.env_remove(&name);
        }
    }
    command
        .env("SYNAPSE_DATA_DIR", dir.join("data"))
        .env("SYNAPSE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .expect("spawn sh")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET /health` from the source address `source`, within `limit`.
fn health_from(source: [u8; 4], addr: SocketAddr, limit: Duration) -> Result<u16, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .bind(SocketAddr::from((source, 0)))
            .map_err(|e| e.to_string())?;
        let stream = tokio::time::timeout(limit, socket.connect(addr))
            .await
            .map_err(|_| format!("no connection within {limit:?}"))?
            .map_err(|e| e.to_string())?;
        stream.into_std().map_err(|e| e.to_string())
    })?;
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    let mut stream = stream;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no answer within {limit:?}: {text:?}"))
}

/// Lets go of the connections the server has closed (or answered: it only speaks first to
/// refuse).
fn prune(held: &mut Vec<TcpStream>) {
    held.retain_mut(|stream| {
        let mut buf = [0u8; 1024];
        matches!(stream.read(&mut buf), Err(e) if e.kind() == ErrorKind::WouldBlock)
    });
}

#[test]
fn twenty_thousand_idle_connections_from_one_address_do_not_stop_the_server() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = tempfile::tempdir().unwrap();
    let port = common::served::free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let _server = Killed(serve_with_file_limit(dir.path(), port, 4096));
    let started = Instant::now();
    while health_from([127, 0, 0, 1], addr, Duration::from_secs(1)) != Ok(200) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start: {}",
            std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Open 20,000 connections from 127.0.0.1 and keep every one the server keeps; the ones
    // it refuses (closes) are let go, so the test stays within its own open-file limit.
    let mut held: Vec<TcpStream> = Vec::new();
    let flood = Instant::now();
    let mut attempts = 0;
    while attempts < 20_000 && flood.elapsed() < Duration::from_secs(120) {
        attempts += 1;
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            let _ = stream.set_nonblocking(true);
            held.push(stream);
        }
        if attempts % 500 == 0 {
            prune(&mut held);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    prune(&mut held);
    eprintln!(
        "{attempts} connections from 127.0.0.1 in {:?}, {} kept open",
        flood.elapsed(),
        held.len()
    );
    let health = health_from([127, 0, 0, 2], addr, Duration::from_secs(5));
    assert_eq!(
        health,
        Ok(200),
        "after {attempts} connections from 127.0.0.1 ({} still open), /health from 127.0.0.2 did not answer",
        held.len()
    );
    assert!(
        held.len() <= 256,
        "{} idle connections from one address kept open, over the per-address cap",
        held.len()
    );
    drop(held);
}
