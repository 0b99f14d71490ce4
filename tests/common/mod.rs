//! The test harness shared by the API tests: a real server on 127.0.0.1:0 over a temporary
//! SQLite file, accounts made straight in the store, and a small HTTP helper that returns the
//! status and the parsed envelope of every call.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use synapse::model::admin::NewUser;
use synapse::model::auth::Role;
use synapse::server::{AppState, ServerConfig};
use synapse::store::sqlite::SqliteStore;
use synapse::store::{Store, password};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestServer {
    pub base: String,
    pub store: Arc<SqliteStore>,
    pub http: reqwest::Client,
    /// Keeps the database directory alive as long as the server.
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
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
    config.hashing_concurrency = 2;
    config
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: ServerConfig) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("synapse.db").display());
        Self::start_on(dir, &url, config).await
    }

    /// Starts a server over an existing database file (for restarts).
    pub async fn start_on(dir: tempfile::TempDir, url: &str, config: ServerConfig) -> TestServer {
        // reqwest is built without a TLS provider of its own; the client module installs ring.
        synapse::client::install_tls_provider();
        let store = Arc::new(SqliteStore::open(url).await.expect("open store"));
        let state = AppState::new(store.clone(), config).expect("state");
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
            http: reqwest::Client::new(),
            dir,
            shutdown: Some(stop),
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
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(request.send().await.expect("request sent")).await
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
            .request(method, format!("{}{}", self.base, path))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        Self::read(request.send().await.expect("request sent")).await
    }

    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
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
