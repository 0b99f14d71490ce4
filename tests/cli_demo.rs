//! The real `synapse` binary: `serve --demo` on a fresh data directory runs the documented
//! `curl` flow of docs/API.md verbatim, keeps its generated signing key private beside the
//! database, and loads the demo only once across restarts; `serve` without a key refuses to
//! start (and never creates demo accounts); `seed` fills a database with synthetic patients.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::served::{Served, free_port, http_client, synapse, wait_bounded};

/// The longest `synapse serve` may take to answer `/health`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// The first command of the documented flow, as written: raw JSON body, explicit content type.
async fn login(http: &reqwest::Client, served: &Served, email: &str) -> reqwest::Response {
    http.post(served.url("/api/v1/auth/login"))
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"email":"{email}","password":"password123"}}"#))
        .send()
        .await
        .expect("login sent")
}

async fn access_token(http: &reqwest::Client, served: &Served, email: &str) -> String {
    let response = login(http, served, email).await;
    assert_eq!(response.status(), 200, "login of {email} failed");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "success");
    body["data"]["access_token"]
        .as_str()
        .expect(".data.access_token")
        .to_string()
}

async fn get_json(http: &reqwest::Client, served: &Served, path: &str, token: &str) -> Value {
    let response = http
        .get(served.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 200, "GET {path}: {body:#}");
    assert_eq!(body["status"], "success", "{body:#}");
    body
}

#[tokio::test]
async fn the_documented_flow_works_on_a_demo_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::start_async(dir.path(), &data, &["--demo"], &[], HEALTHY_WITHIN).await;
    let http = http_client(None);

    let token = access_token(&http, &served, "doc@demo.com").await;

    let patients = get_json(&http, &served, "/api/v1/patients/list/?limit=10", &token).await;
    assert_eq!(patients["data"]["items"].as_array().unwrap().len(), 10);
    let total = patients["data"]["pagination"]["total"].as_u64().unwrap();
    assert!(
        (150..=250).contains(&total),
        "the demo doctor has {total} patients"
    );
    assert_eq!(patients["data"]["pagination"]["has_more"], true);
    for patient in patients["data"]["items"].as_array().unwrap() {
        assert!(patient["mrn"].as_str().unwrap().starts_with("MRN-"));
        assert!(!patient["full_name"].as_str().unwrap().is_empty());
    }

    let reports = get_json(&http, &served, "/api/v1/reports/list?limit=10", &token).await;
    let items = reports["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(reports["data"]["pagination"]["total"].as_u64().unwrap() >= 10);
    for report in items {
        assert!(report["patient"]["mrn"].is_string(), "{report:#}");
        assert!(report["consultation"]["session_code"].is_string());
    }

    let stats = get_json(&http, &served, "/api/v1/reports/stats", &token).await;
    let by_status = &stats["data"]["by_status"];
    for status in ["pending", "generating", "completed", "signed", "failed"] {
        assert!(
            by_status[status].as_u64().is_some_and(|n| n > 0),
            "no {status} reports in the demo: {stats:#}"
        );
    }
    assert_eq!(stats["data"]["daily"].as_array().unwrap().len(), 30);
    assert_eq!(stats["data"]["unsigned"], by_status["completed"]);

    // The other demo accounts of API.md log in too.
    access_token(&http, &served, "adm@demo.com").await;
    access_token(&http, &served, "rec@demo.com").await;

    // A fresh process counted the requests made before its first scrape.
    let metrics = http
        .get(served.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("http_requests_total")
                && line.contains("route=\"/api/v1/patients/list\"")),
        "the patients list is not counted:\n{metrics}"
    );
}

#[tokio::test]
async fn the_demo_loads_once_and_keeps_its_signing_key_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = http_client(None);

    let served = Served::start_async(dir.path(), &data, &["--demo"], &[], HEALTHY_WITHIN).await;
    let first_token = access_token(&http, &served, "doc@demo.com").await;
    let first = get_json(
        &http,
        &served,
        "/api/v1/patients/list/?limit=10",
        &first_token,
    )
    .await;
    let total = first["data"]["pagination"]["total"].as_u64().unwrap();
    let first_stats = get_json(&http, &served, "/api/v1/reports/stats", &first_token).await;
    drop(served);

    let secret = data.join("jwt-secret");
    assert!(data.join("synapse.db").exists(), "no database in {data:?}");
    let key = std::fs::read_to_string(&secret).expect("the signing key is beside the database");
    assert!(key.trim().len() >= 32, "the generated key is too short");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "jwt-secret has mode {:o}",
            mode & 0o777
        );
    }

    let served = Served::start_async(dir.path(), &data, &["--demo"], &[], HEALTHY_WITHIN).await;
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        key,
        "the signing key changed on restart"
    );
    // The key is reused, so a token of the first run is still good.
    get_json(&http, &served, "/api/v1/auth/me", &first_token).await;
    let token = access_token(&http, &served, "doc@demo.com").await;
    let again = get_json(&http, &served, "/api/v1/patients/list/?limit=10", &token).await;
    assert_eq!(
        again["data"]["pagination"]["total"].as_u64().unwrap(),
        total,
        "the demo was loaded twice"
    );
    let stats = get_json(&http, &served, "/api/v1/reports/stats", &token).await;
    assert_eq!(stats["data"]["total"], first_stats["data"]["total"]);
    let admin = access_token(&http, &served, "adm@demo.com").await;
    let users = get_json(&http, &served, "/api/v1/admin/users?limit=100", &admin).await;
    let demo_doctors = users["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "doc@demo.com")
        .count();
    assert_eq!(demo_doctors, 1);
}

