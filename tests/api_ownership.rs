//! The ownership matrix: every route of `synapse::server::routes()` called by the owning doctor,
//! another doctor, an admin, a receptionist and no one, each against the right fixture and with
//! a valid body, so the answer is about who is asking and never about a bad request. The table
//! must list every route: a new route without a row fails the test.
//!
//! Another doctor's attempt on a record answers 404 exactly like a missing record (the body is
//! the same as for a random id, apart from the request id) and writes a "denied" audit row.

mod common;

use std::collections::BTreeSet;

use common::{PASSWORD, Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;
use uuid::Uuid;

const NOTES: &str = "History: low mood for 3 weeks\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks";

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    OtherDoctor,
    Admin,
    Receptionist,
    NoOne,
}

/// The owner runs last on every row, so a destructive call (stop, cancel, sign, disable) has
/// already been refused to everyone else while its fixture was still in its first state.
const CALLERS: [Who; 5] = [
    Who::NoOne,
    Who::Admin,
    Who::Receptionist,
    Who::OtherDoctor,
    Who::Owner,
];

/// The answer a caller must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Success with this status.
    Allowed(u16),
    /// Success with this status, and nothing of the owning doctor's records in the body.
    AllowedNoLeak(u16),
    /// 404 NOT_FOUND identical to a random id's, audited as denied.
    Hidden,
    /// 403 FORBIDDEN.
    Forbidden,
    /// 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer`.
    Unauthenticated,
    /// 404 NOT_FOUND identical to a random id's (what is not the caller's, outside clinical
    /// records: another account's session).
    Missing,
}

use Expect::{Allowed, AllowedNoLeak, Forbidden, Hidden, Missing, Unauthenticated};

/// What `{id}` / `{patient_id}` (and ids in query or body) stand for on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    None,
    /// Doctor A's patient with a stopped consultation and a completed report.
    Patient,
    /// A new patient of doctor A without any consultation.
    FreshPatient,
    /// Doctor A's consultation in progress (on a second patient).
    Consultation,
    /// A new consultation in progress, for stop and cancel.
    FreshConsultation,
    /// Doctor A's completed report.
    Report,
    /// A new completed report, for edits and signing.
    FreshReport,
    /// A new signed report, for addenda.
    FreshSignedReport,
    /// An account that stays as it is.
    User,
    /// A new account, for disabling.
    FreshUser,
    /// A new session of doctor A (another login), for ending it.
    OwnerSession,
}

/// Calls that end or change the caller's own session run on a session of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sessions {
    Main,
    /// A fresh login of the caller; after a password change the password is changed back and
    /// the caller's main session (revoked by the change) is opened again.
    Throwaway,
}

/// What a body or query builder sees.
struct Ctx<'a> {
    fx: &'a Fixtures,
    who: Who,
    /// The row's target id (a random one for the not-found comparison).
    id: String,
    /// The target report's version, when the target is a report.
    version: u64,
    /// The caller's throwaway refresh token, when the row uses one.
    refresh_token: String,
}

type Build = fn(&Ctx) -> Option<Value>;
type Query = fn(&Ctx) -> String;

struct Row {
    method: Method,
    path: &'static str,
    target: Target,
    query: Query,
    body: Build,
    sessions: Sessions,
    /// Owner, other doctor, admin, receptionist, no one.
    expect: [Expect; 5],
}

fn no_query(_: &Ctx) -> String {
    String::new()
}

fn no_body(_: &Ctx) -> Option<Value> {
    None
}

fn row(method: Method, path: &'static str, target: Target, expect: [Expect; 5]) -> Row {
    Row {
        method,
        path,
        target,
        query: no_query,
        body: no_body,
        sessions: Sessions::Main,
        expect,
    }
}

impl Row {
    fn query(mut self, query: Query) -> Row {
        self.query = query;
        self
    }

    fn body(mut self, body: Build) -> Row {
        self.body = body;
        self
    }

    fn throwaway(mut self) -> Row {
        self.sessions = Sessions::Throwaway;
        self
    }

    fn expected(&self, who: Who) -> Expect {
        let index = match who {
            Who::Owner => 0,
            Who::OtherDoctor => 1,
            Who::Admin => 2,
            Who::Receptionist => 3,
            Who::NoOne => 4,
        };
        self.expect[index]
    }
}

