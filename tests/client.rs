//! The typed API client (`synapse::client`) against the real server of the test harness: every
//! endpoint method with the role that may call it and its typed result; proactive refresh, one
//! shared refresh for concurrent calls, a call after the access token expired, a refused refresh
//! ending the session; the server's errors mapped to their `ErrorKind` (lockout, rate limit,
//! version conflict, active consultation, validation, not found, forbidden). Failures that never
//! reach the Synapse API are played by tiny raw TCP servers written here: a port with nothing
//! listening, a server that never answers, HTML, JSON that is not the envelope, 503 and 429
//! answers (reads are retried, writes are not), and the `X-Request-ID` every call carries.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{PASSWORD, TestServer, test_config};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::client::{ApiClient, ApiError, ClientConfig, ErrorKind, SessionEvent};
use synapse::model::admin::NewUser;
use synapse::model::auth::Role;
use synapse::model::consultation::{ConsultationStatus, SessionType, StartConsultation};
use synapse::model::patient::{NewPatient, PatientSort, PatientUpdate, Sex};
use synapse::model::query::{
    AuditParams, PageParams, PatientListParams, ReportListParams, ReportStatsParams,
};
use synapse::model::report::{Report, ReportStatus};
use synapse::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

const NOTES: &str = "History: low mood for 3 weeks, poor sleep\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks\n\
Medications: sertraline 50 mg once daily\n\
Diagnosis: F32.1 Moderate depressive episode";

const NEW_PASSWORD: &str = "a-brand-new-passphrase";

fn client_for(base: &str) -> ApiClient {
    ApiClient::new(&ClientConfig::new(base)).expect("a client")
}

/// A new account of this role, logged in on a client of its own.
async fn logged_in(server: &TestServer, email: &str, role: Role) -> ApiClient {
    server.user(email, role).await;
    let client = client_for(&server.base);
    let user = client.login(email, PASSWORD).await.expect("login");
    assert_eq!(user.email, email);
    assert_eq!(user.role, role);
    client
}

fn config_with_access_ttl(seconds: i64) -> ServerConfig {
    let mut config = test_config();
    config.access_token_ttl_s = seconds;
    config
}

/// Successful refreshes, counted in the audit table (not through the API).
async fn refresh_count(server: &TestServer) -> i64 {
    server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.refresh' AND outcome = 'success'",
            &[],
        )
        .await
}

/// The refresh token the client last announced.
fn current_refresh_token(client: &ApiClient) -> String {
    match client.session_events().borrow().clone() {
        SessionEvent::Renewed { refresh_token, .. } => refresh_token,
        other => panic!("expected a renewed session, got {other:?}"),
    }
}

fn new_patient(full_name: &str) -> NewPatient {
    NewPatient {
        full_name: full_name.to_string(),
        date_of_birth: NaiveDate::from_ymd_opt(1980, 2, 3).unwrap(),
        sex: Sex::Female,
        phone: Some("+1 555 010 2030".into()),
        email: None,
        address: Some("1 Elm Street".into()),
        referred_by: None,
        illness_duration: None,
        allergies: None,
        alerts: vec!["Fall risk".into()],
        symptoms: Vec::new(),
        doctor_id: None,
    }
}

fn start(patient_id: Uuid) -> StartConsultation {
    StartConsultation {
        patient_id,
        session_type: SessionType::FollowUp,
        chief_complaint: Some("Low mood".into()),
    }
}

