//! The test harness shared by the API tests: a real server on 127.0.0.1:0 over a temporary
//! database, accounts made straight in the store, and a small HTTP helper that returns the
//! status and the parsed envelope of every call, each checked against the response schema the
//! OpenAPI document declares for it (`contract`).
//!
//! The database is a temporary SQLite file, or with `SYNAPSE_TEST_ENGINE=postgres` a PostgreSQL
//! database of its own on `SYNAPSE_TEST_POSTGRES_URL`, created for the server and dropped (with
//! `FORCE`) when the server is dropped, also when the test fails.

#![allow(dead_code)]

pub mod contract;
#[cfg(target_os = "linux")]
pub mod keyring;
pub mod load;
pub mod served;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use synapse::model::admin::NewUser;
use synapse::model::auth::Role;
use synapse::server::{AppState, ServerConfig};
use synapse::store::postgres::PgStore;
use synapse::store::sqlite::SqliteStore;
use synapse::store::{Store, password};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct-horse-battery";

/// The PostgreSQL server the tests may use: a URL to a database a superuser can create other
/// databases from, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "SYNAPSE_TEST_POSTGRES_URL";
/// `postgres` runs the API tests on PostgreSQL instead of SQLite.
pub const ENGINE_VAR: &str = "SYNAPSE_TEST_ENGINE";

pub struct TestServer {
    pub base: String,
    pub store: TestStore,
    pub http: reqwest::Client,
    /// Keeps the database directory alive as long as the server (SQLite; empty on PostgreSQL).
    pub dir: tempfile::TempDir,
    /// The URL the store was opened with; `start_on` opens another server on it.
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    /// The PostgreSQL database made for this server (and any started beside it), dropped with
    /// the last of them. Declared last so it drops after the store.
    database: Option<Arc<TestDatabase>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// The store of a test server, on either engine. It derefs to `dyn Store`, so tests call the
/// store's methods on it directly.
#[derive(Clone)]
pub enum TestStore {
    /// The store, and a pool for checks in SQL (`checks_pool`).
    Sqlite(Arc<SqliteStore>, sqlx::SqlitePool),
    Postgres(Arc<PgStore>),
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;

    fn deref(&self) -> &(dyn Store + 'static) {
        match self {
            TestStore::Sqlite(store, _) => store.as_ref(),
            TestStore::Postgres(store) => store.as_ref(),
        }
    }
}

impl TestStore {
    async fn open(url: &str) -> TestStore {
        served::install_test_keys();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            TestStore::Postgres(Arc::new(
                PgStore::open(url).await.expect("open PostgreSQL store"),
            ))
        } else {
            let store = SqliteStore::open(url).await.expect("open store");
            let checks = checks_pool(url, store.audit_log_path()).await;
            TestStore::Sqlite(Arc::new(store), checks)
        }
    }

    /// The same store as the server's `Store`.
    fn shared(&self) -> Arc<dyn Store> {
        match self {
            TestStore::Sqlite(store, _) => store.clone(),
            TestStore::Postgres(store) => store.clone(),
        }
    }

    /// The store as `&dyn Store` (what `Arc::as_ref` gave when the field was an `Arc`), for
    /// functions such as `load_demo`.
    #[allow(clippy::should_implement_trait)]
    pub fn as_ref(&self) -> &dyn Store {
        &**self
    }

    /// The SQLite pool, for tests that check the database with SQLite SQL. On PostgreSQL this
    /// panics and says so: such tests run on SQLite only (or move to `TestServer::db`).
    #[track_caller]
    pub fn pool(&self) -> &sqlx::SqlitePool {
        match self {
            TestStore::Sqlite(store, _) => store.pool(),
            TestStore::Postgres(_) => panic!(
                "this test reads the database with SQLite SQL (server.store.pool()), but runs with \
                 {ENGINE_VAR}=postgres: use server.db() / server.sql_count() with SQL both engines \
                 accept, or run this test file on SQLite only"
            ),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestStore::Postgres(_))
    }
}

