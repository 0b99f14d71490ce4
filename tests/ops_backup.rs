//! `synapse admin backup` as an operator runs it: the real binary copying the database of a
//! real `synapse serve` on 127.0.0.1 while several clients register patients on it. Every
//! registration answered before the backup started is in the copy; both copied files pass
//! `PRAGMA integrity_check` and are readable by their owner only. `synapse admin restore`
//! refuses while the server runs, and with it stopped puts the copy back: a server starts on
//! it, the doctor logs in and reads each patient. And the refusals of `backup`: a directory that
//! is not empty, PostgreSQL (use pg_dump), and a database that is not there.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::served::{Served, http_client, synapse};
use serde_json::{Value, json};

const WRITERS: usize = 4;
/// A bound on each writer's requests, so the load stops by itself whatever happens.
const MAX_WRITES_PER_WRITER: usize = 2_000;

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn admin(dir: &Path, args: &[&str]) -> Run {
    let output = synapse(dir)
        .arg("admin")
        .args(args)
        .output()
        .expect("run synapse admin");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn login(client: &reqwest::Client, served: &Served) -> String {
    let reply: Value = client
        .post(served.url("/api/v1/auth/login"))
        .json(&json!({"email": "doc@demo.com", "password": "password123"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login JSON");
    reply["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {reply}"))
        .to_string()
}

async fn integrity(file: &Path) -> Vec<String> {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
    let rows = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("integrity_check");
    conn.close().await.expect("close");
    rows
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_holds_every_acknowledged_write_and_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let served = Served::start_async(
        dir.path(),
        &data,
        &["--demo"],
        &[],
        Duration::from_secs(120),
    )
    .await;
    let database = data.join("synapse.db");
    let url = format!("sqlite://{}", database.display());
    let client = http_client(Some(Duration::from_secs(30)));
    let token = login(&client, &served).await;

    // Writers: each registration is recorded with the moment its 201 arrived.
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, token, base) = (
            client.clone(),
            token.clone(),
            served.url("/api/v1/patients"),
        );
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            for n in 0..MAX_WRITES_PER_WRITER {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let reply = client
                    .post(&base)
                    .bearer_auth(&token)
                    .json(&json!({
                        "full_name": format!("Backup Load {writer} {n}"),
                        "date_of_birth": "1980-02-03",
                        "sex": "female",
                    }))
                    .send()
                    .await
                    .expect("register");
                assert_eq!(reply.status(), 201, "registration refused");
                let body: Value = reply.json().await.expect("patient JSON");
                let at = Instant::now();
                let id = body["data"]["id"].as_str().expect("id").to_string();
                acknowledged.lock().unwrap().push((at, id));
            }
        }));
    }
    let warm_up = Instant::now();
    while acknowledged.lock().unwrap().len() < 40 {
        assert!(
            warm_up.elapsed() < Duration::from_secs(60),
            "the writers are stuck"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let backup_dir = dir.path().join("backup");
    let started = Instant::now();
    let run = {
        let (dir, url, to) = (
            dir.path().to_path_buf(),
            url.clone(),
            backup_dir.display().to_string(),
        );
        tokio::task::spawn_blocking(move || {
            admin(&dir, &["backup", "--database", &url, "--to", &to])
        })
        .await
        .expect("backup")
    };
    let finished = Instant::now();
    // Some more writes after the copy, which it need not hold.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("synapse.db-audit"), "{run:#?}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, id)| id)
        .collect();
    let during = acknowledged
        .iter()
        .filter(|(at, _)| *at >= started && *at < finished)
        .count();
    assert!(
        during > 0,
        "the writers kept writing while the backup ran ({} writes in all)",
        acknowledged.len()
    );
    let after: Vec<String> = acknowledged
        .iter()
        .filter(|(at, _)| *at > finished)
        .map(|(_, id)| id.clone())
        .collect();

    // The copies: whole, private, and the demo key beside them.
    let copies = [
        backup_dir.join("synapse.db"),
        backup_dir.join("synapse.db-audit"),
        backup_dir.join("jwt-secret"),
    ];
    for copy in &copies {
        assert!(copy.is_file(), "{} was written", copy.display());
        #[cfg(unix)]
        assert_eq!(mode(copy), 0o600, "{} is the owner's only", copy.display());
    }
    #[cfg(unix)]
    assert_eq!(mode(&backup_dir), 0o700);
    for copy in &copies[..2] {
        assert_eq!(integrity(copy).await, ["ok"], "{}", copy.display());
    }

    // Restoring under the running server is refused, and changes nothing.
    let from = backup_dir.display().to_string();
    let restore = ["restore", "--database", &url, "--from", &from];
    let refused = admin(dir.path(), &restore);
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused.stderr.contains("a server has") && refused.stderr.contains("stop it first"),
        "{refused:#?}"
    );
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert!(
        !names(&data)
            .iter()
            .any(|name| name.contains("before-restore")),
        "nothing was set aside: {:?}",
        names(&data)
    );

    // With the server stopped, the backup goes back in place of the live files.
    drop(served);
    let restored = admin(dir.path(), &restore);
    assert_eq!(restored.code, 0, "{restored:#?}");
    assert!(
        names(&data)
            .iter()
            .any(|name| name.starts_with("synapse.db.before-restore-")),
        "the replaced data file is kept: {:?}",
        names(&data)
    );
    for file in ["synapse.db", "synapse.db-audit"] {
        assert_eq!(integrity(&data.join(file)).await, ["ok"], "{file}");
        #[cfg(unix)]
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let served = Served::start_async(
        dir.path(),
        &data,
        &["--demo"],
        &[],
        Duration::from_secs(120),
    )
    .await;
    let token = login(&client, &served).await;
    for id in &before {
        let reply = client
            .get(served.url(&format!("/api/v1/patients/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read");
        assert_eq!(
            reply.status(),
            200,
            "patient {id}, acknowledged before the backup began, is in the restored copy"
        );
    }
    if let Some(id) = after.first() {
        let reply = client
            .get(served.url(&format!("/api/v1/patients/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read");
        assert_eq!(
            reply.status(),
            404,
            "a patient registered after the backup is gone: the restore replaced the files"
        );
    }
    assert!(
        !served.log_text().contains("audit log file"),
        "the restored audit log pairs with its data file: {}",
        served.log_text()
    );
}

#[test]
fn backup_and_restore_refuse_what_they_cannot_do_and_say_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("earlier.db"), b"an earlier backup").unwrap();
    let missing = format!("sqlite://{}", dir.path().join("typo.db").display());
    let to = full.display().to_string();

    let run = admin(dir.path(), &["backup", "--database", &missing, "--to", &to]);
    assert_eq!(run.code, 5, "{run:#?}");
    assert!(run.stderr.contains("there is no database at"), "{run:#?}");
    assert!(!dir.path().join("typo.db").exists(), "nothing was created");

    let existing = dir.path().join("clinic.db");
    std::fs::write(&existing, b"").unwrap();
    let url = format!("sqlite://{}", existing.display());
    let run = admin(dir.path(), &["backup", "--database", &url, "--to", &to]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--to") && run.stderr.contains("not empty"),
        "{run:#?}"
    );
    assert_eq!(
        std::fs::read(full.join("earlier.db")).unwrap(),
        b"an earlier backup",
        "the earlier backup is untouched"
    );

    let to = dir.path().join("pg").display().to_string();
    let run = admin(
        dir.path(),
        &[
            "backup",
            "--database",
            "postgres://synapse@127.0.0.1/synapse",
            "--to",
            &to,
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("pg_dump"), "{run:#?}");
    assert!(!dir.path().join("pg").exists(), "nothing was created");

    // Restore from a directory that is no backup, and on PostgreSQL.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let from = empty.display().to_string();
    let run = admin(
        dir.path(),
        &["restore", "--database", &url, "--from", &from],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--from") && run.stderr.contains("holds no clinic.db"),
        "{run:#?}"
    );
    assert!(existing.is_file(), "the database is left where it was");
    let run = admin(
        dir.path(),
        &[
            "restore",
            "--database",
            "postgres://synapse@127.0.0.1/synapse",
            "--from",
            &from,
        ],
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("pg_restore"), "{run:#?}");
}