/// Polls the report until generation has finished (bounded).
async fn wait_for_report(client: &ApiClient, id: Uuid) -> Report {
    for _ in 0..200 {
        let report = client.get_report(id).await.expect("get report");
        if !matches!(
            report.summary.status,
            ReportStatus::Pending | ReportStatus::Generating
        ) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("report {id} was not generated within 5 s");
}

#[track_caller]
fn assert_field(error: &ApiError, field: &str) {
    match &error.kind {
        ErrorKind::Validation { fields } => assert!(
            fields.iter().any(|f| f.field == field),
            "no error for {field}: {fields:?}"
        ),
        other => panic!("expected a validation error naming {field}, got {other:?}: {error}"),
    }
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP server for answers the real server never gives.

/// A TCP server on 127.0.0.1 that answers the n-th request with the n-th scripted response
/// (the last one repeats), keeps every request head it read, and — with an empty script — reads
/// requests but never answers.
struct RawServer {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    async fn start(script: Vec<Vec<u8>>) -> RawServer {
        Self::start_closing_after(script, None).await
    }

    /// Stops listening (new connections are refused) after `close_after` requests.
    async fn start_closing_after(script: Vec<Vec<u8>>, close_after: Option<usize>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        let task = tokio::spawn(async move {
            let mut served = 0usize;
            let mut silent = Vec::new();
            loop {
                if close_after.is_some_and(|n| served >= n) {
                    return;
                }
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let Some(head) = read_request(&mut socket).await else {
                    continue;
                };
                seen.lock().unwrap().push(head);
                let Some(response) = script.get(served.min(script.len().saturating_sub(1))) else {
                    // Never answer: keep the connection open until the server is dropped.
                    silent.push(socket);
                    served += 1;
                    continue;
                };
                served += 1;
                let _ = socket.write_all(response).await;
                let _ = socket.shutdown().await;
            }
        });
        RawServer { base, heads, task }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Reads one request (head and `Content-Length` body); returns the head.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// A complete HTTP/1.1 response that closes the connection.
fn http(status: &str, content_type: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn json_response(status: &str, body: &Value) -> Vec<u8> {
    http(status, "application/json", "", &body.to_string())
}

fn error_envelope(code: &str, details: Value) -> Value {
    json!({
        "status": "error",
        "error": {"code": code, "message": format!("{code} from the raw server"), "details": details},
        "request_id": "raw-server",
    })
}

/// The `X-Request-ID` value of a request head.
fn request_id_of(head: &str) -> Option<String> {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("x-request-id"))
        .map(|(_, value)| value.trim().to_string())
}

/// A real login envelope of the real server, to replay from a raw server so a client there
/// holds a session.
async fn real_login_envelope(server: &TestServer, email: &str) -> Value {
    server.user(email, Role::Doctor).await;
    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
    reply.expect(200);
    reply.body
}

/// A port on 127.0.0.1 with nothing listening.
async fn dead_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{address}")
}

// ---------------------------------------------------------------------------------------------
// Every endpoint, with the role that may call it.

#[tokio::test]
async fn a_doctor_registers_reads_updates_pages_and_searches_patients() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;

    let created = doctor
        .create_patient(&new_patient("Amelia Zorander"))
        .await
        .expect("create");
    assert!(created.summary.mrn.starts_with("MRN-"), "{created:?}");
    assert_eq!(created.summary.full_name, "Amelia Zorander");
    assert_eq!(created.summary.sex, Sex::Female);
    assert_eq!(created.address.as_deref(), Some("1 Elm Street"));
    assert_eq!(created.alerts, vec!["Fall risk".to_string()]);
    let fetched = doctor
        .get_patient(created.summary.id)
        .await
        .expect("get patient");
    assert_eq!(fetched, created);

    let updated = doctor
        .update_patient(
            created.summary.id,
            &PatientUpdate {
                full_name: Some("Amelia Zorander-Smith".into()),
                address: Some(None),
                ..PatientUpdate::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.summary.full_name, "Amelia Zorander-Smith");
    assert_eq!(updated.address, None);
    assert_eq!(
        updated.summary.phone, created.summary.phone,
        "omitted fields stay"
    );
    assert_eq!(
        doctor.get_patient(created.summary.id).await.unwrap(),
        updated
    );

    for name in [
        "Bruno Aalto",
        "Chloe Brandt",
        "Dmitri Castell",
        "Eve Dunmore",
    ] {
        doctor.create_patient(&new_patient(name)).await.unwrap();
    }
    // Cursor pages of two, by name (surname first; the renamed patient moved to the end), cover
    // every patient exactly once.
    let mut params = PatientListParams {
        limit: Some(2),
        sort: Some(PatientSort::Name),
        ..PatientListParams::default()
    };
    let mut names = Vec::new();
    for _ in 0..10 {
        let page = doctor.list_patients(&params).await.expect("list");
        assert_eq!(page.pagination.total, 5);
        assert!(page.items.len() <= 2);
        names.extend(page.items.iter().map(|p| p.full_name.clone()));
        match page.pagination.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => {
                assert!(!page.pagination.has_more);
                break;
            }
        }
    }
    assert_eq!(
        names,
        [
            "Bruno Aalto",
            "Chloe Brandt",
            "Dmitri Castell",
            "Eve Dunmore",
            "Amelia Zorander-Smith"
        ]
    );
    let offset_page = doctor
        .list_patients(&PatientListParams {
            limit: Some(2),
            offset: Some(4),
            sort: Some(PatientSort::Name),
            ..PatientListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(offset_page.items.len(), 1);
    assert_eq!(offset_page.items[0].full_name, "Amelia Zorander-Smith");

    let found = doctor.search_patients("zor", None).await.expect("search");
    assert_eq!(found.count, 1);
    assert_eq!(found.items[0].id, created.summary.id);
    let by_mrn = doctor
        .search_patients(&created.summary.mrn, Some(5))
        .await
        .unwrap();
    assert_eq!(by_mrn.items[0].id, created.summary.id);
    let filtered = doctor
        .list_patients(&PatientListParams {
            search: Some("brandt".into()),
            ..PatientListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(filtered.pagination.total, 1);
    assert_eq!(filtered.items[0].full_name, "Chloe Brandt");
}

#[tokio::test]
async fn a_consultation_runs_to_a_signed_report_with_an_addendum() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let patient = doctor
        .create_patient(&new_patient("Fiona Grey"))
        .await
        .unwrap()
        .summary
        .id;

    let started = doctor.start_consultation(&start(patient)).await.unwrap();
    assert_eq!(started.status, ConsultationStatus::InProgress);
    assert_eq!(started.patient_id, patient);
    let active = doctor.active_consultations().await.unwrap();
    assert_eq!(
        active.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [started.id]
    );
    let noted = doctor.update_notes(started.id, NOTES).await.unwrap();
    assert_eq!(noted.notes.as_deref(), Some(NOTES));
    assert_eq!(
        doctor
            .get_consultation(started.id)
            .await
            .unwrap()
            .notes
            .as_deref(),
        Some(NOTES)
    );
    let stopped = doctor.stop_consultation(started.id, None).await.unwrap();
    assert_eq!(stopped.status, ConsultationStatus::Completed);
    let report_id = stopped.report_id.expect("a report id");
    let err = doctor.update_notes(started.id, "late").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState, "{err}");

    let report = wait_for_report(&doctor, report_id).await;
    assert_eq!(report.summary.status, ReportStatus::Completed, "{report:?}");
    assert_eq!(report.summary.patient.id, patient);
    assert!(report.content.assessment.is_some(), "{report:?}");
    let err = doctor
        .add_addendum(report_id, "too early")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);

    let mut content = report.content.clone();
    content.follow_up = Some("Review in 2 weeks, sooner if worse".into());
    let edited = doctor
        .edit_report(report_id, &content, report.version)
        .await
        .unwrap();
    assert_eq!(edited.version, report.version + 1);
    assert_eq!(edited.content, content);
    let stale = doctor
        .edit_report(report_id, &content, report.version)
        .await
        .unwrap_err();
    assert_eq!(
        stale.kind,
        ErrorKind::VersionConflict {
            current_version: Some(edited.version)
        },
        "{stale}"
    );
    assert_eq!(edited.version, 2);

    let wrong = doctor
        .sign_report(report_id, edited.version, "not-the-password", None)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::InvalidCredentials);
    let stale = doctor
        .sign_report(report_id, report.version, PASSWORD, None)
        .await
        .unwrap_err();
    assert_eq!(
        stale.kind,
        ErrorKind::VersionConflict {
            current_version: Some(edited.version)
        },
        "{stale}"
    );
    let signed = doctor
        .sign_report(report_id, edited.version, PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(signed.summary.status, ReportStatus::Signed);
    assert!(signed.summary.signed_at.is_some());
    assert_eq!(
        signed.signed_by.as_ref().map(|s| s.full_name.as_str()),
        Some("Test doc@example.org")
    );
    let again = doctor
        .sign_report(report_id, signed.version, PASSWORD, None)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::ReportSigned);
    let locked = doctor
        .edit_report(report_id, &content, signed.version)
        .await
        .unwrap_err();
    assert_eq!(locked.kind, ErrorKind::ReportSigned);
    let with_addendum = doctor
        .add_addendum(report_id, "Patient called: sleeping better.")
        .await
        .unwrap();
    assert_eq!(with_addendum.addenda.len(), 1);
    assert_eq!(
        with_addendum.addenda[0].text,
        "Patient called: sleeping better."
    );

    // A second consultation, cancelled; the history lists both, newest first, without notes.
    let second = doctor.start_consultation(&start(patient)).await.unwrap();
    let cancelled = doctor
        .cancel_consultation(second.id, "Patient left early")
        .await
        .unwrap();
    assert_eq!(cancelled.status, ConsultationStatus::Cancelled);
    assert!(
        doctor
            .active_consultations()
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let history = doctor
        .consultation_history(patient, &PageParams::default())
        .await
        .unwrap();
    assert_eq!(history.patient_id, patient);
    assert_eq!(history.patient_name, "Fiona Grey");
    assert_eq!(
        history.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [second.id, started.id]
    );
    assert!(history.items.iter().all(|c| c.notes.is_none()));

    let reports = doctor
        .list_reports(&ReportListParams::default())
        .await
        .unwrap();
    assert_eq!(reports.pagination.total, 1);
    assert_eq!(reports.items[0].id, report_id);
    let signed_only = doctor
        .list_reports(&ReportListParams {
            status: Some(ReportStatus::Signed),
            patient_id: Some(patient),
            ..ReportListParams::default()
        })
        .await
        .unwrap();
    assert_eq!(signed_only.items.len(), 1);
    assert_eq!(
        signed_only.filters_applied.status,
        Some(ReportStatus::Signed)
    );
    assert_eq!(signed_only.filters_applied.patient_id, Some(patient));
    let none_failed = doctor
        .list_reports(&ReportListParams {
            status: Some(ReportStatus::Failed),
            ..ReportListParams::default()
        })
        .await
        .unwrap();
    assert!(none_failed.items.is_empty());

    let stats = doctor
        .report_stats(&ReportStatsParams::default())
        .await
        .unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.by_status.signed, 1);
    assert_eq!(stats.unsigned, 0);
    assert_eq!(stats.recent_7d, 1);
    assert_eq!(stats.daily.len(), 30);
    assert_eq!(stats.daily.iter().map(|d| d.count).sum::<u64>(), 1);
    let week = doctor
        .report_stats(&ReportStatsParams {
            days: Some(7),
            patient_id: Some(patient),
        })
        .await
        .unwrap();
    assert_eq!(week.daily.len(), 7);
}

#[tokio::test]
async fn a_receptionist_registers_for_a_doctor_and_is_kept_out_of_clinical_calls() {
    let server = TestServer::start().await;
    let doctor_id: Uuid = server
        .user("doc@example.org", Role::Doctor)
        .await
        .parse()
        .unwrap();
    let desk = logged_in(&server, "desk@example.org", Role::Receptionist).await;
    let mut patient = new_patient("Hannah Ives");
    patient.doctor_id = Some(doctor_id);
    let created = desk.create_patient(&patient).await.expect("create");
    let listed = desk
        .list_patients(&PatientListParams::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, created.summary.id);
    assert_eq!(desk.search_patients("ives", None).await.unwrap().count, 1);
    let err = desk
        .start_consultation(&start(created.summary.id))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden, "{err}");
    let err = desk
        .list_reports(&ReportListParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);

    // The doctor the patient was registered with sees it.
    let doctor = client_for(&server.base);
    doctor.login("doc@example.org", PASSWORD).await.unwrap();
    let theirs = doctor
        .list_patients(&PatientListParams::default())
        .await
        .unwrap();
    assert_eq!(theirs.items[0].id, created.summary.id);
}

#[tokio::test]
async fn an_admin_manages_users_and_reads_the_audit_log() {
    let server = TestServer::start().await;
    let admin = logged_in(&server, "admin@example.org", Role::Admin).await;
    let admin_id = admin.user().expect("a user").id;
    server.user("doc@example.org", Role::Doctor).await;

    let users = admin.list_users(&PageParams::default()).await.unwrap();
    assert_eq!(users.pagination.total, 2);
    assert!(users.items.iter().any(|u| u.email == "doc@example.org"));

    let created = admin
        .create_user(&NewUser {
            email: "new.doc@example.org".into(),
            full_name: "New Doctor".into(),
            role: Role::Doctor,
            password: "a-long-enough-password".into(),
        })
        .await
        .expect("create user");
    assert_eq!(created.email, "new.doc@example.org");
    assert_eq!(created.role, Role::Doctor);
    assert!(!created.disabled);
    let duplicate = admin
        .create_user(&NewUser {
            email: "new.doc@example.org".into(),
            full_name: "Again".into(),
            role: Role::Doctor,
            password: "a-long-enough-password".into(),
        })
        .await
        .unwrap_err();
    assert_field(&duplicate, "email");

    let newcomer = client_for(&server.base);
    newcomer
        .login("new.doc@example.org", "a-long-enough-password")
        .await
        .expect("the new account logs in");

    // Lock it with wrong passwords, unlock it as the admin.
    for _ in 0..5 {
        let _ = client_for(&server.base)
            .login("new.doc@example.org", "wrong-password")
            .await;
    }
    let locked = client_for(&server.base)
        .login("new.doc@example.org", "a-long-enough-password")
        .await
        .unwrap_err();
    assert!(matches!(locked.kind, ErrorKind::AccountLocked { .. }));
    let unlocked = admin.unlock_user(created.id).await.unwrap();
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(unlocked.failed_logins, 0);
    client_for(&server.base)
        .login("new.doc@example.org", "a-long-enough-password")
        .await
        .expect("unlocked");

    let disabled = admin.disable_user(created.id).await.unwrap();
    assert!(disabled.disabled);
    let refused = client_for(&server.base)
        .login("new.doc@example.org", "a-long-enough-password")
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::AccountDisabled);
    let myself = admin.disable_user(admin_id).await.unwrap_err();
    assert_eq!(myself.kind, ErrorKind::InvalidState);

    // Enabled again, with a new password, then logged out everywhere.
    let enabled = admin.enable_user(created.id).await.unwrap();
    assert!(!enabled.disabled);
    let short = admin.reset_password(created.id, "short").await.unwrap_err();
    assert_field(&short, "password");
    admin
        .reset_password(created.id, "a-reset-password")
        .await
        .expect("reset");
    let after_reset = client_for(&server.base);
    after_reset
        .login("new.doc@example.org", "a-reset-password")
        .await
        .expect("the new password logs in");
    let revoked = admin.revoke_sessions(created.id).await.unwrap();
    assert_eq!(revoked.user_id, created.id);
    assert_eq!(revoked.revoked, 1);
    assert!(after_reset.me().await.is_err(), "the session ended");
    let own = admin
        .reset_password(admin_id, "a-reset-password")
        .await
        .unwrap_err();
    assert_eq!(own.kind, ErrorKind::InvalidState);

    let logins = admin
        .audit(&AuditParams {
            action: Some("auth.login".into()),
            ..AuditParams::default()
        })
        .await
        .unwrap();
    assert!(!logins.items.is_empty());
    assert!(logins.items.iter().all(|e| e.action == "auth.login"));
    assert!(logins.items.iter().any(|e| e.outcome == "failure"));
    let theirs = admin
        .audit(&AuditParams {
            user_id: Some(created.id),
            ..AuditParams::default()
        })
        .await
        .unwrap();
    assert!(
        theirs.items.iter().all(|e| e.user_id == Some(created.id)),
        "{:?}",
        theirs.items
    );
    assert!(!theirs.items.is_empty());

    let err = admin
        .list_patients(&PatientListParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
}

#[tokio::test]
async fn health_ready_and_the_openapi_document_need_no_login() {
    let server = TestServer::start().await;
    let client = client_for(&server.base);
    assert_eq!(client.health().await.unwrap().status, "ok");
    assert_eq!(client.ready().await.unwrap().status, "ready");
    let doc = client.openapi().await.unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let operations = synapse::server::openapi::operations(&doc);
    assert!(
        operations
            .iter()
            .any(|(m, p)| m == "get" && p == "/api/v1/auth/me"),
        "{operations:?}"
    );
    assert!(
        operations
            .iter()
            .any(|(m, p)| m == "post" && p == "/api/v1/reports/{id}/sign")
    );
}

#[tokio::test]
async fn me_logout_and_a_call_after_logout() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    assert_eq!(doctor.server_url(), server.base);
    let me = doctor.me().await.unwrap();
    assert_eq!(me.email, "doc@example.org");
    assert_eq!(doctor.user(), Some(me));
    assert!(doctor.access_expires_at().is_some());
    let refresh_token = current_refresh_token(&doctor);

    assert!(doctor.logout().await.unwrap().logged_out);
    assert_eq!(*doctor.session_events().borrow(), SessionEvent::Ended);
    assert_eq!(doctor.user(), None);
    let err = doctor.me().await.unwrap_err();
    assert!(err.needs_login(), "{err:?}");
    assert_eq!(err.kind, ErrorKind::NotLoggedIn);

    // The server ended the session too: its refresh token no longer resumes it.
    let other = client_for(&server.base);
    let err = other.resume(&refresh_token).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded);
    assert_eq!(*other.session_events().borrow(), SessionEvent::Ended);
}

