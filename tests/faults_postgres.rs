//! What `synapse serve` does when its PostgreSQL goes away under load: the test runs a cluster
//! of its own (initdb and pg_ctl, on its own port and data directory), a real server on it, and
//! a few clients reading and writing; then stops the cluster the hard way (`pg_ctl stop -m
//! immediate`, what a crash or an OOM kill looks like to the server). Every request answers
//! within a second, with a 503 `SERVICE_UNAVAILABLE` once the database is gone; `/ready` says
//! 503; when the cluster is back the same server process answers normally within 5 s; and no
//! consultation, report or audit row was left half-written.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};

mod common;

use common::load::{Load, Record, login, status_of};
use common::served::{Served, free_port, http_client};

const SECRET: &str = "a-fault-test-signing-key-of-enough-length";
/// How long a request may take once the database is gone (the promise of RELIABILITY.md).
const FAIL_WITHIN: Duration = Duration::from_secs(1);
/// How long after the database is back the server must answer normally.
const RECOVER_WITHIN: Duration = Duration::from_secs(5);
const CLIENTS: usize = 4;

/// The newest PostgreSQL server binaries installed, if any.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A PostgreSQL cluster of the test's own: its data directory, socket and log in a temporary
/// directory, listening on 127.0.0.1:`port`, trust authentication. Stopped when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_root: bool,
}

impl Cluster {
    /// `initdb` and start. As root, the cluster's programs run as the `postgres` user
    /// (PostgreSQL refuses to run as root), through util-linux's `setpriv`.
    fn start(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let as_root = running_as_root();
        if as_root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
            as_root,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.pg_ctl_start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One of the cluster's programs, as `postgres` when the test runs as root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_root {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
                .arg(program);
            command
        } else {
            Command::new(program)
        };
        command
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env_remove("PGDATA");
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "start", "-w", "-t", "30", "-D", &data, "-l", &log, "-o", &options,
            ],
        );
    }

    /// The hard stop: every backend killed at once, no checkpoint (crash recovery on start).
    fn stop_immediate(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["stop", "-w", "-t", "30", "-m", "immediate", "-D", &data],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-w", "-t", "10", "-m", "immediate", "-D", &data])
            .output();
    }
}

/// The counts of rows a write left half-done, by what they are; all must be zero.
async fn half_written(url: &str) -> Vec<(&'static str, i64)> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect for the checks");
    let checks: [(&str, &str); 6] = [
        (
            "completed consultations without their report",
            "SELECT COUNT(*) FROM consultations c WHERE c.status = 'completed' \
             AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.consultation_id = c.id)",
        ),
        (
            "reports whose consultation is not completed",
            "SELECT COUNT(*) FROM reports r JOIN consultations c ON c.id = r.consultation_id \
             WHERE c.status <> 'completed'",
        ),
        (
            "registered patients without their audit row",
            "SELECT COUNT(*) FROM patients p WHERE p.full_name LIKE 'Fault %' AND NOT EXISTS \
             (SELECT 1 FROM audit_events a WHERE a.action = 'patient.create' \
              AND a.resource_id = p.id::text)",
        ),
        (
            "audit rows of registrations that are not stored",
            "SELECT COUNT(*) FROM audit_events a WHERE a.action = 'patient.create' \
             AND a.outcome = 'success' \
             AND NOT EXISTS (SELECT 1 FROM patients p WHERE p.id::text = a.resource_id)",
        ),
        (
            "consultations of the load without their audit row",
            "SELECT COUNT(*) FROM consultations c JOIN patients p ON p.id = c.patient_id \
             WHERE p.full_name LIKE 'Fault %' AND NOT EXISTS (SELECT 1 FROM audit_events a \
             WHERE a.action = 'consultation.start' AND a.resource_id = c.id::text)",
        ),
        (
            "audit rows of starts that are not stored",
            "SELECT COUNT(*) FROM audit_events a WHERE a.action = 'consultation.start' \
             AND a.outcome = 'success' \
             AND NOT EXISTS (SELECT 1 FROM consultations c WHERE c.id::text = a.resource_id)",
        ),
    ];
    let mut found = Vec::new();
    for (what, sql) in checks {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        found.push((what, count));
    }
    pool.close().await;
    found
}

