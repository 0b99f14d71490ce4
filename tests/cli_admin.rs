//! `synapse admin` as an operator runs it: the real binary on the database directly (a fresh
//! SQLite file, and a fresh PostgreSQL database of its own), beside a server on the same
//! database that the accounts it makes log in to. Every subcommand's effect, exit code and
//! audit rows; the audit export streamed over a year of rows; wrong input, unknown accounts
//! and a missing database each refused with a message naming what to fix; and `serve` on a
//! database without an administrator logging, once, the command that creates the first.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use common::served::{BIN, Served, synapse, wait_bounded};
use common::{TestServer, postgres_url, test_config};
use reqwest::Method;
use serde_json::{Value, json};

/// The operating-system account the commands run as, which the audit rows record.
const OPERATOR: &str = "ops-alice";
const ADMIN_PASSWORD: &str = "first-admin-password";
const DOCTOR_PASSWORD: &str = "doctor-password-1";

/// What a finished command left.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "the command failed: {self:#?}");
        self
    }

    #[track_caller]
    fn fails(&self, code: i32, says: &str) -> &Self {
        assert_eq!(self.code, code, "unexpected exit: {self:#?}");
        assert!(
            self.stderr.contains(says),
            "stderr should say {says:?}: {self:#?}"
        );
        self
    }
}

/// Runs `synapse <args>` (as `OPERATOR`, `stdin` as its standard input) to its end.
fn run_in(dir: &Path, args: &[String], stdin: Option<&str>) -> Run {
    let mut command = synapse(dir);
    command
        .args(args)
        .env("USER", OPERATOR)
        .env_remove("SUDO_USER")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn synapse");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    // Read while it runs: an export fills a pipe's buffer long before it ends.
    let reader = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_string(&mut text).expect("read the output");
            }
            text
        })
    };
    use std::io::Read;
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// `synapse admin --database <database> <args>`, off the test's runtime.
async fn admin(dir: &Path, database: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut all: Vec<String> = vec!["admin".into(), "--database".into(), database.into()];
    all.extend(args.iter().map(|a| a.to_string()));
    let dir = dir.to_path_buf();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || run_in(&dir, &all, stdin.as_deref()))
        .await
        .unwrap()
}

/// The audit rows the console left, oldest first: action, user id, request id, resource id.
async fn console_rows(server: &TestServer) -> Vec<Vec<Option<String>>> {
    server
        .sql_rows(
            "SELECT action, CAST(user_id AS TEXT), request_id, resource_id FROM audit_events \
             WHERE request_id LIKE 'cli:%' ORDER BY at, id",
            &[],
        )
        .await
}

async fn login_status(server: &TestServer, email: &str, password: &str) -> u16 {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
        .status
        .as_u16()
}

async fn me_status(server: &TestServer, token: &str) -> u16 {
    server
        .call(Method::GET, "/api/v1/auth/me", Some(token), None)
        .await
        .status
        .as_u16()
}