#[tokio::test]
async fn change_password_keeps_this_session_and_ends_the_others() {
    let server = TestServer::start().await;
    let here = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let elsewhere = client_for(&server.base);
    elsewhere.login("doc@example.org", PASSWORD).await.unwrap();

    let wrong = here
        .change_password("not-the-password", NEW_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::InvalidCredentials);
    let same = here.change_password(PASSWORD, PASSWORD).await.unwrap_err();
    assert_field(&same, "new_password");
    assert!(
        here.change_password(PASSWORD, NEW_PASSWORD)
            .await
            .unwrap()
            .changed
    );
    here.me().await.expect("this session goes on");

    let ended = elsewhere.me().await.unwrap_err();
    assert_eq!(ended.kind, ErrorKind::SessionEnded, "{ended:?}");
    assert!(ended.needs_login());
    assert_eq!(*elsewhere.session_events().borrow(), SessionEvent::Ended);

    let old = client_for(&server.base)
        .login("doc@example.org", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(old.kind, ErrorKind::InvalidCredentials);
    client_for(&server.base)
        .login("doc@example.org", NEW_PASSWORD)
        .await
        .expect("the new password works");
}

#[tokio::test]
async fn a_saved_refresh_token_resumes_once_and_a_reused_one_ends_the_session() {
    let server = TestServer::start().await;
    let first = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let saved = current_refresh_token(&first);

    let resumed = client_for(&server.base);
    let user = resumed.resume(&saved).await.expect("resume");
    assert_eq!(user.email, "doc@example.org");
    let rotated = current_refresh_token(&resumed);
    assert_ne!(rotated, saved, "each refresh hands out a new token");
    resumed.me().await.unwrap();

    // Presenting the used token again revokes the whole session, the resumed client's too.
    let thief = client_for(&server.base);
    let err = thief.resume(&saved).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded);
    let err = resumed.me().await.unwrap_err();
    assert!(err.needs_login(), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Token refresh.

#[tokio::test]
async fn a_long_lived_access_token_is_used_without_refreshing() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let login_token = current_refresh_token(&doctor);
    for _ in 0..3 {
        doctor.me().await.unwrap();
    }
    assert_eq!(refresh_count(&server).await, 0);
    assert_eq!(current_refresh_token(&doctor), login_token);
}

#[tokio::test]
async fn an_access_token_about_to_expire_is_refreshed_before_the_call() {
    // 60 s is within the client's refresh margin, so the next call refreshes first.
    let server = TestServer::start_with(config_with_access_ttl(60)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let login_token = current_refresh_token(&doctor);
    let mut events = doctor.session_events();
    events.borrow_and_update();

    let me = doctor.me().await.expect("the call succeeds");
    assert_eq!(me.email, "doc@example.org");
    assert!(events.has_changed().unwrap(), "a renewal was announced");
    match events.borrow_and_update().clone() {
        SessionEvent::Renewed {
            email,
            refresh_token,
        } => {
            assert_eq!(email, "doc@example.org");
            assert_ne!(refresh_token, login_token);
        }
        other => panic!("expected Renewed, got {other:?}"),
    }
    assert_eq!(refresh_count(&server).await, 1);
}

#[tokio::test]
async fn concurrent_calls_share_a_single_refresh() {
    let server = TestServer::start_with(config_with_access_ttl(60)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    doctor
        .create_patient(&new_patient("Ivy Jones"))
        .await
        .unwrap();
    let before = refresh_count(&server).await;
    assert_eq!(before, 1, "the create refreshed once");

    let calls = (0..10).map(|_| {
        let doctor = doctor.clone();
        async move {
            doctor
                .list_patients(&PatientListParams::default())
                .await
                .map(|page| page.pagination.total)
        }
    });
    let results = futures_util::future::join_all(calls).await;
    for result in results {
        assert_eq!(result.expect("every call succeeds"), 1);
    }
    assert_eq!(
        refresh_count(&server).await - before,
        1,
        "ten racing calls refreshed exactly once"
    );
}

#[tokio::test]
async fn a_call_after_the_access_token_expired_succeeds() {
    let server = TestServer::start_with(config_with_access_ttl(1)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    // A token issued at the same moment, to show the server's side of the expiry.
    let witness = server.login("doc@example.org", PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    server
        .get("/api/v1/auth/me", &witness)
        .await
        .expect_error(401, "TOKEN_EXPIRED");

    let me = doctor.me().await.expect("refreshed and answered");
    assert_eq!(me.email, "doc@example.org");
    assert_eq!(refresh_count(&server).await, 1);
}

#[tokio::test]
async fn a_server_that_only_issues_expired_tokens_gets_one_retry_not_a_loop() {
    // Tokens expired on issue: every call meets 401 TOKEN_EXPIRED. The client refreshes and
    // retries once, then gives up with TokenExpired instead of refreshing forever.
    let server = TestServer::start_with(config_with_access_ttl(-5)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let err = doctor.me().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::TokenExpired, "{err:?}");
    assert!(err.needs_login());
    let refreshes = refresh_count(&server).await;
    assert!(
        (2..=3).contains(&refreshes),
        "refreshed for the retry, and no more: {refreshes}"
    );
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let server = TestServer::start_with(config_with_access_ttl(60)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    // The session is revoked on the server (as another device's logout would).
    let revoked = server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": current_refresh_token(&doctor)})),
        )
        .await;
    revoked.expect(200);

    let err = doctor.me().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded, "{err:?}");
    assert!(err.needs_login());
    assert_eq!(*doctor.session_events().borrow(), SessionEvent::Ended);
    assert_eq!(doctor.user(), None);
    let next = doctor.me().await.unwrap_err();
    assert!(next.needs_login(), "{next:?}");
}

#[tokio::test]
async fn disabling_the_account_ends_its_session_at_the_next_refresh() {
    let server = TestServer::start_with(config_with_access_ttl(60)).await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let doctor_id = doctor.user().unwrap().id;
    let admin = logged_in(&server, "admin@example.org", Role::Admin).await;
    admin.disable_user(doctor_id).await.unwrap();
    let err = doctor
        .list_patients(&PatientListParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded, "{err:?}");
    assert_eq!(*doctor.session_events().borrow(), SessionEvent::Ended);
}

#[tokio::test]
async fn a_session_revoked_elsewhere_ends_at_the_next_call() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": current_refresh_token(&doctor)})),
        )
        .await
        .expect(200);
    let err = doctor.me().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded, "{err:?}");
    assert!(err.request_id.is_some(), "the server's answer names it");
    assert_eq!(*doctor.session_events().borrow(), SessionEvent::Ended);
    assert_eq!(doctor.user(), None);
}

#[tokio::test]
async fn a_session_the_server_timed_out_ends_at_the_next_call_saying_why() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    doctor.me().await.unwrap();
    // Unused for 31 minutes, as far as the server knows.
    let ago = (chrono::Utc::now() - chrono::Duration::minutes(31))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let sql = format!(
        "UPDATE sessions SET last_used_at = {}",
        server.sql_time("$1")
    );
    server.sql_execute(&sql, &[&ago]).await.unwrap();
    let err = doctor.me().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::SessionEnded, "{err:?}");
    assert!(
        err.message.contains("not used for a while"),
        "{}",
        err.message
    );
    assert_eq!(*doctor.session_events().borrow(), SessionEvent::Ended);
}

