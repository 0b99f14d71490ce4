//! `synapse serve` as an operator runs it: the files it creates are its own (0600), a database
//! its user cannot write is refused at start with the file named, `/ready` says 503 while the
//! database refuses writes and 200 again once it takes them, and its log has no colour codes
//! off a terminal, a JSON form, a start and a shutdown line, and no driver noise.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::TestDatabase;
use common::served::{BIN, Served, free_port, http_client, synapse, wait_bounded};

const SECRET: &str = "an-operator-test-signing-key-of-enough-length";
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Whether this process runs as root, which the tests that switch to another user need.
fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// `synapse serve` with stderr captured to a file, on a free port; answers the child, its
/// port and the log path. The caller waits for it.
fn spawn_serve(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (std::process::Child, u16) {
    let port = free_port();
    let mut command = synapse(dir);
    command
        .arg("serve")
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SYNAPSE_JWT_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap());
    for (name, value) in envs {
        command.env(name, value);
    }
    (command.spawn().expect("spawn synapse serve"), port)
}

async fn wait_healthy(port: u16) {
    let http = http_client(Some(Duration::from_secs(2)));
    let started = Instant::now();
    while started.elapsed() < HEALTHY_WITHIN {
        if let Ok(reply) = http
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            && reply.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("synapse serve on {port} was not healthy in {HEALTHY_WITHIN:?}");
}

fn terminate(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
}

#[tokio::test]
async fn the_database_files_it_creates_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinic.db");
    let url = format!("sqlite://{}", db.display());
    let (mut child, port) = spawn_serve(dir.path(), &["--database", &url], &[]);
    wait_healthy(port).await;
    for name in [
        "clinic.db",
        "clinic.db-wal",
        "clinic.db-shm",
        "clinic.db-audit",
        "clinic.db-audit-wal",
        "clinic.db-audit-shm",
    ] {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
    terminate(&child);
    assert!(wait_bounded(&mut child, Duration::from_secs(20)).success());
}

#[tokio::test]
async fn a_database_its_user_cannot_write_is_refused_at_start_naming_the_file() {
    if !running_as_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: this test runs the server as `nobody`, which needs root"
        );
        eprintln!("skipped: switching to another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let db = dir.path().join("clinic.db");
    let url = format!("sqlite://{}", db.display());
    // Made by its owner (root here), then handed to a user who may read but not write it.
    let (mut child, port) = spawn_serve(dir.path(), &["--database", &url], &[]);
    wait_healthy(port).await;
    terminate(&child);
    assert!(wait_bounded(&mut child, Duration::from_secs(20)).success());
    for name in ["clinic.db", "clinic.db-audit"] {
        std::fs::set_permissions(
            dir.path().join(name),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }

    let port = free_port();
    let log = dir.path().join("as-nobody.log");
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN])
        .args(["serve", "--database", &url])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SYNAPSE_JWT_SECRET", SECRET)
        .env(
            synapse::store::cipher::KEYS_VAR,
            common::served::test_keys(),
        )
        .env("SYNAPSE_CONFIG", dir.path().join("none.toml"))
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = command.spawn().expect("setpriv (util-linux) runs");
    let status = wait_bounded(&mut child, Duration::from_secs(30));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "it must not start: {text}");
    assert!(
        text.contains(&db.display().to_string()),
        "names the file: {text}"
    );
    assert!(
        text.contains("write access") || text.contains("read and write"),
        "says what to do: {text}"
    );
    assert!(!text.contains("Synapse API started"), "{text}");
}