/// The whole journey of a clinic's first day on `server`'s database: the first administrator,
/// a doctor, and every subcommand on the doctor, each checked through the API.
async fn first_day(server: &TestServer) {
    let url = server.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // The first administrator, on a database without accounts, logs in through the API.
    let run = admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            " Ada@Clinic.test ",
            "--full-name",
            "Ada Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    )
    .await;
    run.ok();
    assert!(
        run.stdout
            .contains("Created the admin account ada@clinic.test (Ada Admin)"),
        "{run:#?}"
    );
    assert!(
        !run.stdout.contains(ADMIN_PASSWORD) && !run.stderr.contains(ADMIN_PASSWORD),
        "{run:#?}"
    );
    let ada = server.login("ada@clinic.test", ADMIN_PASSWORD).await;
    assert_eq!(
        server
            .get("/api/v1/admin/users", &ada)
            .await
            .expect(200)
            .data()["pagination"]["total"],
        1
    );

    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "doc@clinic.test",
            "--full-name",
            "Dana Doctor",
            "--role",
            "doctor",
            "--password-stdin",
        ],
        Some(&format!("{DOCTOR_PASSWORD}\n")),
    )
    .await
    .ok();
    let doctor = server.login("doc@clinic.test", DOCTOR_PASSWORD).await;

    // list-users: as JSON in the shape of every other list, and as a table with the state of
    // each account.
    let run = admin(dir, &url, &["list-users", "--json"], None).await;
    run.ok();
    let users: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let emails: Vec<&str> = users["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{{items, pagination}}: {users}"))
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ada@clinic.test", "doc@clinic.test"]);
    assert_eq!(users["items"][1]["role"], "doctor");
    assert_eq!(users["pagination"]["has_more"], false);
    // The printer every command shares: CSV and NDJSON with chosen fields, and a field the
    // accounts do not have is a usage error naming the ones they have.
    let run = admin(
        dir,
        &url,
        &["list-users", "--format", "csv", "--fields", "email,role"],
        None,
    )
    .await;
    run.ok();
    assert_eq!(
        run.stdout,
        "email,role\nada@clinic.test,admin\ndoc@clinic.test,doctor\n"
    );
    let run = admin(dir, &url, &["list-users", "--format", "ndjson"], None).await;
    run.ok();
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["email"], "doc@clinic.test");
    let run = admin(dir, &url, &["list-users", "--fields", "phone"], None).await;
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("--fields") && run.stderr.contains("email"),
        "{run:#?}"
    );

    // Five wrong passwords lock the doctor; the table says so; unlock lets them in again.
    for _ in 0..5 {
        login_status(server, "doc@clinic.test", "not-the-password").await;
    }
    assert_eq!(
        login_status(server, "doc@clinic.test", DOCTOR_PASSWORD).await,
        423
    );
    let run = admin(dir, &url, &["list-users"], None).await;
    run.ok();
    let doc_line = run
        .stdout
        .lines()
        .find(|l| l.contains("doc@clinic.test"))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(doc_line.contains("locked until"), "{doc_line}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("ada@clinic.test") && l.contains("active")),
        "{run:#?}"
    );
    let run = admin(dir, &url, &["unlock", "--email", "doc@clinic.test"], None).await;
    run.ok();
    assert!(run.stdout.contains("Unlocked doc@clinic.test"), "{run:#?}");
    let doctor_again = server.login("doc@clinic.test", DOCTOR_PASSWORD).await;

    // revoke-sessions ends both of the doctor's sessions at once.
    assert_eq!(me_status(server, &doctor.access_token).await, 200);
    let run = admin(
        dir,
        &url,
        &["revoke-sessions", "--email", "doc@clinic.test"],
        None,
    )
    .await;
    run.ok();
    assert!(run.stdout.contains("Ended 2 sessions"), "{run:#?}");
    assert_eq!(me_status(server, &doctor.access_token).await, 401);
    assert_eq!(me_status(server, &doctor_again.access_token).await, 401);

    // disable: no login; enable: login again.
    let session = server.login("doc@clinic.test", DOCTOR_PASSWORD).await;
    admin(dir, &url, &["disable", "--email", "doc@clinic.test"], None)
        .await
        .ok();
    assert_eq!(me_status(server, &session.access_token).await, 403);
    assert_eq!(
        login_status(server, "doc@clinic.test", DOCTOR_PASSWORD).await,
        403
    );
    admin(dir, &url, &["enable", "--email", "doc@clinic.test"], None)
        .await
        .ok();
    let session = server.login("doc@clinic.test", DOCTOR_PASSWORD).await;

    // reset-password: the old password and the open session stop working, the new one works.
    let run = admin(
        dir,
        &url,
        &[
            "reset-password",
            "--email",
            "doc@clinic.test",
            "--password-stdin",
        ],
        Some("a-brand-new-password\n"),
    )
    .await;
    run.ok();
    assert!(run.stdout.contains("its sessions have ended"), "{run:#?}");
    assert_eq!(me_status(server, &session.access_token).await, 401);
    assert_eq!(
        login_status(server, "doc@clinic.test", DOCTOR_PASSWORD).await,
        401
    );
    server
        .login("doc@clinic.test", "a-brand-new-password")
        .await;

    // Every change is on the trail, by the operating-system account, with no user id.
    let doctor_id = doctor.user_id.clone();
    let rows = console_rows(server).await;
    let actions: Vec<&str> = rows.iter().map(|r| r[0].as_deref().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "admin.user_create",
            "admin.user_create",
            // As JSON, CSV and NDJSON, with a field the accounts lack, and as a table.
            "admin.user_list",
            "admin.user_list",
            "admin.user_list",
            "admin.user_list",
            "admin.user_list",
            "admin.user_unlock",
            "admin.user_sessions_revoke",
            "admin.user_disable",
            "admin.user_enable",
            "admin.user_password_reset",
        ]
    );
    for row in &rows {
        assert_eq!(row[1], None, "a console row has no user id: {row:?}");
        let request_id = row[2].as_deref().unwrap();
        assert!(
            request_id.starts_with(&format!("cli:{OPERATOR}:")),
            "{request_id}"
        );
    }
    assert_eq!(rows[0][3].as_deref(), Some(ada.user_id.as_str()));
    for row in &rows[7..] {
        assert_eq!(row[3].as_deref(), Some(doctor_id.as_str()), "{row:?}");
    }
    // One command run, one request id; two runs, two.
    assert_ne!(rows[0][2], rows[1][2]);

    // The export: today's trail as JSON lines, then as CSV, and one account's rows only.
    let today = Utc::now().date_naive().to_string();
    let run = admin(
        dir,
        &url,
        &["audit", "export", "--from", &today, "--to", &today],
        None,
    )
    .await;
    run.ok();
    let exported: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        run.stderr
            .contains(&format!("Exported {} audit rows", exported.len()))
    );
    let exported_actions: Vec<&str> = exported
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in &actions {
        assert!(exported_actions.contains(action), "{action} not exported");
    }
    assert!(exported_actions.contains(&"auth.login"));
    assert_eq!(
        exported.last().unwrap()["action"],
        "admin.audit_export",
        "the export itself is on the trail"
    );
    let times: Vec<&str> = exported.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    let run = admin(
        dir,
        &url,
        &[
            "audit", "export", "--from", &today, "--to", &today, "--format", "csv",
        ],
        None,
    )
    .await;
    run.ok();
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,at,user_id,action,resource_type,resource_id,patient_id,outcome,request_id,ip,client_request_id"
        )
    );
    assert_eq!(
        lines.count(),
        exported.len() + 1,
        "and this export's own row"
    );

    let run = admin(
        dir,
        &url,
        &[
            "audit",
            "export",
            "--from",
            &today,
            "--to",
            &today,
            "--user",
            "ADA@clinic.test",
        ],
        None,
    )
    .await;
    run.ok();
    let ada_rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!ada_rows.is_empty());
    assert!(
        ada_rows
            .iter()
            .all(|r| r["user_id"] == ada.user_id.as_str())
    );

    // Refusals: each names what to fix, with its exit code, and changes nothing.
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "nurse@clinic.test",
            "--full-name",
            "Nora Nurse",
            "--role",
            "nurse",
            "--password-stdin",
        ],
        Some("long-enough-password\n"),
    )
    .await
    .fails(2, "--role must be doctor, admin or receptionist");
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "not-an-email",
            "--full-name",
            "",
            "--role",
            "doctor",
            "--password-stdin",
        ],
        Some("long-enough-password\n"),
    )
    .await
    .fails(2, "--email")
    .fails(2, "--full-name must not be empty");
    // A new password is as strict at the console as over the API.
    for weak in ["12345678", "password1234"] {
        admin(
            dir,
            &url,
            &[
                "create-user",
                "--email",
                "weak@clinic.test",
                "--full-name",
                "Weak Password",
                "--role",
                "doctor",
                "--password-stdin",
            ],
            Some(&format!("{weak}\n")),
        )
        .await
        .fails(2, "password");
    }
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "doc@clinic.test",
            "--full-name",
            "Second Dana",
            "--role",
            "doctor",
            "--password-stdin",
        ],
        Some("long-enough-password\n"),
    )
    .await
    .fails(1, "--email doc@clinic.test is already used");
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "rec@clinic.test",
            "--full-name",
            "Rex Reception",
            "--role",
            "receptionist",
            "--password-stdin",
        ],
        Some("short\n"),
    )
    .await
    .fails(2, "the password must be at least 12 characters");
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "x@clinic.test",
            "--role",
            "doctor",
        ],
        None,
    )
    .await
    .fails(2, "--full-name");
    admin(
        dir,
        &url,
        &[
            "create-user",
            "--email",
            "x@clinic.test",
            "--full-name",
            "X Y",
            "--role",
            "doctor",
        ],
        None,
    )
    .await
    .fails(2, "--password-stdin");
    for command in [
        "unlock",
        "disable",
        "enable",
        "revoke-sessions",
        "reset-mfa",
    ] {
        admin(dir, &url, &[command, "--email", "nobody@clinic.test"], None)
            .await
            .fails(4, "no account has --email nobody@clinic.test");
    }
    admin(
        dir,
        &url,
        &[
            "reset-password",
            "--email",
            "doc@clinic.test",
            "--password-stdin",
        ],
        Some("short\n"),
    )
    .await
    .fails(2, "the password must be at least 12 characters");
    admin(
        dir,
        &url,
        &["audit", "export", "--from", "last week", "--to", &today],
        None,
    )
    .await
    .fails(2, "--from must be a date (2026-11-26) or an RFC 3339 time");
    admin(
        dir,
        &url,
        &["audit", "export", "--from", &today, "--to", "2020-01-01"],
        None,
    )
    .await
    .fails(2, "--from must be before --to");
    admin(
        dir,
        &url,
        &[
            "audit", "export", "--from", &today, "--to", &today, "--format", "xml",
        ],
        None,
    )
    .await
    .fails(2, "--format must be jsonl or csv");
    admin(
        dir,
        &url,
        &[
            "audit",
            "export",
            "--from",
            &today,
            "--to",
            &today,
            "--user",
            "nobody@clinic.test",
        ],
        None,
    )
    .await
    .fails(4, "--user");
    admin(
        dir,
        &url,
        &[
            "audit",
            "export",
            "--from",
            &today,
            "--to",
            &today,
            "--patient",
            "MRN-000001",
        ],
        None,
    )
    .await
    .fails(2, "--patient must be a patient id");
    assert_eq!(
        server
            .sql_count(
                "SELECT COUNT(*) FROM users WHERE email <> 'ada@clinic.test'",
                &[]
            )
            .await,
        1,
        "a refused command created nobody"
    );
}