/// Routes everybody may call, logged in or not.
const OPEN: [Expect; 5] = [
    Allowed(200),
    Allowed(200),
    Allowed(200),
    Allowed(200),
    Allowed(200),
];
/// Routes every logged-in user may call.
const ANY_USER: [Expect; 5] = [
    Allowed(200),
    Allowed(200),
    Allowed(200),
    Allowed(200),
    Unauthenticated,
];
/// A doctor's own record.
const OWN_RECORD: [Expect; 5] = [Allowed(200), Hidden, Forbidden, Forbidden, Unauthenticated];
/// Admin routes.
const ADMIN_ONLY: [Expect; 5] = [
    Forbidden,
    Forbidden,
    Allowed(200),
    Forbidden,
    Unauthenticated,
];

fn table() -> Vec<Row> {
    use Method as M;
    use Target as T;
    vec![
        // Auth.
        row(M::POST, "/api/v1/auth/login", T::None, OPEN).body(|c| {
            let email = c.fx.email(c.who);
            Some(json!({"email": email, "password": PASSWORD}))
        }),
        row(M::POST, "/api/v1/auth/refresh", T::None, OPEN)
            .throwaway()
            .body(|c| Some(json!({"refresh_token": c.refresh_token}))),
        row(M::POST, "/api/v1/auth/logout", T::None, ANY_USER).throwaway(),
        row(M::GET, "/api/v1/auth/me", T::None, ANY_USER),
        row(M::POST, "/api/v1/auth/change-password", T::None, ANY_USER)
            .throwaway()
            .body(|_| {
                Some(json!({"current_password": PASSWORD, "new_password": TEMPORARY_PASSWORD}))
            }),
        row(M::GET, "/api/v1/auth/sessions", T::None, ANY_USER),
        // Enrolling only makes a secret to confirm; nothing changes until a code confirms it.
        row(M::POST, "/api/v1/auth/mfa/enroll", T::None, ANY_USER).throwaway(),
        // Only one's own sessions can be ended; another account's is as if it did not exist.
        row(
            M::DELETE,
            "/api/v1/auth/sessions/{id}",
            T::OwnerSession,
            [Allowed(200), Hidden, Missing, Missing, Unauthenticated],
        ),
        // Patients.
        row(
            M::GET,
            "/api/v1/patients/list",
            T::None,
            [
                Allowed(200),
                AllowedNoLeak(200),
                Forbidden,
                Allowed(200),
                Unauthenticated,
            ],
        )
        .query(|_| "?limit=100".to_string()),
        row(
            M::GET,
            "/api/v1/patients/search",
            T::None,
            [
                Allowed(200),
                AllowedNoLeak(200),
                Forbidden,
                Allowed(200),
                Unauthenticated,
            ],
        )
        .query(|_| "?q=Quill&limit=50".to_string()),
        row(
            M::POST,
            "/api/v1/patients",
            T::None,
            [
                Allowed(201),
                Allowed(201),
                Forbidden,
                Allowed(201),
                Unauthenticated,
            ],
        )
        .body(|c| {
            let mut body = json!({
                "full_name": "Registered Newcomer",
                "date_of_birth": "1975-06-07",
                "sex": "male",
            });
            if c.who == Who::Receptionist {
                body["doctor_id"] = json!(c.fx.owner.user_id);
            }
            Some(body)
        }),
        row(M::GET, "/api/v1/patients/{id}", T::Patient, OWN_RECORD),
        row(
            M::GET,
            "/api/v1/patients/{id}/export",
            T::Patient,
            OWN_RECORD,
        )
        .query(|_| "?format=md".into()),
        // A receptionist changes any patient's demographics and contacts.
        row(
            M::PATCH,
            "/api/v1/patients/{id}",
            T::Patient,
            [
                Allowed(200),
                Hidden,
                Forbidden,
                Allowed(200),
                Unauthenticated,
            ],
        )
        .body(|_| Some(json!({"phone": "+44 20 7946 0018"}))),
        row(
            M::GET,
            "/api/v1/doctors",
            T::None,
            [
                Forbidden,
                Forbidden,
                Allowed(200),
                Allowed(200),
                Unauthenticated,
            ],
        ),
        // Consultations.
        row(
            M::POST,
            "/api/v1/consultation/start",
            T::FreshPatient,
            [Allowed(201), Hidden, Forbidden, Forbidden, Unauthenticated],
        )
        .body(|c| Some(json!({"patient_id": c.id, "session_type": "follow_up"}))),
        row(
            M::GET,
            "/api/v1/consultation/active",
            T::None,
            [
                Allowed(200),
                AllowedNoLeak(200),
                Forbidden,
                Forbidden,
                Unauthenticated,
            ],
        ),
        row(
            M::GET,
            "/api/v1/consultation/{id}",
            T::Consultation,
            OWN_RECORD,
        ),
        row(
            M::PATCH,
            "/api/v1/consultation/{id}",
            T::Consultation,
            OWN_RECORD,
        )
        .body(|_| Some(json!({"notes": "History: better sleep\n\tless anxious"}))),
        row(
            M::POST,
            "/api/v1/consultation/{id}/stop",
            T::FreshConsultation,
            OWN_RECORD,
        )
        .body(|_| Some(json!({"notes": NOTES}))),
        row(
            M::POST,
            "/api/v1/consultation/{id}/cancel",
            T::FreshConsultation,
            OWN_RECORD,
        )
        .body(|_| Some(json!({"reason": "Patient left early"}))),
        row(
            M::GET,
            "/api/v1/consultation/history/{patient_id}",
            T::Patient,
            OWN_RECORD,
        ),
        // Reports.
        row(
            M::GET,
            "/api/v1/reports/list",
            T::None,
            [
                Allowed(200),
                AllowedNoLeak(200),
                Forbidden,
                Forbidden,
                Unauthenticated,
            ],
        )
        .query(|_| "?limit=100".to_string()),
        row(M::GET, "/api/v1/reports/stats", T::Patient, OWN_RECORD)
            .query(|c| format!("?patient_id={}", c.id)),
        row(M::GET, "/api/v1/reports/{id}", T::Report, OWN_RECORD),
        row(M::GET, "/api/v1/reports/{id}/export", T::Report, OWN_RECORD)
            .query(|_| "?format=pdf".into()),
        row(M::PATCH, "/api/v1/reports/{id}", T::FreshReport, OWN_RECORD).body(|c| {
            Some(json!({
                "version": c.version,
                "content": {
                    "history": "Low mood for three weeks",
                    "assessment": "Moderate depressive episode",
                    "diagnoses": [{"code": "F32.1", "description": "Moderate depressive episode"}],
                    "recommendations": ["Review in two weeks"],
                },
            }))
        }),
        row(
            M::POST,
            "/api/v1/reports/{id}/sign",
            T::FreshReport,
            OWN_RECORD,
        )
        .body(|c| Some(json!({"password": PASSWORD, "version": c.version}))),
        row(
            M::POST,
            "/api/v1/reports/{id}/addenda",
            T::FreshSignedReport,
            OWN_RECORD,
        )
        .body(|_| Some(json!({"text": "Phoned: sleeping better."}))),
        // Live events: a doctor's stream opens with its `ready` event and carries nothing of
        // another doctor's.
        row(
            M::GET,
            "/api/v1/events",
            T::None,
            [
                Allowed(200),
                AllowedNoLeak(200),
                Forbidden,
                Forbidden,
                Unauthenticated,
            ],
        ),
        // Admin.
        row(M::GET, "/api/v1/admin/users", T::None, ADMIN_ONLY),
        row(
            M::POST,
            "/api/v1/admin/users",
            T::None,
            [
                Forbidden,
                Forbidden,
                Allowed(201),
                Forbidden,
                Unauthenticated,
            ],
        )
        .body(|_| {
            Some(json!({
                "email": format!("new-{}@clinic.test", Uuid::new_v4().simple()),
                "full_name": "New Colleague",
                "role": "doctor",
                "password": "a-long-enough-password",
            }))
        }),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/unlock",
            T::User,
            ADMIN_ONLY,
        ),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/disable",
            T::FreshUser,
            ADMIN_ONLY,
        ),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/enable",
            T::User,
            ADMIN_ONLY,
        ),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/reset-password",
            T::FreshUser,
            ADMIN_ONLY,
        )
        .body(|_| Some(json!({"password": "a-long-enough-password"}))),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/revoke-sessions",
            T::User,
            ADMIN_ONLY,
        ),
        row(
            M::POST,
            "/api/v1/admin/users/{id}/reset-mfa",
            T::User,
            ADMIN_ONLY,
        ),
        row(M::GET, "/api/v1/admin/audit", T::None, ADMIN_ONLY),
        // Operations.
        row(M::GET, "/api/v1/openapi.json", T::None, OPEN),
        row(M::GET, "/health", T::None, OPEN),
        row(M::GET, "/ready", T::None, OPEN),
        row(M::GET, "/metrics", T::None, OPEN),
    ]
}