/// A pool on the SQLite database at `url` for checks made straight in SQL, on which
/// `audit_events` is the whole audit trail as on PostgreSQL: a temporary view over the data
/// file's rows (writes) and the audit log file's (reads, refusals, sign-ins). Each table is
/// also there by name, as `main.audit_events` and `audit_log.audit_events`.
async fn checks_pool(url: &str, audit_log: &std::path::Path) -> sqlx::SqlitePool {
    use std::str::FromStr;

    let audit_log = audit_log.display().to_string();
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .expect("database URL")
        .busy_timeout(std::time::Duration::from_secs(5));
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .after_connect(move |conn, _| {
            let audit_log = audit_log.clone();
            Box::pin(async move {
                sqlx::query("ATTACH DATABASE $1 AS audit_log")
                    .bind(audit_log)
                    .execute(&mut *conn)
                    .await?;
                sqlx::raw_sql(
                    "CREATE TEMP VIEW audit_events AS SELECT * FROM main.audit_events \
                     UNION ALL SELECT * FROM audit_log.audit_events",
                )
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .expect("open the database for checks")
}

/// The database behind a test server, for checks made straight in SQL.
#[derive(Clone, Copy)]
pub enum Db<'a> {
    Sqlite(&'a sqlx::SqlitePool),
    Postgres(&'a sqlx::PgPool),
}

/// Whether the API tests run on PostgreSQL (`SYNAPSE_TEST_ENGINE=postgres`).
pub fn postgres_engine() -> bool {
    match std::env::var(ENGINE_VAR) {
        Ok(engine) if engine.eq_ignore_ascii_case("postgres") => true,
        Ok(engine) if engine.is_empty() || engine.eq_ignore_ascii_case("sqlite") => false,
        Ok(engine) => panic!("{ENGINE_VAR}={engine:?}: use sqlite (the default) or postgres"),
        Err(_) => false,
    }
}

/// The PostgreSQL server URL for tests, if one is configured. Under `CI=true` a test that needs
/// PostgreSQL must run, so a missing URL fails the test instead of skipping it.
#[track_caller]
pub fn postgres_url() -> Option<String> {
    let ci = std::env::var("CI").ok();
    let url = std::env::var(POSTGRES_URL_VAR).ok();
    match postgres_url_from(ci.as_deref(), url.as_deref()) {
        Ok(url) => url,
        Err(message) => panic!("{message}"),
    }
}

/// `postgres_url` for the given values of `CI` and the URL variable.
pub fn postgres_url_from(ci: Option<&str>, url: Option<&str>) -> Result<Option<String>, String> {
    let url = url.map(str::trim).filter(|url| !url.is_empty());
    match url {
        Some(url) => Ok(Some(url.to_string())),
        None if ci.is_some_and(|ci| ci.eq_ignore_ascii_case("true")) => Err(format!(
            "CI=true and {POSTGRES_URL_VAR} is not set: the PostgreSQL tests must run in CI \
             (set it, e.g. postgres://postgres@127.0.0.1:5432/postgres)"
        )),
        None => Ok(None),
    }
}

/// A PostgreSQL database created for one test (or a group of servers sharing it) and dropped
/// `WITH (FORCE)` when the last holder drops it, from a thread of its own so `Drop` can block
/// on it even inside the test's runtime.
pub struct TestDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `synapse_test_<pid>_<random>` on the server of `admin_url`. The pid in the name
    /// lets a later run drop what a killed run left behind.
    pub async fn create(admin_url: &str) -> TestDatabase {
        use sqlx::Connection;
        // Whoever opens a store on it seals and opens values with this process's keys.
        served::install_test_keys();

        let name = format!(
            "synapse_test_{}_{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut url = reqwest::Url::parse(admin_url)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot connect to {POSTGRES_URL_VAR} (is PostgreSQL running?): {e}")
            });
        sweep_abandoned_databases(&mut admin).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        // A test database need not survive a crash: commits skip the wait for the disk.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot configure the test database {name}: {e}"));
        let _ = admin.close().await;
        TestDatabase {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;

    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    // FORCE ends the connections the server's pool still holds.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await
}

/// Drops test databases whose test process is gone (killed before its `Drop` ran). Once per
/// process, and only where `/proc` tells which processes live. Without `FORCE`: a database
/// someone is still connected to (a run in another process namespace) stays.
async fn sweep_abandoned_databases(admin: &mut sqlx::PgConnection) {
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst)
        || !std::path::Path::new("/proc/self").exists()
    {
        return;
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'synapse\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if pid.is_some() && !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\""
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // A thread with its own runtime: this may run inside the test's runtime, which cannot
        // block on a future itself.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&admin_url, &name))
                .map_err(|e| e.to_string())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                eprintln!("warning: test database {} not dropped: {error}", self.name)
            }
            Err(_) => eprintln!("warning: test database {} not dropped", self.name),
        }
    }
}

/// A reply: status, the whole JSON body, and the `X-Request-ID` header.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub request_id: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// `data` of a success envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected reply: {:#}",
            self.body
        );
        self
    }

    /// Asserts an error envelope with this status and code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.body["status"], "error", "{:#}", self.body);
        assert_eq!(self.code(), code, "{:#}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(self.body["request_id"].as_str().is_some());
        self
    }
}