#[tokio::test]
async fn a_clinic_starts_on_a_fresh_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clinic.db").display());
    let server = TestServer::start_on(dir, &url, test_config()).await;
    first_day(&server).await;
}

#[tokio::test]
async fn a_clinic_starts_on_a_fresh_postgres_database() {
    let Some(admin_url) = postgres_url() else {
        eprintln!("skipped: {} is not set", common::POSTGRES_URL_VAR);
        return;
    };
    let server = TestServer::start_postgres_on(&admin_url, test_config()).await;
    first_day(&server).await;
}

#[tokio::test]
async fn a_missing_database_is_named_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere").join("synapse.db");
    let url = format!("sqlite://{}", missing.display());
    admin(dir.path(), &url, &["list-users"], None)
        .await
        .fails(5, &format!("there is no database at {}", missing.display()))
        .fails(5, "`synapse serve` creates it");
    assert!(!missing.exists(), "the command created a database");

    // With no --database, the one `serve` would open: the data directory's, not there yet.
    let data = dir.path().join("data");
    let run = {
        let dir = dir.path().to_path_buf();
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            let mut command = synapse(&dir);
            command
                .args(["admin", "list-users"])
                .env("SYNAPSE_DATA_DIR", &data)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.output().unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(run.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&data.join("synapse.db").display().to_string()),
        "{stderr}"
    );

    if let Some(admin_url) = postgres_url() {
        let mut url = reqwest::Url::parse(&admin_url).unwrap();
        url.set_path("/synapse_no_such_database");
        admin(dir.path(), url.as_str(), &["list-users"], None)
            .await
            .fails(5, "cannot open the PostgreSQL database");
    }
}