const TEMPORARY_PASSWORD: &str = "a-temporary-password-1";

/// The records and sessions every row works with.
struct Fixtures {
    owner: Session,
    other: Session,
    admin: Session,
    receptionist: Session,
    patient: String,
    consultation: String,
    report: String,
    /// A plain account for admin routes that do not change it much (unlock).
    user: String,
    /// Every id of doctor A's records, which must never appear in another doctor's lists.
    owner_ids: Vec<String>,
}

impl Fixtures {
    fn session(&self, who: Who) -> Option<&Session> {
        match who {
            Who::Owner => Some(&self.owner),
            Who::OtherDoctor => Some(&self.other),
            Who::Admin => Some(&self.admin),
            Who::Receptionist => Some(&self.receptionist),
            Who::NoOne => None,
        }
    }

    fn session_mut(&mut self, who: Who) -> Option<&mut Session> {
        match who {
            Who::Owner => Some(&mut self.owner),
            Who::OtherDoctor => Some(&mut self.other),
            Who::Admin => Some(&mut self.admin),
            Who::Receptionist => Some(&mut self.receptionist),
            Who::NoOne => None,
        }
    }

    /// The caller's email; no one logs in as the owner.
    fn email(&self, who: Who) -> String {
        self.session(who).unwrap_or(&self.owner).email.clone()
    }
}

