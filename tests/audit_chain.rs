//! The audit chain end to end, on SQLite and on PostgreSQL: `synapse admin audit verify` (the
//! real binary) on a trail someone altered after dropping the append-only triggers (a row
//! edited, one deleted, one inserted, the end cut off) names each; a trail written by two
//! server instances at once on one PostgreSQL database verifies clean; the head the real
//! server logs at shutdown is what `--expect-head` takes; and a server runs as a PostgreSQL
//! role that cannot UPDATE or DELETE audit rows (docs/SECURITY.md).

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::served::{Served, synapse};
use common::{TestServer, postgres_url, test_config};
use synapse::model::auth::Role;

/// `synapse admin audit verify` exits with this when the trail was altered.
const TAMPERED: i32 = 6;

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `synapse admin --database <url> audit verify <args>` to its end.
async fn verify(dir: &Path, database: &str, args: &[&str]) -> Run {
    let mut all: Vec<String> = vec![
        "admin".into(),
        "--database".into(),
        database.into(),
        "audit".into(),
        "verify".into(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let output = synapse(&dir)
            .args(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run synapse");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn sqlite_server() -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("synapse.db").display());
    TestServer::start_on(dir, &url, test_config()).await
}

async fn postgres_server() -> Option<TestServer> {
    let Some(admin_url) = postgres_url() else {
        eprintln!("skipped: set SYNAPSE_TEST_POSTGRES_URL to run the PostgreSQL audit chain test");
        return None;
    };
    Some(TestServer::start_postgres_on(&admin_url, test_config()).await)
}

/// Some trail: a doctor signs in, creates patients (audited writes) and reads them (audited
/// reads, through the queue).
async fn some_trail(server: &TestServer) {
    let doctor = server.login_new("doc@example.org", Role::Doctor).await;
    for n in 0..6 {
        let id = server.patient(&doctor, &format!("Anna Patient{n}")).await;
        server
            .get(&format!("/api/v1/patients/{id}"), &doctor)
            .await
            .expect(200);
    }
}

/// Runs `sql` on the database itself: on SQLite straight on the data file (the test server's
/// own check connection sees the audit rows of both files through a view).
async fn tamper(server: &TestServer, sql: &str, binds: &[&str]) -> Result<u64, String> {
    if server.store.is_postgres() {
        return server.sql_execute(sql, binds).await;
    }
    let pool = sqlx::SqlitePool::connect(&server.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for bind in binds {
        query = query.bind(bind.to_string());
    }
    let done = query.execute(&pool).await.map_err(|e| e.to_string());
    pool.close().await;
    done.map(|done| done.rows_affected())
}

/// Drops the append-only triggers of the audit rows and their chain, as someone with the
/// database file (or the owner's password) could.
async fn drop_triggers(server: &TestServer) {
    let statements: &[&str] = if server.store.is_postgres() {
        &[
            "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
            "DROP TRIGGER IF EXISTS audit_chain_no_change ON audit_chain",
        ]
    } else {
        &[
            "DROP TRIGGER IF EXISTS audit_events_no_update",
            "DROP TRIGGER IF EXISTS audit_events_no_delete",
            "DROP TRIGGER IF EXISTS audit_chain_no_delete",
        ]
    };
    for sql in statements {
        tamper(server, sql, &[]).await.expect(sql);
    }
}

/// The row ids of the (data file's) chain, in chain order.
async fn chained_ids(server: &TestServer) -> Vec<String> {
    server
        .sql_rows(
            "SELECT CAST(event_id AS TEXT) FROM audit_chain ORDER BY seq",
            &[],
        )
        .await
        .into_iter()
        .map(|row| row[0].clone().expect("id"))
        .collect()
}

async fn an_intact_trail_verifies_clean(server: TestServer) {
    some_trail(&server).await;
    let run = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("The audit trail is intact."),
        "{run:#?}"
    );
}

async fn an_edited_and_a_deleted_row_are_both_named(server: TestServer) {
    some_trail(&server).await;
    let ids = chained_ids(&server).await;
    assert!(ids.len() >= 6, "{ids:?}");
    let (edited, deleted) = (&ids[2], &ids[4]);
    drop_triggers(&server).await;
    tamper(
        &server,
        "UPDATE audit_events SET outcome = 'denied' WHERE CAST(id AS TEXT) = $1",
        &[edited],
    )
    .await
    .expect("edit");
    tamper(
        &server,
        "DELETE FROM audit_events WHERE CAST(id AS TEXT) = $1",
        &[deleted],
    )
    .await
    .expect("delete");

    let run = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(run.code, TAMPERED, "{run:#?}");
    let first = run
        .stdout
        .lines()
        .find(|line| line.starts_with("FIRST: "))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(
        first.contains(&format!("row {edited} ")) && first.contains("was changed"),
        "the first problem is the edit: {run:#?}"
    );
    assert!(
        run.stdout
            .contains(&format!("row {deleted} (position 5) was deleted")),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("the audit trail was altered"),
        "{run:#?}"
    );
}

async fn a_row_inserted_around_the_chain_is_named(server: TestServer) {
    some_trail(&server).await;
    let forged = "0190d2a4-1b2c-7d3e-8f40-123456789abc";
    let insert = if server.store.is_postgres() {
        "INSERT INTO audit_events (id, at, action, outcome, request_id) \
         VALUES (CAST($1 AS uuid), now(), 'patient.read', 'success', 'forged')"
    } else {
        "INSERT INTO audit_events (id, at, action, outcome, request_id) \
         VALUES ($1, '2026-01-01T00:00:00.000Z', 'patient.read', 'success', 'forged')"
    };
    // No trigger stands in the way of an INSERT: only the chain tells.
    tamper(&server, insert, &[forged]).await.expect("insert");
    let run = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(run.code, TAMPERED, "{run:#?}");
    assert!(
        run.stdout.contains(&format!("row {forged} (at 2026-"))
            && run.stdout.contains("was inserted"),
        "{run:#?}"
    );
}

async fn a_cut_tail_is_found_with_the_logged_head(server: TestServer) {
    some_trail(&server).await;
    // The head as the server logs it (`server::audit_head` logs these very values).
    let heads = server.store.audit_chain_heads().await.expect("heads");
    let (_, head) = &heads[0];
    let logged = format!("{}:{}", head.event_id.expect("a head"), head.hash);
    let ok = verify(
        server.dir.path(),
        &server.database_url,
        &["--expect-head", &logged],
    )
    .await;
    assert_eq!(ok.code, 0, "{ok:#?}");

    // The last three rows go, with their links: the chain that is left is consistent.
    drop_triggers(&server).await;
    let ids = chained_ids(&server).await;
    for id in &ids[ids.len() - 3..] {
        for table in ["audit_chain", "audit_events"] {
            let column = if table == "audit_chain" {
                "event_id"
            } else {
                "id"
            };
            tamper(
                &server,
                &format!("DELETE FROM {table} WHERE CAST({column} AS TEXT) = $1"),
                &[id],
            )
            .await
            .expect("cut");
        }
    }
    let blind = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(
        blind.code, 0,
        "without the head a cut tail looks whole: {blind:#?}"
    );
    let run = verify(
        server.dir.path(),
        &server.database_url,
        &["--expect-head", &logged],
    )
    .await;
    assert_eq!(run.code, TAMPERED, "{run:#?}");
    assert!(
        run.stdout
            .contains(&format!("the chain ends before the logged head {logged}"))
            && run.stdout.contains("rows were removed from its end"),
        "{run:#?}"
    );
    let wrong = verify(
        server.dir.path(),
        &server.database_url,
        &["--expect-head", "17:abc"],
    )
    .await;
    assert_eq!(wrong.code, 2, "{wrong:#?}");
    assert!(
        wrong.stderr.contains("--expect-head must be ID:HASH"),
        "{wrong:#?}"
    );
}

#[tokio::test]
async fn sqlite_an_intact_trail_verifies_clean() {
    an_intact_trail_verifies_clean(sqlite_server().await).await;
}

#[tokio::test]
async fn postgres_an_intact_trail_verifies_clean() {
    if let Some(server) = postgres_server().await {
        an_intact_trail_verifies_clean(server).await;
    }
}

#[tokio::test]
async fn sqlite_an_edited_and_a_deleted_row_are_both_named() {
    an_edited_and_a_deleted_row_are_both_named(sqlite_server().await).await;
}

#[tokio::test]
async fn postgres_an_edited_and_a_deleted_row_are_both_named() {
    if let Some(server) = postgres_server().await {
        an_edited_and_a_deleted_row_are_both_named(server).await;
    }
}

#[tokio::test]
async fn sqlite_a_row_inserted_around_the_chain_is_named() {
    a_row_inserted_around_the_chain_is_named(sqlite_server().await).await;
}

#[tokio::test]
async fn postgres_a_row_inserted_around_the_chain_is_named() {
    if let Some(server) = postgres_server().await {
        a_row_inserted_around_the_chain_is_named(server).await;
    }
}

#[tokio::test]
async fn sqlite_a_cut_tail_is_found_with_the_logged_head() {
    a_cut_tail_is_found_with_the_logged_head(sqlite_server().await).await;
}

#[tokio::test]
async fn postgres_a_cut_tail_is_found_with_the_logged_head() {
    if let Some(server) = postgres_server().await {
        a_cut_tail_is_found_with_the_logged_head(server).await;
    }
}

#[tokio::test]
async fn two_instances_writing_at_once_on_postgres_make_one_chain() {
    let Some(a) = postgres_server().await else {
        return;
    };
    let b = a.start_beside(test_config()).await;
    let doctor_a = a.login_new("a@example.org", Role::Doctor).await;
    let doctor_b = b.login_new("b@example.org", Role::Doctor).await;
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let mut load = Vec::new();
    for worker in 0..8 {
        let (server, doctor) = if worker % 2 == 0 {
            (a.clone(), doctor_a.clone())
        } else {
            (b.clone(), doctor_b.clone())
        };
        load.push(tokio::spawn(async move {
            for n in 0..15 {
                let id = server
                    .patient(&doctor, &format!("Worker{worker} Patient{n}"))
                    .await;
                server
                    .get(&format!("/api/v1/patients/{id}"), &doctor)
                    .await
                    .expect(200);
                server
                    .get(&format!("/api/v1/patients/{id}"), &doctor)
                    .await
                    .expect(200);
            }
        }));
    }
    for worker in load {
        worker.await.expect("worker");
    }
    let rows = a.sql_count("SELECT COUNT(*) FROM audit_events", &[]).await;
    let links = a.sql_count("SELECT COUNT(*) FROM audit_chain", &[]).await;
    assert_eq!(rows, links, "every row linked once");
    assert!(rows >= 8 * 15 * 3, "{rows}");
    let run = verify(a.dir.path(), &a.database_url, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains(&format!("{rows} rows")),
        "one chain holds every row: {run:#?}"
    );
}

#[tokio::test]
async fn the_server_logs_the_head_at_shutdown_and_verify_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut served = Served::start_async(
        dir.path(),
        &data,
        &["--demo"],
        &[("SYNAPSE_LOG", "info")],
        Duration::from_secs(60),
    )
    .await;
    // A sign-in leaves an audit row (the demo's own data leaves none).
    let login = common::served::http_client(None)
        .post(served.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "doc@demo.com", "password": "password123"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    served.terminate();
    served.wait_exit(Duration::from_secs(30));
    let log = served.log_text();
    let heads: Vec<String> = log
        .lines()
        .filter(|line| line.contains("audit chain head") && line.contains("shutdown"))
        .filter_map(|line| {
            let start = line.find("head=")? + "head=".len();
            let rest = line[start..].trim_start_matches('"');
            Some(rest.chars().take(36 + 1 + 64).collect())
        })
        .collect();
    assert!(!heads.is_empty(), "no head logged at shutdown:\n{log}");
    let url = format!("sqlite://{}", data.join("synapse.db").display());
    let mut args = Vec::new();
    for head in &heads {
        args.push("--expect-head");
        args.push(head.as_str());
    }
    let run = verify(dir.path(), &url, &args).await;
    assert_eq!(
        run.code, 0,
        "the demo database verifies clean: {run:#?}\n{log}"
    );
}

/// What docs/SECURITY.md tells an operator to run, for the role `role`.
fn restricted_role_grants(role: &str, database: &str) -> Vec<String> {
    vec![
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT CONNECT ON DATABASE \"{database}\" TO {role}"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_chain FROM {role}"),
    ]
}

#[tokio::test]
async fn a_server_runs_as_a_postgres_role_that_cannot_rewrite_the_audit_trail() {
    let Some(owner) = postgres_server().await else {
        return;
    };
    let database = reqwest::Url::parse(&owner.database_url).unwrap();
    let name = database.path().trim_start_matches('/').to_string();
    let role = format!(
        "synapse_app_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    for sql in restricted_role_grants(&role, &name) {
        owner.sql_execute(&sql, &[]).await.expect(&sql);
    }
    let mut as_role = database.clone();
    as_role.set_username(&role).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = TestServer::start_on(dir, as_role.as_str(), test_config()).await;
    // It works: sign-in, a write, a read, each audited.
    owner.user("doc@example.org", Role::Doctor).await;
    let doctor = app.login("doc@example.org", common::PASSWORD).await;
    let id = app.patient(&doctor, "Anna Restricted").await;
    app.get(&format!("/api/v1/patients/{id}"), &doctor)
        .await
        .expect(200);
    // Even with the triggers gone, the role cannot change or remove the audit rows or links.
    drop_triggers(&owner).await;
    for sql in [
        "UPDATE audit_events SET outcome = 'denied'",
        "DELETE FROM audit_events",
        "UPDATE audit_chain SET hash = 'x'",
        "DELETE FROM audit_chain",
        "TRUNCATE audit_events",
    ] {
        let error = app.sql_execute(sql, &[]).await.expect_err(sql);
        assert!(error.contains("permission denied"), "{sql}: {error}");
    }
    let run = verify(owner.dir.path(), &owner.database_url, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");
    drop(app);
    owner
        .sql_execute(&format!("DROP OWNED BY {role}"), &[])
        .await
        .expect("drop owned");
    drop(owner);
    // The role is the cluster's, not the database's: it goes once the database has.
    let admin_url = postgres_url().unwrap();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .execute(&mut admin)
        .await;
}

/// Puts `server`'s database back where the audit chain's migrations leave one of an earlier
/// release: audit rows stored, no links, and the mark that says they are due to be linked.
async fn as_before_the_chain(server: &TestServer) {
    if server.store.is_postgres() {
        for sql in [
            "DROP TRIGGER audit_chain_no_change ON audit_chain",
            "DROP TRIGGER audit_chain_no_truncate ON audit_chain",
            "TRUNCATE audit_chain",
            "INSERT INTO settings (key, value) VALUES ('audit_chain_due', 'link the earlier audit rows') \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ] {
            tamper(server, sql, &[]).await.expect(sql);
        }
        return;
    }
    let data = server
        .database_url
        .trim_start_matches("sqlite://")
        .to_string();
    for (file, mark) in [
        (
            data.clone(),
            "INSERT OR REPLACE INTO settings (key, value) \
             VALUES ('audit_chain_due', 'link the earlier audit rows')",
        ),
        (
            format!("{data}-audit"),
            "INSERT INTO audit_chain_due (reason) VALUES ('link the earlier audit rows')",
        ),
    ] {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{file}"))
            .await
            .expect(&file);
        for sql in [
            "DROP TRIGGER audit_chain_no_delete",
            "DELETE FROM audit_chain",
            mark,
        ] {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;
    }
}

/// A database of a release before the chain (rows, no links, the mark the migration leaves):
/// the first start links the rows, the trail verifies, and an earlier row edited afterwards is
/// named.
async fn the_rows_of_an_earlier_release_are_linked_at_the_first_start(server: TestServer) {
    some_trail(&server).await;
    as_before_the_chain(&server).await;
    assert!(chained_ids(&server).await.is_empty());

    let restarted = server.start_beside(test_config()).await;
    let ids = chained_ids(&restarted).await;
    assert!(
        ids.len() >= 6,
        "the earlier rows are linked at start: {ids:?}"
    );
    let run = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(run.code, 0, "{run:#?}");

    drop_triggers(&restarted).await;
    tamper(
        &restarted,
        "UPDATE audit_events SET outcome = 'denied' WHERE CAST(id AS TEXT) = $1",
        &[&ids[1]],
    )
    .await
    .expect("edit");
    let run = verify(server.dir.path(), &server.database_url, &[]).await;
    assert_eq!(run.code, TAMPERED, "{run:#?}");
    assert!(run.stdout.contains(&format!("row {} ", ids[1])), "{run:#?}");
}

#[tokio::test]
async fn sqlite_the_rows_of_an_earlier_release_are_linked_at_the_first_start() {
    the_rows_of_an_earlier_release_are_linked_at_the_first_start(sqlite_server().await).await;
}

#[tokio::test]
async fn postgres_the_rows_of_an_earlier_release_are_linked_at_the_first_start() {
    if let Some(server) = postgres_server().await {
        the_rows_of_an_earlier_release_are_linked_at_the_first_start(server).await;
    }
}