/// A year of audit rows (3,000, in threes at the same instant, so instants straddle the
/// export's pages of 1,000) straight into the trail.
async fn a_year_of_rows(server: &TestServer) -> Vec<(String, String)> {
    let table = if server.store.is_postgres() {
        "audit_events"
    } else {
        "main.audit_events"
    };
    let start = Utc::now() - chrono::Duration::days(364);
    let mut rows = Vec::new();
    for batch in 0..6 {
        let mut values = Vec::new();
        for n in 0..500 {
            let i = batch * 500 + n;
            let at = start + chrono::Duration::minutes(520 * (i / 3) as i64);
            let at = synapse::model::time::format_timestamp(at);
            let id = uuid::Uuid::new_v4().to_string();
            values.push(format!(
                "('{id}', '{at}', 'test.year', 'success', 'year-test')"
            ));
            rows.push((at, id));
        }
        server
            .sql_execute(
                &format!(
                    "INSERT INTO {table} (id, at, action, outcome, request_id) VALUES {}",
                    values.join(", ")
                ),
                &[],
            )
            .await
            .expect("insert audit rows");
    }
    rows.sort();
    rows
}

/// A year's trail streams in keyset pages, oldest first, every row once, on `server`.
async fn a_year_streams(server: &TestServer) {
    let rows = a_year_of_rows(server).await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.database_url.clone();
    let from = (Utc::now() - chrono::Duration::days(365))
        .date_naive()
        .to_string();
    let to = Utc::now().date_naive().to_string();
    let run = admin(
        dir.path(),
        &url,
        &["audit", "export", "--from", &from, "--to", &to],
        None,
    )
    .await;
    run.ok();
    let exported: Vec<(String, String)> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "test.year")
        .map(|e| {
            (
                e["at"].as_str().unwrap().to_string(),
                e["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(exported.len(), rows.len(), "every row once");
    assert_eq!(exported, rows, "oldest first, ties by id");

    // One day of it, as RFC 3339 bounds.
    let (day_from, day_to) = (&rows[300].0, &rows[330].0);
    let expected = rows
        .iter()
        .filter(|(at, _)| at >= day_from && at < day_to)
        .count();
    let run = admin(
        dir.path(),
        &url,
        &[
            "audit", "export", "--from", day_from, "--to", day_to, "--format", "csv",
        ],
        None,
    )
    .await;
    run.ok();
    let day = run
        .stdout
        .lines()
        .filter(|l| l.contains("test.year"))
        .count();
    assert_eq!(day, expected);
}

#[tokio::test]
async fn a_year_of_the_trail_streams_on_sqlite() {
    let server = TestServer::start().await;
    a_year_streams(&server).await;
}

#[tokio::test]
async fn a_year_of_the_trail_streams_on_postgres() {
    let Some(admin_url) = postgres_url() else {
        eprintln!("skipped: {} is not set", common::POSTGRES_URL_VAR);
        return;
    };
    let server = TestServer::start_postgres_on(&admin_url, test_config()).await;
    a_year_streams(&server).await;
}

/// `text` without the terminal's colour sequences (`ESC [ … m`).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn serve_without_an_administrator_logs_the_command_that_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = [(
        "SYNAPSE_JWT_SECRET",
        "a-test-secret-of-at-least-32-characters!",
    )];
    let served =
        Served::start_async(dir.path(), &data, &[], &secret, Duration::from_secs(30)).await;
    let log = plain(&served.log_text());
    let hints: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("synapse admin create-user"))
        .collect();
    assert_eq!(hints.len(), 1, "logged once: {log}");
    let command = hints[0]
        .split_once("create the first one with: ")
        .unwrap_or_else(|| panic!("{log}"))
        .1
        .trim();
    let database = format!("sqlite://{}", data.join("synapse.db").display());
    assert!(
        command.contains(&format!("--database '{database}'")),
        "{command}"
    );

    // The command as logged, run by a shell, creates the administrator (while serve runs).
    let shell = command.replacen("synapse", &format!("'{BIN}'"), 1) + " --password-stdin";
    let run = {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            // The environment `synapse(dir)` gives the binary, for the shell that runs it.
            let binary = synapse(&dir);
            let mut command = std::process::Command::new("sh");
            for (name, value) in binary.get_envs() {
                match value {
                    Some(value) => command.env(name, value),
                    None => command.env_remove(name),
                };
            }
            let mut child = command
                .args(["-c", &shell])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"the-first-admin-password\n")
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    };
    assert!(run.status.success(), "{run:?}");
    let http = common::served::http_client(None);
    let login = http
        .post(served.url("/api/v1/auth/login"))
        .json(&json!({"email": "admin@clinic.example", "password": "the-first-admin-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    drop(served);

    // With an administrator, a restart says nothing of it.
    let served =
        Served::start_async(dir.path(), &data, &[], &secret, Duration::from_secs(30)).await;
    let log = plain(&served.log_text());
    assert!(!log.contains("synapse admin create-user"), "{log}");
}

/// The code of an enrolment's base32 `secret` at `time`.
fn totp_code(secret: &str, time: u64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .expect("base32")
        .as_bytes()
        .to_vec();
    synapse::server::totp::code_at(&bytes, time, 6).unwrap()
}

#[tokio::test]
async fn reset_mfa_at_the_console_lets_the_password_alone_log_in_and_is_audited() {
    let server = TestServer::start().await;
    let url = server.database_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let doctor = server
        .login_new("doc@clinic.test", synapse::model::auth::Role::Doctor)
        .await;
    let enrolled = server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await;
    enrolled.expect(200);
    let secret = enrolled.data()["secret"].as_str().unwrap().to_string();
    let now = Utc::now().timestamp() as u64;
    server
        .post(
            "/api/v1/auth/mfa/confirm",
            &doctor,
            json!({"code": totp_code(&secret, now)}),
        )
        .await
        .expect(200);
    assert_eq!(
        login_status(&server, "doc@clinic.test", common::PASSWORD).await,
        401,
        "the password alone is not enough"
    );

    let run = admin(
        dir,
        &url,
        &["reset-mfa", "--email", "doc@clinic.test"],
        None,
    )
    .await;
    run.ok();
    assert!(run.stdout.contains("Removed the second factor"), "{run:#?}");
    assert_eq!(
        login_status(&server, "doc@clinic.test", common::PASSWORD).await,
        200
    );
    let rows = console_rows(&server).await;
    assert!(
        rows.iter()
            .any(|row| row[0].as_deref() == Some("admin.mfa_reset")
                && row[3].as_deref() == Some(doctor.user_id.as_str())),
        "{rows:?}"
    );
    let again = admin(
        dir,
        &url,
        &["reset-mfa", "--email", "doc@clinic.test"],
        None,
    )
    .await;
    again.ok();
    assert!(again.stdout.contains("had no second factor"), "{again:#?}");
}