async fn fixtures(server: &TestServer) -> Fixtures {
    let owner = server.login_new("owner@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let receptionist = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let user = server.user("spare@clinic.test", Role::Doctor).await;

    let patient = server.patient(&owner, "Quill Ashdown").await;
    let report = server.consultation_report(&owner, &patient, NOTES).await;
    assert_eq!(report["status"], "completed", "{report:#}");
    let report_id = report["id"].as_str().unwrap().to_string();
    let stopped = report["consultation"]["id"].as_str().unwrap().to_string();

    let second = server.patient(&owner, "Quill Brennan").await;
    let consultation = start(server, &owner, &second).await;

    // The other doctor has records of their own, so an empty list is not the only proof.
    let theirs = server.patient(&other, "Quill Other").await;
    start(server, &other, &theirs).await;

    Fixtures {
        owner_ids: vec![
            patient.clone(),
            second,
            report_id.clone(),
            stopped,
            consultation.clone(),
        ],
        owner,
        other,
        admin,
        receptionist,
        patient,
        consultation,
        report: report_id,
        user,
    }
}

async fn start(server: &TestServer, doctor: &Session, patient: &str) -> String {
    let reply = server
        .post(
            "/api/v1/consultation/start",
            doctor,
            json!({"patient_id": patient, "session_type": "follow_up"}),
        )
        .await;
    reply.expect(201);
    reply.data()["id"].as_str().unwrap().to_string()
}

/// Makes the row's target; returns its id and (for reports) its version.
async fn target(server: &TestServer, fx: &Fixtures, target: Target) -> (String, u64) {
    let owner = &fx.owner;
    match target {
        Target::None => (String::new(), 0),
        Target::Patient => (fx.patient.clone(), 0),
        Target::FreshPatient => (server.patient(owner, "Quill Fresh").await, 0),
        Target::Consultation => (fx.consultation.clone(), 0),
        Target::FreshConsultation => {
            let patient = server.patient(owner, "Quill Running").await;
            (start(server, owner, &patient).await, 0)
        }
        Target::Report => (fx.report.clone(), 0),
        Target::FreshReport | Target::FreshSignedReport => {
            let patient = server.patient(owner, "Quill Reported").await;
            let report = server.consultation_report(owner, &patient, NOTES).await;
            assert_eq!(report["status"], "completed", "{report:#}");
            let id = report["id"].as_str().unwrap().to_string();
            let mut version = report["version"].as_u64().unwrap();
            if target == Target::FreshSignedReport {
                let signed = server
                    .post(
                        &format!("/api/v1/reports/{id}/sign"),
                        owner,
                        json!({"password": PASSWORD, "version": version}),
                    )
                    .await;
                signed.expect(200);
                version = signed.data()["version"].as_u64().unwrap();
            }
            (id, version)
        }
        Target::User => (fx.user.clone(), 0),
        Target::FreshUser => {
            let email = format!("target-{}@clinic.test", Uuid::new_v4().simple());
            (server.user(&email, Role::Doctor).await, 0)
        }
        Target::OwnerSession => {
            let session = server.login(&owner.email, PASSWORD).await;
            (session_of(&session.access_token), 0)
        }
    }
}

/// The session id (`sid`) an access token carries.
fn session_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("JSON");
    claims["sid"].as_str().expect("sid").to_string()
}

