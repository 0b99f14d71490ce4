//! `synapse serve` on SQLite when the disk under its database fills up mid-load: the data
//! directory is on a small tmpfs the test mounts (root only; under CI=true a failed mount is
//! a failure). Once the space is gone, writes answer 503 `SERVICE_UNAVAILABLE` whose message
//! says the disk is full, reads go on (their audit rows are stored in the space the server
//! kept in reserve), nothing is corrupted, and when space is freed writes work again in the
//! same process, without a restart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::load::login;
use common::served::{Served, http_client};

const SECRET: &str = "a-fault-test-signing-key-of-enough-length";

/// A size-limited tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Result<SmallDisk, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| format!("run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(SmallDisk {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Writes a file until the file system refuses more.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("filler file");
    let chunk = vec![0u8; 16 * 1024];
    loop {
        if file
            .write_all(&chunk)
            .and_then(|()| file.sync_all())
            .is_err()
        {
            return;
        }
    }
}

async fn register(http: &reqwest::Client, base: &str, token: &str, n: usize) -> (u16, Value) {
    let reply = http
        .post(format!("{base}/api/v1/patients"))
        .bearer_auth(token)
        .json(&json!({
            "full_name": format!("Disk Full Patient{n}"),
            "date_of_birth": "1975-01-02",
            "sex": "other",
        }))
        .send()
        .await
        .expect("answered");
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

/// A connection of the test's own to the SQLite file at `path`, once the server is gone.
async fn connect(path: &Path) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    use std::str::FromStr;

    sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("path")
        .connect()
        .await
        .expect("open")
}

/// Whether an error body says the server's disk is full.
fn names_the_full_disk(body: &Value) -> bool {
    body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("disk is full")
}

async fn integrity(path: &Path) -> Vec<String> {
    use sqlx::Connection;

    let mut connection = connect(path).await;
    let rows = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await
        .expect("integrity_check");
    let _ = connection.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_a_clear_503_and_writes_resume_once_space_is_freed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let disk = match SmallDisk::mount(&dir.path().join("disk"), "24m") {
        Ok(disk) => disk,
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: this test mounts a small tmpfs, which needs root: {error}"
            );
            eprintln!("skipped: cannot mount a tmpfs ({error})");
            return;
        }
    };
    let data = disk.path.join("data");
    let served = Served::start_async(
        dir.path(),
        &data,
        &["--demo"],
        &[
            ("SYNAPSE_JWT_SECRET", SECRET),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "1000000"),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
            // Of the 24 MiB disk: enough for the audit rows of many reads.
            ("SYNAPSE_AUDIT_RESERVE_MB", "2"),
            // A session records its use every 2 s at this idle timeout: a read below comes
            // after such a pause, so it would record it while changes are refused.
            ("SYNAPSE_SESSION_IDLE_TIMEOUT_S", "60"),
        ],
        Duration::from_secs(60),
    )
    .await;
    let http = http_client(Some(Duration::from_secs(15)));
    let token = login(&http, &served.base, "doc@demo.com").await;
    let reserve = data.join("synapse.db-reserve");
    assert_eq!(
        std::fs::metadata(&reserve).map(|m| m.len()).ok(),
        Some(2 * 1024 * 1024),
        "the server keeps its reserve beside the database"
    );
    let mut acknowledged = Vec::new();
    let mut n = 0;
    for _ in 0..5 {
        n += 1;
        let (status, body) = register(&http, &served.base, &token, n).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body["data"]["id"].as_str().expect("id").to_string());
    }

    let filler = disk.path.join("filler");
    tokio::task::spawn_blocking({
        let filler = filler.clone();
        move || fill(&filler)
    })
    .await
    .expect("fill");
    // The WAL may still hold room for a few commits; past it, every write is refused.
    let mut refused = None;
    for _ in 0..500 {
        n += 1;
        let (status, body) = register(&http, &served.base, &token, n).await;
        match status {
            201 => acknowledged.push(body["data"]["id"].as_str().expect("id").to_string()),
            _ => {
                refused = Some((status, body));
                break;
            }
        }
    }
    let (status, body) = refused.expect("a write was refused once the disk was full");
    if status != 503 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        eprintln!("server log:\n{}", served.log_text());
    }
    assert_eq!(status, 503, "{body}\n{}", served.log_text());
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    assert!(names_the_full_disk(&body), "{body}");
    for _ in 0..3 {
        n += 1;
        let (status, body) = register(&http, &served.base, &token, n).await;
        if status != 503 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(status, 503, "{body}\n{}", served.log_text());
        assert!(names_the_full_disk(&body), "{body}");
    }
    // Reads go on: each is answered, its audit row stored in the space of the reserve.
    const READS: usize = 40;
    for i in 0..READS {
        if i == 1 {
            // The first read gave the reserve to the audit trail; the next one records the
            // session's use too, which is a change, and must not cost the read.
            tokio::time::sleep(Duration::from_millis(2100)).await;
        }
        let path = if i % 2 == 0 {
            "/api/v1/patients/list?limit=5"
        } else {
            "/api/v1/patients/search?q=disk"
        };
        let reply = http
            .get(served.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read answered");
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status,
            200,
            "read {i} on a full disk: {body}\n{}",
            served.log_text()
        );
    }
    assert!(
        !reserve.exists(),
        "the reserve was given to the audit trail"
    );
    // And changes are still refused, so they do not eat the space the reads live on.
    n += 1;
    let (status, body) = register(&http, &served.base, &token, n).await;
    assert_eq!(status, 503, "{body}");
    assert!(names_the_full_disk(&body), "{body}");

    std::fs::remove_file(&filler).expect("free the space");
    let freed = Instant::now();
    let mut resumed = None;
    while freed.elapsed() < Duration::from_secs(5) {
        n += 1;
        let (status, body) = register(&http, &served.base, &token, n).await;
        if status == 201 {
            acknowledged.push(body["data"]["id"].as_str().expect("id").to_string());
            resumed = Some(freed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed = resumed.expect("writes resumed within 5 s of freeing space, without a restart");
    eprintln!("writes resumed {resumed:?} after the space was freed");
    assert!(
        reserve.exists(),
        "the reserve is back once the disk has room"
    );
    drop(served);

    for file in ["synapse.db", "synapse.db-audit"] {
        assert_eq!(
            integrity(&data.join(file)).await,
            vec!["ok".to_string()],
            "{file}"
        );
    }
    use sqlx::Connection;
    let mut connection = connect(&data.join("synapse.db")).await;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM patients WHERE id IN (SELECT value FROM json_each($1))",
    )
    .bind(serde_json::to_string(&acknowledged).expect("ids"))
    .fetch_one(&mut connection)
    .await
    .expect("count");
    let _ = connection.close().await;
    assert_eq!(
        count as usize,
        acknowledged.len(),
        "every acknowledged write is there"
    );

    // Every read answered on the full disk has its audit row.
    let mut audit = connect(&data.join("synapse.db-audit")).await;
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events \
         WHERE action IN ('patient.list', 'patient.search') AND outcome = 'success'",
    )
    .fetch_one(&mut audit)
    .await
    .expect("count the reads");
    let _ = audit.close().await;
    assert_eq!(reads as usize, READS, "one audit row per read");
}