async fn count_of(url: &str, table: &str, ids: &[String]) -> usize {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect for the checks");
    let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE id::text = ANY($1)"
    )))
    .bind(ids)
    .fetch_one(&pool)
    .await
    .expect("count");
    pool.close().await;
    count as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_postgresql_dies_under_load_requests_fail_fast_and_the_server_recovers() {
    let Some(bin) = postgres_bin() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this test needs the PostgreSQL server binaries (initdb, pg_ctl) in \
             /usr/lib/postgresql/*/bin; install the postgresql package"
        );
        eprintln!("skipped: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin");
        return;
    };
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(bin))
        .await
        .expect("cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = cluster.url();
    let served = Served::start_async(
        dir.path(),
        &dir.path().join("data"),
        &["--demo", "--database", &url],
        &[
            ("SYNAPSE_JWT_SECRET", SECRET),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "1000000"),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
        ],
        Duration::from_secs(60),
    )
    .await;
    // Far past the promise, so a request that hangs shows as one, not as a stuck test.
    let http = http_client(Some(Duration::from_secs(15)));
    let tokens = [
        login(&http, &served.base, "doc@demo.com").await,
        login(&http, &served.base, "doc2@demo.com").await,
    ];
    let load = Arc::new(Load {
        base: served.base.clone(),
        http: http.clone(),
        origin: Instant::now(),
        record: Mutex::new(Record::default()),
    });
    let until = Arc::new(tokio::sync::Notify::new());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(
                load.clone()
                    .client(n, tokens[n % tokens.len()].clone(), until.clone()),
            )
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let served_before = load.record.lock().unwrap().seen.len();
    let stopping = load.origin.elapsed();
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop_immediate();
        cluster
    })
    .await
    .expect("stop");
    let stopped = load.origin.elapsed();

    // Down: the load goes on against a server without a database.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let ready_down = status_of(&http, served.url("/ready"), None).await;

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.pg_ctl_start();
        cluster
    })
    .await
    .expect("restart");
    let restarted = Instant::now();
    // Recovered: a read and a write through the same server process succeed.
    let mut recovered = None;
    while restarted.elapsed() < RECOVER_WITHIN + Duration::from_secs(5) {
        let read = status_of(
            &http,
            served.url("/api/v1/patients/list?limit=1"),
            Some(&tokens[0]),
        )
        .await;
        let ready = status_of(&http, served.url("/ready"), None).await;
        if read == Some(200) && ready == Some(200) {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    until.notify_waiters();
    for client in clients {
        let _ = tokio::time::timeout(Duration::from_secs(20), client).await;
    }

    let record = std::mem::take(&mut *load.record.lock().unwrap());
    let seen = record.seen.clone();
    eprintln!(
        "{} answers before the stop, {} in all; the stop took {:?}",
        served_before,
        seen.len(),
        stopped - stopping
    );
    assert!(
        served_before >= 8,
        "the load ran before the stop: {served_before} answers"
    );
    // Every answer came in time: none hung until the client's timeout.
    let unanswered: Vec<_> = seen.iter().filter(|s| s.status.is_none()).collect();
    assert!(
        unanswered.is_empty(),
        "requests without an answer: {unanswered:#?}"
    );
    // Sent once the database was gone (and before it came back): a prompt 503.
    let down: Vec<_> = seen
        .iter()
        .filter(|s| s.sent > stopped && s.sent + s.took < stopped + Duration::from_secs(2))
        .collect();
    assert!(
        down.len() >= CLIENTS,
        "the load ran while the database was down: {down:?}"
    );
    let slowest = down.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "{} requests while the database was down, the slowest answered in {slowest:?}; \
         recovered {recovered:?} after the restart",
        down.len()
    );
    for s in &down {
        assert_eq!(s.status, Some(503), "{s:?}");
        assert_eq!(s.code, "SERVICE_UNAVAILABLE", "{s:?}");
        assert!(
            s.took < FAIL_WITHIN,
            "a request took {:?} to fail: {s:?}",
            s.took
        );
    }
    // In flight at the stop: finished (either way) within the bound too.
    for s in seen
        .iter()
        .filter(|s| s.sent <= stopped && s.sent + s.took > stopping)
    {
        assert!(
            s.sent + s.took < stopped + FAIL_WITHIN,
            "a request in flight at the stop took {:?}: {s:?}",
            s.took
        );
        assert!(
            matches!(s.status, Some(200 | 201 | 503)),
            "a request in flight at the stop answered {s:?}"
        );
    }
    assert_eq!(ready_down, Some(503), "/ready while the database is down");
    let recovered = recovered.unwrap_or_else(|| {
        panic!(
            "the server did not answer normally within {RECOVER_WITHIN:?} of the restart:\n{}",
            served.log_text()
        )
    });
    assert!(recovered < RECOVER_WITHIN, "recovered after {recovered:?}");
    // After the restart the load's writes go through again.
    let after: Vec<_> = seen
        .iter()
        .filter(|s| s.what == "register" && s.sent > stopped + Duration::from_secs(2))
        .collect();
    assert!(
        after.iter().any(|s| s.status == Some(201)),
        "no registration succeeded after the restart: {after:?}"
    );

    // Nothing half-written, and every acknowledged write is there.
    let Record {
        patients,
        consultations,
        reports,
        ..
    } = record;
    for (what, count) in half_written(&url).await {
        assert_eq!(count, 0, "{what}: {count}");
    }
    assert_eq!(count_of(&url, "patients", &patients).await, patients.len());
    assert_eq!(
        count_of(&url, "consultations", &consultations).await,
        consultations.len()
    );
    assert_eq!(count_of(&url, "reports", &reports).await, reports.len());
    drop(served);
    drop(cluster);
}