#[tokio::test]
async fn serve_without_a_signing_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let output = {
        let mut child = synapse(dir.path())
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SYNAPSE_DATA_DIR", &data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn synapse serve");
        let status = wait_bounded(&mut child, Duration::from_secs(30));
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    };
    let (status, stderr) = output;
    assert!(!status.success(), "serve started without a key");
    assert!(
        stderr.contains("SYNAPSE_JWT_SECRET"),
        "the error does not say how to fix it: {stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something listens on the port"
    );
    assert!(
        !data.join("jwt-secret").exists(),
        "a key was generated without --demo"
    );

    // With a key and no --demo, a fresh database has no demo accounts.
    let secret = "k".repeat(40);
    let served = Served::start_async(
        dir.path(),
        &data,
        &[],
        &[("SYNAPSE_JWT_SECRET", secret.as_str())],
        HEALTHY_WITHIN,
    )
    .await;
    let http = http_client(None);
    for email in ["doc@demo.com", "adm@demo.com", "rec@demo.com"] {
        let response = login(&http, &served, email).await;
        assert_eq!(response.status(), 401, "{email} exists without --demo");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "INVALID_CREDENTIALS");
    }
    drop(served);
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("synapse.db").display()))
            .await
            .unwrap();
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((users, patients), (0, 0));
    pool.close().await;
}

#[tokio::test]
async fn seed_fills_a_database_with_synthetic_patients() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("seed.db");
    let url = format!("sqlite://{}", db.display());
    let seed = || {
        let mut child = synapse(dir.path())
            .env("SYNAPSE_DATA_DIR", dir.path().join("data"))
            .args([
                "seed",
                "--patients",
                "500",
                "--doctors",
                "2",
                "--database",
                &url,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn synapse seed");
        let status = wait_bounded(&mut child, Duration::from_secs(300));
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            status.success(),
            "seed failed ({status}): {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("Added 500 patients"), "{stdout}");
    };
    seed();
    // A second load into the same database adds patients of its own rather than repeating
    // the first load's ids.
    seed();

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(patients, 1000);
    let set_aside: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE key LIKE 'bulk%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(set_aside, 0, "the load left its indexes set aside");
    let doctors: Vec<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE role = 'doctor' ORDER BY email")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        doctors,
        [
            "seed-doctor-1@synthetic.test",
            "seed-doctor-2@synthetic.test"
        ]
    );
    let owners: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT doctor_id) FROM patients")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(owners, 2, "the patients are not spread over both doctors");
    let demo: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email LIKE '%@demo.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(demo, 0, "seed created demo accounts");
    pool.close().await;
    assert!(
        !dir.path().join("data").join("synapse.db").exists(),
        "seed wrote to the default database instead of --database"
    );
}

/// Runs `synapse seed --patients N` with `envs` and extra `args`, and fails with its output
/// unless it succeeds.
fn seed_with(dir: &std::path::Path, patients: u32, envs: &[(&str, String)], args: &[&str]) {
    let mut command = synapse(dir);
    command
        .env("SYNAPSE_DATA_DIR", dir.join("data"))
        .args(["seed", "--patients", &patients.to_string()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn synapse seed");
    let status = wait_bounded(&mut child, Duration::from_secs(300));
    let output = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "seed failed ({status}): {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn patient_count(db: &std::path::Path) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    patients
}

#[tokio::test]
async fn seed_honours_synapse_database_url_and_the_flag_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("from-env.db");
    let env_url = format!("sqlite://{}", from_env.display());
    let envs = [("SYNAPSE_DATABASE_URL", env_url)];
    seed_with(dir.path(), 20, &envs, &[]);
    assert!(
        !dir.path().join("data").join("synapse.db").exists(),
        "seed filled the default database instead of SYNAPSE_DATABASE_URL's"
    );
    assert_eq!(patient_count(&from_env).await, 20);

    // --database is above the environment.
    let from_flag = dir.path().join("from-flag.db");
    let flag_url = format!("sqlite://{}", from_flag.display());
    seed_with(dir.path(), 10, &envs, &["--database", &flag_url]);
    assert_eq!(patient_count(&from_flag).await, 10);
    assert_eq!(patient_count(&from_env).await, 20, "the flag did not win");
}

/// Runs `synapse seed` with `args` and standard input from nowhere; returns the exit code and
/// the standard error.
fn seed_run(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let mut child = synapse(dir)
        .env("SYNAPSE_DATA_DIR", dir.join("data"))
        .arg("seed")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn synapse seed");
    let status = wait_bounded(&mut child, Duration::from_secs(300));
    let output = child.wait_with_output().unwrap();
    (
        status.code().expect("an exit code"),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test]
async fn seed_asks_before_adding_accounts_beside_real_users_and_draws_no_bar_in_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinic.db");
    let url = format!("sqlite://{}", db.display());
    // A database of synthetic and demo accounts only: no question.
    let (code, stderr) = seed_run(dir.path(), &["--patients", "30", "--database", &url]);
    assert_eq!(code, 0, "{stderr}");
    // Not a terminal: no progress bar, no carriage returns, nothing but warnings.
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(!stderr.contains("patients,"), "{stderr:?}");

    // A real user.
    let mut child = synapse(dir.path())
        .args([
            "admin",
            "--database",
            &url,
            "create-user",
            "--email",
            "dana@clinic.test",
            "--full-name",
            "Dana Doctor",
            "--role",
            "doctor",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"a long enough password 1\n").unwrap();
    }
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert!(status.success(), "create-user failed");

    // Without a terminal to ask on, refused with a usage error naming --yes; nothing added.
    let (code, stderr) = seed_run(dir.path(), &["--patients", "10", "--database", &url]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(patient_count(&db).await, 30);

    let (code, stderr) = seed_run(
        dir.path(),
        &["--patients", "10", "--database", &url, "--yes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(patient_count(&db).await, 40);
}