// ---------------------------------------------------------------------------------------------
// The server's errors, mapped to their kinds.

#[tokio::test]
async fn failed_logins_lock_the_account_with_a_message_naming_the_time() {
    let server = TestServer::start().await;
    server.user("doc@example.org", Role::Doctor).await;
    let client = client_for(&server.base);
    for attempt in 1..=4 {
        let err = client
            .login("doc@example.org", "wrong-password")
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidCredentials, "attempt {attempt}");
        assert!(err.request_id.is_some());
    }
    let err = client
        .login("doc@example.org", "wrong-password")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind,
            ErrorKind::AccountLocked {
                locked_until: Some(until)
            } if until > chrono::Utc::now()
        ),
        "{err:?}"
    );
    assert!(err.message.starts_with("Account locked until"), "{err}");
    let err = client.login("doc@example.org", PASSWORD).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::AccountLocked { .. }),
        "{err:?}"
    );
    assert_eq!(client.user(), None);
    let unknown = client
        .login("nobody@example.org", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::InvalidCredentials);
}

#[tokio::test]
async fn too_many_logins_from_one_address_are_rate_limited() {
    let mut config = test_config();
    config.login_attempts_per_minute = 2;
    let server = TestServer::start_with(config).await;
    server.user("doc@example.org", Role::Doctor).await;
    let client = client_for(&server.base);
    client.login("doc@example.org", PASSWORD).await.unwrap();
    client.login("doc@example.org", PASSWORD).await.unwrap();
    let err = client.login("doc@example.org", PASSWORD).await.unwrap_err();
    match err.kind {
        ErrorKind::RateLimited { retry_after_s } => {
            assert!((1..=60).contains(&retry_after_s), "{retry_after_s}")
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(!err.message.is_empty());
}

#[tokio::test]
async fn conflicts_validation_and_missing_records_have_their_own_kinds() {
    let server = TestServer::start().await;
    let doctor = logged_in(&server, "doc@example.org", Role::Doctor).await;
    let patient = doctor
        .create_patient(&new_patient("Jonas Kerr"))
        .await
        .unwrap()
        .summary
        .id;

    let first = doctor.start_consultation(&start(patient)).await.unwrap();
    let err = doctor
        .start_consultation(&start(patient))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConsultationActive {
            consultation_id: Some(first.id)
        },
        "{err:?}"
    );

    let err = doctor.create_patient(&new_patient("")).await.unwrap_err();
    assert_field(&err, "full_name");
    let mut unborn = new_patient("Future Person");
    unborn.date_of_birth = NaiveDate::from_ymd_opt(2999, 1, 1).unwrap();
    assert_field(
        &doctor.create_patient(&unborn).await.unwrap_err(),
        "date_of_birth",
    );
    assert_field(
        &doctor
            .list_patients(&PatientListParams {
                limit: Some(500),
                ..PatientListParams::default()
            })
            .await
            .unwrap_err(),
        "limit",
    );
    assert_field(
        &doctor
            .list_patients(&PatientListParams {
                cursor: Some("not-a-cursor".into()),
                ..PatientListParams::default()
            })
            .await
            .unwrap_err(),
        "cursor",
    );
    assert_field(
        &doctor
            .update_patient(patient, &PatientUpdate::default())
            .await
            .unwrap_err(),
        "body",
    );

    let missing = Uuid::new_v4();
    for err in [
        doctor.get_patient(missing).await.unwrap_err(),
        doctor.get_report(missing).await.unwrap_err(),
        doctor.get_consultation(missing).await.unwrap_err(),
    ] {
        assert_eq!(err.kind, ErrorKind::NotFound, "{err:?}");
        assert!(!err.message.is_empty());
        assert!(err.request_id.is_some());
    }
    // Another doctor's patient is missing, not forbidden.
    let other = logged_in(&server, "other@example.org", Role::Doctor).await;
    let err = other.get_patient(patient).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Failures that never reach the Synapse API.

#[tokio::test]
async fn a_port_with_nothing_listening_is_unreachable() {
    let base = dead_base().await;
    let client = client_for(&base);
    let started = Instant::now();
    let err = client.login("doc@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err:?}");
    assert!(err.is_offline());
    assert!(err.request_id.is_some());
    assert!(!err.message.is_empty());
    let err = client.health().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_read_on_a_server_that_went_away_is_retried_then_unreachable() {
    let server = TestServer::start().await;
    let login = real_login_envelope(&server, "doc@example.org").await;
    // Answers the login, then stops listening.
    let raw = RawServer::start_closing_after(vec![json_response("200 OK", &login)], Some(1)).await;
    let client = client_for(&raw.base);
    client.login("doc@example.org", PASSWORD).await.unwrap();
    // Let the raw server's accept loop end, closing the listener.
    for _ in 0..100 {
        if raw.task.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(raw.task.is_finished());
    let started = Instant::now();
    let err = client
        .list_patients(&PatientListParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err:?}");
    assert!(err.request_id.is_some());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        client.user().is_some(),
        "an unreachable server does not end the session"
    );
}

#[tokio::test]
async fn reads_are_retried_on_503_and_writes_are_not() {
    let server = TestServer::start().await;
    let login = real_login_envelope(&server, "doc@example.org").await;
    let unavailable = json_response(
        "503 Service Unavailable",
        &error_envelope("SERVICE_UNAVAILABLE", json!({})),
    );
    let raw = RawServer::start(vec![json_response("200 OK", &login), unavailable]).await;
    let client = client_for(&raw.base);
    client.login("doc@example.org", PASSWORD).await.unwrap();

    let err = client
        .list_patients(&PatientListParams::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert_eq!(raw.heads().len(), 1 + 3, "the read was tried three times");
    let err = client
        .create_patient(&new_patient("Lena Moss"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert_eq!(raw.heads().len(), 1 + 3 + 1, "the write was sent once");
    assert!(client.user().is_some());

    // Every attempt carried its own request id.
    let ids: Vec<String> = raw
        .heads()
        .iter()
        .map(|h| request_id_of(h).expect("an X-Request-ID"))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[tokio::test]
async fn a_read_waits_out_a_short_retry_after_but_not_a_long_one() {
    let server = TestServer::start().await;
    let login = real_login_envelope(&server, "doc@example.org").await;
    let user = login["data"]["user"].clone();
    let raw = RawServer::start(vec![
        json_response("200 OK", &login),
        http(
            "429 Too Many Requests",
            "application/json",
            "Retry-After: 1\r\n",
            &error_envelope("RATE_LIMITED", json!({"retry_after_s": 1})).to_string(),
        ),
        json_response(
            "200 OK",
            &json!({"status": "success", "data": user, "request_id": "raw"}),
        ),
        http(
            "429 Too Many Requests",
            "application/json",
            "Retry-After: 30\r\n",
            &error_envelope("RATE_LIMITED", json!({"retry_after_s": 30})).to_string(),
        ),
    ])
    .await;
    let client = client_for(&raw.base);
    client.login("doc@example.org", PASSWORD).await.unwrap();
    let me = client.me().await.expect("retried after a second");
    assert_eq!(me.email, "doc@example.org");
    assert_eq!(raw.heads().len(), 3);
    let err = client.me().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after_s: 30 });
    assert_eq!(raw.heads().len(), 4, "a 30 s wait is left to the caller");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let raw = RawServer::start(Vec::new()).await;
    let mut config = ClientConfig::new(&raw.base);
    config.request_timeout = Duration::from_millis(300);
    let client = ApiClient::new(&config).unwrap();
    let started = Instant::now();
    let err = client.login("doc@example.org", PASSWORD).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert!(err.is_offline());
    assert_eq!(
        err.request_id,
        request_id_of(&raw.heads()[0]),
        "the error names the request id that was sent"
    );
    let err = client.health().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    let err = client.openapi().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn html_and_garbage_answers_are_protocol_or_server_errors() {
    let html = "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>";
    let cases: [(Vec<u8>, ErrorKind); 5] = [
        (http("200 OK", "text/html", "", html), ErrorKind::Protocol),
        (
            http("502 Bad Gateway", "text/html", "", html),
            ErrorKind::Server { status: 502 },
        ),
        (
            json_response("200 OK", &json!({"hello": "world"})),
            ErrorKind::Protocol,
        ),
        (
            json_response("401 Unauthorized", &json!({"error": "nope"})),
            ErrorKind::Protocol,
        ),
        (
            http("200 OK", "application/json", "", "{\"status\":\"succ"),
            ErrorKind::Protocol,
        ),
    ];
    for (response, expected) in cases {
        let raw = RawServer::start(vec![response]).await;
        let client = client_for(&raw.base);
        let err = client.login("doc@example.org", PASSWORD).await.unwrap_err();
        assert_eq!(err.kind, expected, "{err:?}");
        assert!(!err.message.is_empty());
        assert_eq!(err.request_id, request_id_of(&raw.heads()[0]));
        assert_eq!(client.user(), None);
    }
    // The ops endpoints read the body the same way.
    let raw = RawServer::start(vec![http("200 OK", "text/html", "", html)]).await;
    let err = client_for(&raw.base).health().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    let raw = RawServer::start(vec![http("502 Bad Gateway", "text/html", "", html)]).await;
    let err = client_for(&raw.base).ready().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server { status: 502 });
    let raw = RawServer::start(vec![http("404 Not Found", "text/html", "", html)]).await;
    let err = client_for(&raw.base).health().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "another service's 404 page");
    // An error envelope is an error, not the document.
    let raw = RawServer::start(vec![json_response(
        "404 Not Found",
        &error_envelope("NOT_FOUND", json!({})),
    )])
    .await;
    let err = client_for(&raw.base).openapi().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err:?}");
}

#[tokio::test]
async fn every_call_sends_an_x_request_id() {
    let raw = RawServer::start(vec![http("200 OK", "text/html", "", "<html></html>")]).await;
    let client = client_for(&raw.base);
    let _ = client.login("doc@example.org", PASSWORD).await;
    let _ = client.health().await;
    let _ = client.ready().await;
    let _ = client.openapi().await;
    let heads = raw.heads();
    assert_eq!(heads.len(), 4);
    let mut ids = Vec::new();
    for head in &heads {
        let id = request_id_of(head).unwrap_or_else(|| panic!("no X-Request-ID in {head}"));
        assert!(
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{id:?} is not an id the server echoes"
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "each call has its own id");

    // The real server echoes it: an error's request id is the one the client sent.
    let server = TestServer::start().await;
    let err = client_for(&server.base)
        .login("nobody@example.org", PASSWORD)
        .await
        .unwrap_err();
    let id = err.request_id.expect("a request id");
    let logged = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE request_id = $1",
            &[&id],
        )
        .await;
    assert_eq!(logged, 1, "the audit row carries the client's id {id}");
}