/// Sends one row's request as `token`, with the target `id`.
async fn send(
    server: &TestServer,
    row: &Row,
    ctx: &Ctx<'_>,
    token: Option<&str>,
) -> (String, Reply) {
    let path = row
        .path
        .replace("{id}", &ctx.id)
        .replace("{patient_id}", &ctx.id);
    let url = format!("{path}{}", (row.query)(ctx));
    let reply = server
        .call(row.method.clone(), &url, token, (row.body)(ctx))
        .await;
    (url, reply)
}

fn without_request_id(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("request_id");
    }
    body
}

async fn denied_audit_rows(server: &TestServer, request_id: &str, user: &str, id: &str) -> i64 {
    server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events
             WHERE request_id = $1 AND CAST(user_id AS TEXT) = $2 AND resource_id = $3
               AND outcome = 'denied'",
            &[request_id, user, id],
        )
        .await
}

/// Runs one cell of the matrix and checks its answer.
async fn check_cell(
    server: &TestServer,
    fx: &Fixtures,
    row: &Row,
    who: Who,
    id: &str,
    version: u64,
) {
    let expect = row.expected(who);
    // A throwaway session for calls that end or change the caller's session; no one still
    // presents the owner's throwaway refresh token where the body needs one.
    let throwaway = match row.sessions {
        Sessions::Main => None,
        Sessions::Throwaway => Some(server.login(&fx.email(who), PASSWORD).await),
    };
    let session = match (&throwaway, who) {
        (_, Who::NoOne) => None,
        (Some(session), _) => Some(session),
        (None, _) => fx.session(who),
    };
    let ctx = Ctx {
        fx,
        who,
        id: id.to_string(),
        version,
        refresh_token: throwaway
            .as_ref()
            .map(|s| s.refresh_token.clone())
            .unwrap_or_default(),
    };
    let token = session.map(|s| s.access_token.as_str());
    let (url, reply) = send(server, row, &ctx, token).await;
    let cell = format!("{} {url} as {who:?}", row.method);
    assert!(reply.request_id.is_some(), "{cell}: no X-Request-ID");
    match expect {
        Allowed(status) | AllowedNoLeak(status) => {
            assert_eq!(reply.status.as_u16(), status, "{cell}: {:#}", reply.body);
            if let AllowedNoLeak(_) = expect {
                let text = reply.body.to_string();
                for owned in &fx.owner_ids {
                    assert!(
                        !text.contains(owned.as_str()),
                        "{cell}: the owner's record {owned} leaked: {text}"
                    );
                }
            }
        }
        Forbidden => {
            reply.expect_error(403, "FORBIDDEN");
        }
        Unauthenticated => {
            reply.expect_error(401, "UNAUTHENTICATED");
            assert_eq!(
                reply.headers.get("www-authenticate").unwrap(),
                "Bearer",
                "{cell}"
            );
        }
        Missing => {
            reply.expect_error(404, "NOT_FOUND");
            let missing_ctx = Ctx {
                id: Uuid::now_v7().to_string(),
                ..ctx
            };
            let (_, for_missing) = send(server, row, &missing_ctx, token).await;
            for_missing.expect_error(404, "NOT_FOUND");
            assert_eq!(
                without_request_id(&reply.body),
                without_request_id(&for_missing.body),
                "{cell}: another account's answers differently from a missing one"
            );
        }
        Hidden => {
            reply.expect_error(404, "NOT_FOUND");
            // The same request for a record that does not exist answers the same body.
            let missing = Uuid::now_v7().to_string();
            let missing_ctx = Ctx { id: missing, ..ctx };
            let (_, for_missing) = send(server, row, &missing_ctx, token).await;
            for_missing.expect_error(404, "NOT_FOUND");
            assert_eq!(
                without_request_id(&reply.body),
                without_request_id(&for_missing.body),
                "{cell}: another doctor's record answers differently from a missing one"
            );
            assert_ne!(reply.body["request_id"], for_missing.body["request_id"]);
            let request_id = reply.request_id.as_deref().unwrap();
            assert_eq!(
                denied_audit_rows(server, request_id, &fx.other.user_id, id).await,
                1,
                "{cell}: the refusal was not audited as denied"
            );
        }
    }
}

