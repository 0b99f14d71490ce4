//! `synapse serve` stopped with SIGTERM under load, as a service manager stops it: every
//! request it had started finishes (no client sees an error for one), open event streams are
//! told to reconnect before they end, the audit row of every acknowledged request is stored,
//! and the process exits 0 within its `shutdown_grace_s`, also with a connection that would
//! keep a request open past it.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

mod common;

use common::load::{Load, Record, login};
use common::served::{Served, http_client};

const SECRET: &str = "a-fault-test-signing-key-of-enough-length";
const GRACE: Duration = Duration::from_secs(3);
const CLIENTS: usize = 4;

/// An event stream's text from its start until the server ends it (at most 30 s).
async fn read_stream(http: reqwest::Client, url: String, token: String) -> (String, bool) {
    let mut response = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("event stream opened");
    assert_eq!(response.status(), 200, "the event stream");
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => return (text, true),
            Ok(Err(_)) => return (text, false),
            Err(_) => return (text, false),
        }
    }
}

/// How many audit rows carry `request_id`, in the data file and the audit file together.
async fn audit_rows(db: &Path, audit: &Path, request_id: &str) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;

    let mut connection =
        sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))
            .expect("path")
            .connect()
            .await
            .expect("open the data file");
    sqlx::query("ATTACH DATABASE $1 AS audit_log")
        .bind(audit.display().to_string())
        .execute(&mut connection)
        .await
        .expect("attach the audit file");
    let count: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM main.audit_events WHERE request_id = $1) \
         + (SELECT COUNT(*) FROM audit_log.audit_events WHERE request_id = $1)",
    )
    .bind(request_id)
    .fetch_one(&mut connection)
    .await
    .expect("count audit rows");
    let _ = connection.close().await;
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_started_requests_and_exits_within_the_grace_period() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let grace = GRACE.as_secs().to_string();
    let mut served = Served::start_async(
        dir.path(),
        &data,
        &["--demo"],
        &[
            ("SYNAPSE_JWT_SECRET", SECRET),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "1000000"),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
            ("SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE", "100000"),
            ("SYNAPSE_SHUTDOWN_GRACE_S", &grace),
        ],
        Duration::from_secs(60),
    )
    .await;
    let http = http_client(Some(Duration::from_secs(30)));
    let tokens = [
        login(&http, &served.base, "doc@demo.com").await,
        login(&http, &served.base, "doc2@demo.com").await,
    ];
    let stream = tokio::spawn(read_stream(
        http_client(None),
        served.url("/api/v1/events"),
        tokens[0].clone(),
    ));
    // A request whose body never comes: it would hold the server for its body timeout (30 s);
    // the grace period ends it.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", served.port)).expect("connect");
    write!(
        stalled,
        "POST /api/v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{",
        tokens[0]
    )
    .expect("write the start of a request");

    let load = Arc::new(Load {
        base: served.base.clone(),
        http: http.clone(),
        origin: Instant::now(),
        record: Mutex::new(Record::default()),
    });
    let until = Arc::new(tokio::sync::Notify::new());
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(
                load.clone()
                    .client(n, tokens[n % tokens.len()].clone(), until.clone()),
            )
        })
        .collect();
    // Sign-ins are the slow requests (the password hash), so some are always in flight.
    for email in ["doc@demo.com", "doc2@demo.com"] {
        let load = load.clone();
        let until = until.clone();
        clients.push(tokio::spawn(async move {
            let stop = until.notified();
            tokio::pin!(stop);
            loop {
                let sign_in = load.call(
                    "login",
                    reqwest::Method::POST,
                    "/api/v1/auth/login",
                    "",
                    Some(json!({"email": email, "password": "password123"})),
                );
                tokio::select! {
                    _ = sign_in => {}
                    () = &mut stop => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let terminated = load.origin.elapsed();
    served.terminate();
    let (status, exited_after, served) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let status = served.wait_exit(GRACE + Duration::from_secs(5));
        (status, started.elapsed(), served)
    })
    .await
    .expect("wait");
    until.notify_waiters();
    for client in clients {
        tokio::time::timeout(Duration::from_secs(20), client)
            .await
            .expect("the client stops")
            .expect("the client ran");
    }
    drop(stalled);
    eprintln!("exited {status} {exited_after:?} after SIGTERM (grace {GRACE:?})");
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        served.log_text()
    );
    assert!(
        exited_after < GRACE + Duration::from_millis(1500),
        "exited {exited_after:?} after SIGTERM, past the grace period of {GRACE:?}"
    );

    let seen = load.record.lock().unwrap().seen.clone();
    // Started before the signal: answered, every one (a few ms of margin for the request to
    // reach the server).
    let started: Vec<_> = seen
        .iter()
        .filter(|s| s.sent + Duration::from_millis(5) < terminated)
        .collect();
    let in_flight = started
        .iter()
        .filter(|s| s.sent + s.took > terminated)
        .count();
    eprintln!(
        "{} requests started before SIGTERM, {in_flight} of them still in flight",
        started.len()
    );
    assert!(in_flight >= 1, "no request was in flight at the signal");
    for s in &started {
        assert!(
            matches!(s.status, Some(200 | 201)),
            "a request started before SIGTERM did not succeed: {s:?}"
        );
    }
    // Every acknowledged request's audit row is stored.
    let db = data.join("synapse.db");
    let audit = data.join("synapse.db-audit");
    let acknowledged: Vec<_> = seen
        .iter()
        .filter(|s| matches!(s.status, Some(200 | 201)))
        .filter_map(|s| s.request_id.clone().map(|id| (s.what, id)))
        .collect();
    assert!(!acknowledged.is_empty());
    for (what, request_id) in &acknowledged {
        assert!(
            audit_rows(&db, &audit, request_id).await >= 1,
            "no audit row for the acknowledged {what} {request_id}"
        );
    }

    let (text, ended) = tokio::time::timeout(Duration::from_secs(10), stream)
        .await
        .expect("the event stream ended with the server")
        .expect("stream task");
    assert!(text.contains("event: ready"), "{text}");
    assert!(
        text.contains(": the server is shutting down; reconnect"),
        "the stream was not told to reconnect: {text:?}"
    );
    let goodbye = &text[text.find("shutting down").unwrap_or(0)..];
    assert!(goodbye.contains("retry: 2000"), "{text:?}");
    assert!(ended, "the stream ended cleanly: {text:?}");
}