/// The start of an event stream, up to the end of its first message (the stream itself does
/// not end): what a reply of `GET /api/v1/events` holds for the checks every call gets.
async fn stream_start(mut response: reqwest::Response) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text.contains("\n\n") {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    text
}

/// A logged-in user of the test server.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub fn test_config() -> ServerConfig {
    let mut config = ServerConfig::with_secret(b"test-secret-test-secret-test-secret!".to_vec());
    // Many tests log in from the same address; the limiter has its own test.
    config.login_attempts_per_minute = 10_000;
    // Likewise the limits of the whole API (tests/api_auth.rs holds them).
    config.rate_limits.per_user = 1_000_000;
    config.rate_limits.per_address = 1_000_000;
    config.hashing_concurrency = 2;
    config
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(test_config()).await
    }

    /// Starts a server on a fresh database: SQLite, or PostgreSQL when
    /// `SYNAPSE_TEST_ENGINE=postgres`.
    pub async fn start_with(config: ServerConfig) -> TestServer {
        if postgres_engine() {
            let Some(admin_url) = postgres_url() else {
                panic!(
                    "{ENGINE_VAR}=postgres needs {POSTGRES_URL_VAR}, e.g. postgres://postgres@127.0.0.1:5432/postgres"
                );
            };
            return Self::start_postgres_on(&admin_url, config).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("synapse.db").display());
        Self::start_on(dir, &url, config).await
    }

    /// Starts a server on a fresh PostgreSQL database of its own on the server of `admin_url`,
    /// whatever `SYNAPSE_TEST_ENGINE` says.
    pub async fn start_postgres_on(admin_url: &str, config: ServerConfig) -> TestServer {
        let database = Arc::new(TestDatabase::create(admin_url).await);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_on(dir, &database.url.clone(), config).await;
        server.database = Some(database);
        server
    }

    /// Starts another server instance on this server's database (two instances behind one
    /// load balancer). The database lives until both are dropped.
    pub async fn start_beside(&self, config: ServerConfig) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_on(dir, &self.database_url, config).await;
        server.database = self.database.clone();
        server
    }

    /// Starts a server over an existing database (for restarts): a SQLite file URL, or a
    /// PostgreSQL URL (which the server then does not drop).
    pub async fn start_on(dir: tempfile::TempDir, url: &str, config: ServerConfig) -> TestServer {
        // reqwest is built without a TLS provider of its own; the client module installs ring.
        synapse::client::install_tls_provider();
        let store = TestStore::open(url).await;
        let state = AppState::new(store.shared(), config).expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = synapse::server::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        });
        TestServer {
            base,
            store,
            // Bounded, so a request the server never answers fails the test instead of hanging
            // the run; generous enough for a live event stream read for a while.
            http: served::http_client(Some(std::time::Duration::from_secs(120))),
            dir,
            database_url: url.to_string(),
            shutdown: Some(stop),
            database: None,
        }
    }

    /// The database, for checks made straight in SQL on either engine.
    pub fn db(&self) -> Db<'_> {
        match &self.store {
            TestStore::Sqlite(_, checks) => Db::Sqlite(checks),
            TestStore::Postgres(store) => Db::Postgres(store.pool()),
        }
    }

    /// `SELECT COUNT(*) …` on either engine. Write SQL both accept: `$1`-style placeholders
    /// (binds are text), and ids compared as text (`CAST(user_id AS TEXT) = $1`).
    pub async fn sql_count(&self, sql: &str, binds: &[&str]) -> i64 {
        let sql = sql.to_string();
        match self.db() {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                query.fetch_one(pool).await.expect("count")
            }
            Db::Postgres(pool) => {
                let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                query.fetch_one(pool).await.expect("count")
            }
        }
    }

    /// The rows of a query on either engine, every column as text (`NULL` as `None`). Write
    /// SQL both accept, as for `sql_count`, and cast what is not text on PostgreSQL (uuid,
    /// timestamptz, numbers) with `CAST(column AS TEXT)`.
    pub async fn sql_rows(&self, sql: &str, binds: &[&str]) -> Vec<Vec<Option<String>>> {
        use sqlx::Row;

        let sql = sql.to_string();
        match self.db() {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                let rows = query.fetch_all(pool).await.expect("query");
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| {
                                row.try_get::<Option<String>, _>(i)
                                    .unwrap_or_else(|e| panic!("column {i} of {sql}: {e}"))
                            })
                            .collect()
                    })
                    .collect()
            }
            Db::Postgres(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                let rows = query.fetch_all(pool).await.expect("query");
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| {
                                row.try_get::<Option<String>, _>(i).unwrap_or_else(|e| {
                                    panic!("column {i} of {sql} (cast it AS TEXT?): {e}")
                                })
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// The first column of the only row of a query, as text (see `sql_rows`); panics unless
    /// exactly one row comes back.
    pub async fn sql_text(&self, sql: &str, binds: &[&str]) -> Option<String> {
        let mut rows = self.sql_rows(sql, binds).await;
        assert_eq!(rows.len(), 1, "{sql} gave {rows:?}");
        rows.remove(0).into_iter().next().expect("a column")
    }

    /// A text parameter (`$n`, an RFC 3339 time such as `2026-01-02T03:04:05.678Z`) as SQL to
    /// compare a time column with: as it is on SQLite, where times are that text (which sorts
    /// in time order), `CAST($n AS timestamptz)` on PostgreSQL.
    pub fn sql_time(&self, param: &str) -> String {
        if self.store.is_postgres() {
            format!("CAST({param} AS timestamptz)")
        } else {
            param.to_string()
        }
    }

    /// The UTC date (`YYYY-MM-DD` text) of a time column, as SQL for this engine.
    pub fn sql_utc_date(&self, column: &str) -> String {
        if self.store.is_postgres() {
            format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
        } else {
            format!("substr({column}, 1, 10)")
        }
    }

    /// A statement (UPDATE, DELETE, …) on either engine: the rows it changed, or the
    /// database's error as text. Binds as for `sql_count`.
    pub async fn sql_execute(&self, sql: &str, binds: &[&str]) -> Result<u64, String> {
        let sql = sql.to_string();
        match self.db() {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                query
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(|e| e.to_string())
            }
            Db::Postgres(pool) => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for bind in binds {
                    query = query.bind(bind.to_string());
                }
                query
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Creates an account straight in the store.
    pub async fn user(&self, email: &str, role: Role) -> String {
        let hash = tokio::task::spawn_blocking(|| password::hash(PASSWORD))
            .await
            .unwrap()
            .unwrap();
        let user = NewUser {
            email: email.to_string(),
            full_name: format!("Test {email}"),
            role,
            password: String::new(),
        };
        self.store
            .create_user(None, &user, &hash)
            .await
            .unwrap()
            .id
            .to_string()
    }

    /// Creates an account and logs it in.
    pub async fn login_new(&self, email: &str, role: Role) -> Session {
        self.user(email, role).await;
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        reply.expect(200);
        let data = reply.data();
        Session {
            user_id: data["user_id"].as_str().unwrap().to_string(),
            email: email.to_string(),
            access_token: data["access_token"].as_str().unwrap().to_string(),
            refresh_token: data["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Any call: method, path (with query), bearer token, JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(&method, path, request.send().await.expect("request sent")).await
    }

    /// A call with a raw body and content type, for malformed input.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        Self::read(&method, path, request.send().await.expect("request sent")).await
    }

    /// Reads a reply and checks it against the OpenAPI document (see `contract`): a body that
    /// disagrees with the declared schema, or an undeclared status, fails the test here.
    async fn read(method: &Method, path: &str, response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let text = if content_type.is_some_and(|t| t.starts_with("text/event-stream")) {
            stream_start(response).await
        } else {
            response.text().await.expect("body")
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if let Err(mismatch) = contract::check(method, path, status.as_u16(), content_type, &body) {
            panic!(
                "{method} {path} answered {status}, which disagrees with the OpenAPI document:\n\
                 {mismatch}\nbody: {body:#}"
            );
        }
        Reply {
            status,
            body,
            request_id,
            headers,
        }
    }

    pub async fn get(&self, path: &str, session: &Session) -> Reply {
        self.call(Method::GET, path, Some(&session.access_token), None)
            .await
    }

    pub async fn post(&self, path: &str, session: &Session, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&session.access_token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, session: &Session, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(&session.access_token), Some(body))
            .await
    }

    /// Registers a patient for the session's doctor; returns its id.
    pub async fn patient(&self, session: &Session, full_name: &str) -> String {
        let reply = self
            .post(
                "/api/v1/patients",
                session,
                json!({"full_name": full_name, "date_of_birth": "1980-02-03", "sex": "female"}),
            )
            .await;
        reply.expect(201);
        reply.data()["id"].as_str().unwrap().to_string()
    }

    /// Runs a consultation with these notes to the end and waits for its report to leave
    /// pending/generating; returns the report.
    pub async fn consultation_report(
        &self,
        session: &Session,
        patient_id: &str,
        notes: &str,
    ) -> Value {
        let started = self
            .post(
                "/api/v1/consultation/start",
                session,
                json!({"patient_id": patient_id, "session_type": "follow_up", "chief_complaint": "Low mood"}),
            )
            .await;
        started.expect(201);
        let id = started.data()["id"].as_str().unwrap().to_string();
        let stopped = self
            .post(
                &format!("/api/v1/consultation/{id}/stop"),
                session,
                json!({"notes": notes}),
            )
            .await;
        stopped.expect(200);
        let report_id = stopped.data()["report_id"].as_str().unwrap().to_string();
        self.wait_for_report(session, &report_id).await
    }

    /// Polls a report until generation has finished (completed or failed).
    pub async fn wait_for_report(&self, session: &Session, report_id: &str) -> Value {
        for _ in 0..200 {
            let reply = self
                .get(&format!("/api/v1/reports/{report_id}"), session)
                .await;
            reply.expect(200);
            let status = reply.data()["status"].as_str().unwrap_or("").to_string();
            if status != "pending" && status != "generating" {
                return reply.data().clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("report {report_id} was not generated within 5 s");
    }
}