#[tokio::test]
async fn ready_fails_while_the_database_refuses_writes_and_recovers_without_a_restart() {
    let Some(admin_url) = common::postgres_url() else {
        eprintln!("skipped: no PostgreSQL configured");
        return;
    };
    let database = TestDatabase::create(&admin_url).await;
    // Migrated by its owner; the server runs as a role of its own, whose writes are taken away.
    drop(
        synapse::store::postgres::PgStore::open(&database.url)
            .await
            .unwrap(),
    );
    let role = format!("{}_server", database.name);
    let owner = sqlx::PgPool::connect(&database.url).await.unwrap();
    let run = |sql: String| {
        let owner = owner.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&owner)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    };
    run(format!("CREATE ROLE \"{role}\" LOGIN")).await;
    // The server checks its migrations at start, which needs CREATE on the schema.
    run(format!(
        "GRANT USAGE, CREATE ON SCHEMA public TO \"{role}\""
    ))
    .await;
    let grant = format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\""
    );
    run(grant.clone()).await;
    run(format!(
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{role}\""
    ))
    .await;
    let mut url = reqwest::Url::parse(&database.url).unwrap();
    url.set_username(&role).unwrap();
    let url = url.to_string();

    let dir = tempfile::tempdir().unwrap();
    let served = Served::start_async(
        dir.path(),
        &dir.path().join("data"),
        &["--database", &url],
        &[("SYNAPSE_JWT_SECRET", SECRET)],
        HEALTHY_WITHIN,
    )
    .await;
    let http = http_client(Some(Duration::from_secs(10)));
    let ready = || async { http.get(served.url("/ready")).send().await.unwrap() };
    assert_eq!(ready().await.status(), 200, "{}", served.log_text());

    run(format!(
        "REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM \"{role}\""
    ))
    .await;
    let refused = ready().await;
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE", "{body:#}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not take writes"),
        "{body:#}"
    );
    assert!(body["request_id"].is_string());

    run(grant).await;
    assert_eq!(ready().await.status(), 200, "{}", served.log_text());

    drop(served);
    run(format!("DROP OWNED BY \"{role}\"")).await;
    owner.close().await;
    drop(database);
    // The role outlives its database's drop only until here.
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP ROLE IF EXISTS \"{role}\""
    )))
    .execute(&admin)
    .await;
}

#[tokio::test]
async fn the_log_has_no_colour_off_a_terminal_and_a_start_and_a_shutdown_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clinic.db").display());
    let (mut child, port) = spawn_serve(
        dir.path(),
        &["--database", &url],
        &[("SYNAPSE_LOG", "info")],
    );
    wait_healthy(port).await;
    terminate(&child);
    let status = wait_bounded(&mut child, Duration::from_secs(20));
    let text = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(status.success(), "SIGTERM exits 0: {status}\n{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no escape codes in a file: {text:?}"
    );
    assert!(text.contains("Synapse API started"), "{text}");
    assert!(text.contains("shutting down"), "{text}");
    assert!(text.contains("Synapse API stopped"), "{text}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_no_driver_noise() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clinic.db").display());
    let (mut child, port) = spawn_serve(
        dir.path(),
        &["--database", &url, "--demo"],
        &[("SYNAPSE_LOG", "info"), ("SYNAPSE_LOG_FORMAT", "json")],
    );
    wait_healthy(port).await;
    let http = http_client(Some(Duration::from_secs(10)));
    http.get(format!("http://127.0.0.1:{port}/ready"))
        .send()
        .await
        .unwrap();
    terminate(&child);
    assert!(wait_bounded(&mut child, Duration::from_secs(20)).success());
    let text = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .map(|line| line["message"].as_str().unwrap_or_default())
        .collect();
    assert!(messages.contains(&"Synapse API started"), "{text}");
    assert!(messages.contains(&"Synapse API stopped"), "{text}");
    for line in &lines {
        assert!(line["level"].is_string() && line["timestamp"].is_string());
        let target = line["target"].as_str().unwrap_or_default();
        if line["level"] == "INFO" {
            assert!(target.starts_with("synapse"), "INFO from {target}: {line}");
        }
    }
}

#[test]
fn an_unknown_log_format_is_refused_with_the_values_it_takes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clinic.db").display());
    let output = synapse(dir.path())
        .args(["serve", "--database", &url, "--listen", "127.0.0.1:0"])
        .env("SYNAPSE_JWT_SECRET", SECRET)
        .env("SYNAPSE_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("SYNAPSE_LOG_FORMAT"), "{text}");
    assert!(text.contains("\"json\""), "{text}");
}