/// After a password change the caller changes it back (on the session that changed it, which
/// stays open) and opens a new main session, since the change revoked the old one.
async fn restore_password(server: &TestServer, fx: &mut Fixtures, row: &Row, who: Who) {
    if row.path != "/api/v1/auth/change-password" || who == Who::NoOne {
        return;
    }
    let email = fx.email(who);
    let session = server.login(&email, TEMPORARY_PASSWORD).await;
    server
        .post(
            "/api/v1/auth/change-password",
            &session,
            json!({"current_password": TEMPORARY_PASSWORD, "new_password": PASSWORD}),
        )
        .await
        .expect(200);
    let fresh = server.login(&email, PASSWORD).await;
    if let Some(main) = fx.session_mut(who) {
        *main = fresh;
    }
}

#[tokio::test]
async fn every_route_answers_each_role_and_hides_other_doctors_records() {
    let server = TestServer::start().await;
    let mut fx = fixtures(&server).await;
    let rows = table();

    // The table covers routes() exactly: a new route fails here until it has a row.
    let listed: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let in_table: BTreeSet<(String, String)> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), in_table.len(), "the table repeats a route");
    let served: BTreeSet<(String, String)> = synapse::server::routes()
        .into_iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    // These two need a live code of an enrolled secret (confirm) or a pending login's token
    // (verify), so who may call them is tested where those are made: tests/api_mfa.rs.
    let covered_in_api_mfa: BTreeSet<(String, String)> = [
        ("POST", "/api/v1/auth/mfa/confirm"),
        ("POST", "/api/v1/auth/mfa/verify"),
    ]
    .into_iter()
    .map(|(method, path)| (method.to_string(), path.to_string()))
    .collect();
    let missing: Vec<_> = served
        .difference(&in_table)
        .filter(|route| !covered_in_api_mfa.contains(*route))
        .collect();
    let extra: Vec<_> = in_table.difference(&served).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes without a row: {missing:?}; rows without a route: {extra:?}"
    );

    for row in &rows {
        let (id, version) = target(&server, &fx, row.target).await;
        for who in CALLERS {
            check_cell(&server, &fx, row, who, &id, version).await;
            restore_password(&server, &mut fx, row, who).await;
        }
    }
}

#[tokio::test]
async fn refused_calls_leave_the_records_as_they_were() {
    let server = TestServer::start().await;
    let fx = fixtures(&server).await;

    // Another doctor tries to change each kind of record; the owner then sees them unchanged.
    let patient = format!("/api/v1/patients/{}", fx.patient);
    server
        .patch(&patient, &fx.other, json!({"full_name": "Taken Over"}))
        .await
        .expect_error(404, "NOT_FOUND");
    let consultation = format!("/api/v1/consultation/{}", fx.consultation);
    server
        .patch(&consultation, &fx.other, json!({"notes": "not mine"}))
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .post(
            &format!("{consultation}/cancel"),
            &fx.other,
            json!({"reason": "not mine"}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    let report = format!("/api/v1/reports/{}", fx.report);
    server
        .post(
            &format!("{report}/sign"),
            &fx.other,
            json!({"password": PASSWORD, "version": 1}),
        )
        .await
        .expect_error(404, "NOT_FOUND");

    let chart = server.get(&patient, &fx.owner).await;
    chart.expect(200);
    assert_eq!(chart.data()["full_name"], "Quill Ashdown");
    let running = server.get(&consultation, &fx.owner).await;
    running.expect(200);
    assert_eq!(running.data()["status"], "in_progress");
    assert_ne!(running.data()["notes"], "not mine");
    let draft = server.get(&report, &fx.owner).await;
    draft.expect(200);
    assert_eq!(draft.data()["status"], "completed");
    assert_eq!(draft.data()["signed_by"], Value::Null);

    // Each refusal is in the audit trail as denied, for the other doctor.
    let denied = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE CAST(user_id AS TEXT) = $1 AND outcome = 'denied'",
            &[&fx.other.user_id],
        )
        .await;
    assert_eq!(denied, 4);
}
