//! Consultations and reports over HTTP: the consultation's shape and life (start, notes, stop,
//! cancel, history), the report's life (generated draft, edits with a version, signature with the
//! password, addenda, failed generation), and the report list and statistics checked against
//! counts taken straight from the database, over the demo data set.

mod common;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;
use synapse::store::demo::{DEMO_PASSWORD, load_demo};

const NOTES: &str = "History: low mood for 3 weeks, poor sleep\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks\n\
Medications: sertraline 50 mg once daily\n\
Diagnosis: F32.1 Moderate depressive episode";

const CONSULTATION_KEYS: [&str; 13] = [
    "id",
    "session_code",
    "patient_id",
    "doctor_id",
    "session_type",
    "status",
    "chief_complaint",
    "notes",
    "started_at",
    "ended_at",
    "duration_minutes",
    "report_id",
    "report_status",
];

const SUMMARY_KEYS: [&str; 9] = [
    "id",
    "status",
    "report_type",
    "confidence",
    "created_at",
    "updated_at",
    "signed_at",
    "patient",
    "consultation",
];

const DETAIL_KEYS: [&str; 6] = [
    "version",
    "content",
    "generator",
    "signed_by",
    "addenda",
    "failure_reason",
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn keys(value: &Value) -> HashSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value:#}"))
        .keys()
        .cloned()
        .collect()
}

fn key_set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|k| k.to_string()).collect()
}

/// Parses an API time, insisting on RFC 3339 UTC with `Z`.
#[track_caller]
fn time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    assert!(text.ends_with('Z'), "not UTC with Z: {text}");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|_| panic!("not RFC 3339: {text}"))
        .with_timezone(&Utc)
}

/// The text form the store writes (fixed width, so it compares in time order).
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn midnight(day: NaiveDate) -> String {
    format!("{day}T00:00:00.000Z")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn str_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_string()
}

async fn start(
    server: &TestServer,
    session: &Session,
    patient: &str,
    session_type: &str,
    complaint: &str,
) -> Reply {
    server
        .post(
            "/api/v1/consultation/start",
            session,
            json!({"patient_id": patient, "session_type": session_type, "chief_complaint": complaint}),
        )
        .await
}

/// Starts a consultation and returns its id.
async fn started(server: &TestServer, session: &Session, patient: &str) -> String {
    let reply = start(server, session, patient, "follow_up", "Low mood").await;
    reply.expect(201);
    str_of(&reply.data()["id"])
}

/// Runs a consultation of this type with these notes to a finished report.
async fn report_of_type(
    server: &TestServer,
    session: &Session,
    patient: &str,
    session_type: &str,
    notes: &str,
) -> Value {
    let reply = start(server, session, patient, session_type, "Review").await;
    reply.expect(201);
    let id = str_of(&reply.data()["id"]);
    let stopped = server
        .post(
            &format!("/api/v1/consultation/{id}/stop"),
            session,
            json!({ "notes": notes }),
        )
        .await;
    stopped.expect(200);
    let report_id = str_of(&stopped.data()["report_id"]);
    server.wait_for_report(session, &report_id).await
}

/// Signs the report as it is now (its version read first), as a doctor who just read it.
async fn sign(server: &TestServer, session: &Session, report: &str, password: &str) -> Reply {
    let read = server
        .get(&format!("/api/v1/reports/{report}"), session)
        .await;
    let version = read.body["data"]["version"].as_u64().unwrap_or(1);
    sign_version(server, session, report, password, Some(version)).await
}

/// Signs `version` of the report; `None` sends no version at all.
async fn sign_version(
    server: &TestServer,
    session: &Session,
    report: &str,
    password: &str,
    version: Option<u64>,
) -> Reply {
    let mut body = json!({ "password": password });
    if let Some(version) = version {
        body["version"] = json!(version);
    }
    server
        .post(&format!("/api/v1/reports/{report}/sign"), session, body)
        .await
}

/// The field names of a 422 reply.
fn fields(reply: &Reply) -> Vec<String> {
    reply.body["error"]["details"]["fields"]
        .as_array()
        .map(|f| f.iter().map(|e| str_of(&e["field"])).collect())
        .unwrap_or_default()
}

#[track_caller]
fn expect_field(reply: &Reply, field: &str) {
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(
        fields(reply).iter().any(|f| f == field),
        "422 should name {field}: {:#}",
        reply.body
    );
}

/// Every item of a report list, following `next_cursor` from the first page.
async fn list_all(server: &TestServer, session: &Session, query: &str, limit: u32) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let mut path = format!("/api/v1/reports/list?limit={limit}{sep}{query}");
    let mut items = Vec::new();
    for _ in 0..1_000 {
        let reply = server.get(&path, session).await;
        reply.expect(200);
        let data = reply.data();
        items.extend(data["items"].as_array().unwrap().iter().cloned());
        match data["pagination"]["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(data["pagination"]["has_more"], true, "{data:#}");
                path = format!("/api/v1/reports/list?limit={limit}{sep}{query}&cursor={cursor}");
            }
            None => {
                assert_eq!(data["pagination"]["has_more"], false, "{data:#}");
                return items;
            }
        }
    }
    panic!("the report list did not end within 1000 pages");
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| str_of(&i["id"])).collect()
}

/// The demo data set in this server's store, and its first doctor logged in.
async fn demo(server: &TestServer) -> Session {
    load_demo(server.store.as_ref()).await.expect("demo data");
    server.login("doc@demo.com", DEMO_PASSWORD).await
}

/// The first column of every row, as text (ids cast to text in the SQL).
async fn sql_ids(server: &TestServer, sql: &str, binds: &[&str]) -> Vec<String> {
    server
        .sql_rows(sql, binds)
        .await
        .into_iter()
        .map(|row| row[0].clone().expect("an id"))
        .collect()
}

async fn sql_count(server: &TestServer, sql: &str, binds: &[&str]) -> u64 {
    server.sql_count(sql, binds).await as u64
}

// ---------------------------------------------------------------------------------------------
// Consultations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn starting_a_consultation_returns_every_field_of_the_new_session() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;

    let before = Utc::now() - Duration::seconds(1);
    let reply = start(&server, &doctor, &patient, "new_patient", "  Low mood  ").await;
    let after = Utc::now() + Duration::seconds(1);
    reply.expect(201);
    assert_eq!(reply.body["status"], "success");
    let c = reply.data();
    assert_eq!(keys(c), key_set(&CONSULTATION_KEYS), "{c:#}");

    let id = uuid::Uuid::parse_str(c["id"].as_str().unwrap()).expect("id is a UUID");
    assert!(!id.is_nil());
    assert_eq!(c["patient_id"], patient.as_str());
    assert_eq!(
        c["doctor_id"],
        doctor.user_id.as_str(),
        "doctor from the token"
    );
    assert_eq!(c["session_type"], "new_patient");
    assert_eq!(c["status"], "in_progress");
    assert_eq!(c["chief_complaint"], "Low mood", "stored trimmed");
    assert_eq!(c["notes"], "");
    let started_at = time(&c["started_at"]);
    assert!(before <= started_at && started_at <= after, "{started_at}");
    assert!(c["ended_at"].is_null());
    assert!(c["duration_minutes"].is_null());
    assert!(c["report_id"].is_null());
    assert!(c["report_status"].is_null());

    // CS-YYYYMMDD-XXXXXXXX: the start date, then eight upper-case hex digits.
    let code = c["session_code"].as_str().unwrap();
    let parts: Vec<&str> = code.split('-').collect();
    assert_eq!(parts.len(), 3, "{code}");
    assert_eq!(parts[0], "CS", "{code}");
    assert_eq!(parts[1], started_at.format("%Y%m%d").to_string(), "{code}");
    assert_eq!(parts[2].len(), 8, "{code}");
    assert!(
        parts[2]
            .chars()
            .all(|ch| ch.is_ascii_digit() || ('A'..='F').contains(&ch)),
        "{code}"
    );

    // The same consultation reads back unchanged.
    let read = server
        .get(&format!("/api/v1/consultation/{id}"), &doctor)
        .await;
    read.expect(200);
    assert_eq!(read.data(), c);

    // Codes differ between consultations.
    let other = server.patient(&doctor, "Ben Jones").await;
    let second = start(&server, &doctor, &other, "emergency", "Chest pain").await;
    second.expect(201);
    assert_ne!(second.data()["session_code"], c["session_code"]);
    assert_ne!(second.data()["id"], c["id"]);

    // A missing chief complaint is null, never "".
    let third_patient = server.patient(&doctor, "Cara Lee").await;
    let third = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": third_patient, "session_type": "consultation"}),
        )
        .await;
    third.expect(201);
    assert!(third.data()["chief_complaint"].is_null());
}

#[tokio::test]
async fn starting_a_consultation_validates_its_body() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;

    // doctor_id comes from the token only; sending it is an unknown field.
    let reply = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": patient, "session_type": "follow_up", "doctor_id": other.user_id}),
        )
        .await;
    expect_field(&reply, "doctor_id");

    let reply = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": patient, "session_type": "checkup"}),
        )
        .await;
    expect_field(&reply, "session_type");

    let reply = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"session_type": "follow_up"}),
        )
        .await;
    expect_field(&reply, "patient_id");

    let reply = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": "not-a-uuid", "session_type": "follow_up"}),
        )
        .await;
    expect_field(&reply, "patient_id");

    let reply = start(&server, &doctor, &patient, "follow_up", &"x".repeat(501)).await;
    expect_field(&reply, "chief_complaint");
    let reply = start(&server, &doctor, &patient, "follow_up", "a\u{0000}b").await;
    expect_field(&reply, "chief_complaint");

    // Someone else's patient, or no patient at all: 404.
    start(&server, &other, &patient, "follow_up", "x")
        .await
        .expect_error(404, "NOT_FOUND");
    start(
        &server,
        &doctor,
        &uuid::Uuid::now_v7().to_string(),
        "follow_up",
        "x",
    )
    .await
    .expect_error(404, "NOT_FOUND");

    // None of those started anything.
    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM consultations", &[]).await,
        0
    );
}

#[tokio::test]
async fn a_second_start_for_the_same_patient_conflicts_and_names_the_running_one() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let other_patient = server.patient(&doctor, "Ben Jones").await;

    let before = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    before.expect(200);
    assert!(before.data()["active_consultation_id"].is_null());
    assert!(before.data()["last_visit_at"].is_null());

    let first = start(&server, &doctor, &patient, "follow_up", "Low mood").await;
    first.expect(201);
    let first_id = str_of(&first.data()["id"]);

    let again = start(&server, &doctor, &patient, "emergency", "Worse").await;
    again.expect_error(409, "CONSULTATION_ACTIVE");
    assert_eq!(
        again.body["error"]["details"]["consultation_id"],
        first_id.as_str()
    );
    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM consultations", &[]).await,
        1,
        "the refused start left nothing behind"
    );
    assert_eq!(
        sql_count(
            &server,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'consultation.start' \
             AND outcome = 'failure' AND CAST(patient_id AS TEXT) = $1",
            &[&patient],
        )
        .await,
        1,
        "the refused start is in the audit trail"
    );

    // Another patient may have one at the same time.
    let parallel = start(&server, &doctor, &other_patient, "follow_up", "Anxiety").await;
    parallel.expect(201);
    let parallel_id = str_of(&parallel.data()["id"]);

    let active = server.get("/api/v1/consultation/active", &doctor).await;
    active.expect(200);
    let items = active.data()["items"].as_array().unwrap();
    let active_ids: HashSet<String> = items.iter().map(|i| str_of(&i["id"])).collect();
    assert_eq!(
        active_ids,
        HashSet::from([first_id.clone(), parallel_id.clone()])
    );
    for item in items {
        assert_eq!(item["status"], "in_progress");
        assert_eq!(keys(item), key_set(&CONSULTATION_KEYS));
    }
    let listed_first = items.iter().find(|i| i["id"] == first_id.as_str()).unwrap();
    assert_eq!(listed_first, first.data());

    // The patient shows the running consultation and the visit.
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    chart.expect(200);
    assert_eq!(chart.data()["active_consultation_id"], first_id.as_str());
    assert_eq!(chart.data()["last_visit_at"], first.data()["started_at"]);

    // Another doctor sees none of it.
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    let theirs = server.get("/api/v1/consultation/active", &stranger).await;
    theirs.expect(200);
    assert_eq!(theirs.data()["items"], json!([]));

    // Once stopped, the patient has no running consultation and a new one may start.
    server
        .post(
            &format!("/api/v1/consultation/{first_id}/stop"),
            &doctor,
            json!({"notes": NOTES}),
        )
        .await
        .expect(200);
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert!(chart.data()["active_consultation_id"].is_null());
    let active = server.get("/api/v1/consultation/active", &doctor).await;
    assert_eq!(
        ids(active.data()["items"].as_array().unwrap()),
        vec![parallel_id]
    );

    let next = start(&server, &doctor, &patient, "follow_up", "Review").await;
    next.expect(201);
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert_eq!(chart.data()["active_consultation_id"], next.data()["id"]);
    assert_eq!(chart.data()["last_visit_at"], next.data()["started_at"]);
}

#[tokio::test]
async fn notes_change_only_while_the_consultation_runs_and_stop_completes_it() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let id = started(&server, &doctor, &patient).await;
    let path = format!("/api/v1/consultation/{id}");

    let patched = server
        .patch(&path, &doctor, json!({"notes": "History: first draft\n"}))
        .await;
    patched.expect(200);
    assert_eq!(patched.data()["status"], "in_progress");
    assert_eq!(patched.data()["notes"], "History: first draft");
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["notes"], "History: first draft");

    // Validation of the notes body.
    expect_field(&server.patch(&path, &doctor, json!({})).await, "notes");
    expect_field(
        &server
            .patch(&path, &doctor, json!({"notes": "x", "mood": "low"}))
            .await,
        "mood",
    );
    expect_field(
        &server
            .patch(&path, &doctor, json!({"notes": "a\u{0007}b"}))
            .await,
        "notes",
    );
    expect_field(
        &server
            .patch(&path, &doctor, json!({"notes": "x".repeat(100_001)}))
            .await,
        "notes",
    );
    assert_eq!(
        server.get(&path, &doctor).await.data()["notes"],
        "History: first draft",
        "refused edits changed nothing"
    );
    // The limit counts characters, not bytes.
    let longest = "é".repeat(100_000);
    let saved = server
        .patch(&path, &doctor, json!({"notes": longest}))
        .await;
    saved.expect(200);
    assert_eq!(
        saved.data()["notes"].as_str().unwrap().chars().count(),
        100_000
    );
    // A refused stop leaves the consultation running.
    expect_field(
        &server
            .post(
                &format!("{path}/stop"),
                &doctor,
                json!({"notes": "x".repeat(100_001)}),
            )
            .await,
        "notes",
    );
    expect_field(
        &server
            .post(&format!("{path}/stop"), &doctor, json!({"notes": 5}))
            .await,
        "notes",
    );
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["status"], "in_progress");
    assert!(read.data()["report_id"].is_null());

    let stopped = server
        .post(&format!("{path}/stop"), &doctor, json!({"notes": NOTES}))
        .await;
    stopped.expect(200);
    let c = stopped.data();
    assert_eq!(keys(c), key_set(&CONSULTATION_KEYS));
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["status"], "completed");
    assert_eq!(c["notes"], NOTES, "the stop's notes replace the draft");
    let started_at = time(&c["started_at"]);
    let ended_at = time(&c["ended_at"]);
    assert!(ended_at >= started_at);
    assert_eq!(c["duration_minutes"], 0, "stopped within the minute");
    let report_id = str_of(&c["report_id"]);
    assert!(uuid::Uuid::parse_str(&report_id).is_ok());
    let report_status = str_of(&c["report_status"]);
    assert!(
        ["pending", "generating", "completed"].contains(&report_status.as_str()),
        "{report_status}"
    );

    // After the stop nothing about it changes.
    server
        .patch(&path, &doctor, json!({"notes": "late"}))
        .await
        .expect_error(409, "INVALID_STATE");
    server
        .post(&format!("{path}/stop"), &doctor, json!({"notes": "again"}))
        .await
        .expect_error(409, "INVALID_STATE");
    server
        .post(
            &format!("{path}/cancel"),
            &doctor,
            json!({"reason": "oops"}),
        )
        .await
        .expect_error(409, "INVALID_STATE");
    let report = server.wait_for_report(&doctor, &report_id).await;
    assert_eq!(report["status"], "completed");
    let read = server.get(&path, &doctor).await;
    read.expect(200);
    assert_eq!(read.data()["status"], "completed");
    assert_eq!(read.data()["notes"], NOTES);
    assert_eq!(read.data()["ended_at"], c["ended_at"]);
    assert_eq!(read.data()["report_id"], report_id.as_str());
    assert_eq!(read.data()["report_status"], "completed");
    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM reports", &[]).await,
        1,
        "one consultation, one report"
    );
}

#[tokio::test]
async fn stopping_without_notes_keeps_the_notes_already_saved() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let id = started(&server, &doctor, &patient).await;
    server
        .patch(
            &format!("/api/v1/consultation/{id}"),
            &doctor,
            json!({"notes": "Assessment: generalised anxiety"}),
        )
        .await
        .expect(200);
    // No body at all.
    let stopped = server
        .call(
            Method::POST,
            &format!("/api/v1/consultation/{id}/stop"),
            Some(&doctor.access_token),
            None,
        )
        .await;
    stopped.expect(200);
    assert_eq!(stopped.data()["notes"], "Assessment: generalised anxiety");
    let report = server
        .wait_for_report(&doctor, stopped.data()["report_id"].as_str().unwrap())
        .await;
    assert_eq!(report["status"], "completed", "{report:#}");
    assert_eq!(report["content"]["assessment"], "generalised anxiety");
}

#[tokio::test]
async fn cancelling_needs_a_reason_and_leaves_no_report() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let id = started(&server, &doctor, &patient).await;
    let path = format!("/api/v1/consultation/{id}");

    expect_field(
        &server
            .post(&format!("{path}/cancel"), &doctor, json!({}))
            .await,
        "reason",
    );
    expect_field(
        &server
            .post(&format!("{path}/cancel"), &doctor, json!({"reason": "   "}))
            .await,
        "reason",
    );
    let no_body = server
        .call(
            Method::POST,
            &format!("{path}/cancel"),
            Some(&doctor.access_token),
            None,
        )
        .await;
    no_body.expect_error(422, "VALIDATION_ERROR");
    assert_eq!(
        server.get(&path, &doctor).await.data()["status"],
        "in_progress",
        "refused cancels changed nothing"
    );

    let cancelled = server
        .post(
            &format!("{path}/cancel"),
            &doctor,
            json!({"reason": "Patient left early"}),
        )
        .await;
    cancelled.expect(200);
    let c = cancelled.data();
    assert_eq!(keys(c), key_set(&CONSULTATION_KEYS));
    assert_eq!(c["status"], "cancelled");
    assert!(time(&c["ended_at"]) >= time(&c["started_at"]));
    assert!(c["duration_minutes"].is_u64());
    assert!(c["report_id"].is_null());
    assert!(c["report_status"].is_null());

    server
        .post(&format!("{path}/stop"), &doctor, json!({"notes": NOTES}))
        .await
        .expect_error(409, "INVALID_STATE");
    server
        .patch(&path, &doctor, json!({"notes": "late"}))
        .await
        .expect_error(409, "INVALID_STATE");
    server
        .post(
            &format!("{path}/cancel"),
            &doctor,
            json!({"reason": "twice"}),
        )
        .await
        .expect_error(409, "INVALID_STATE");

    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM reports", &[]).await,
        0
    );
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["status"], "cancelled");
    assert!(read.data()["report_id"].is_null());
    let list = server.get("/api/v1/reports/list", &doctor).await;
    list.expect(200);
    assert_eq!(list.data()["items"], json!([]));

    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert!(chart.data()["active_consultation_id"].is_null());
    assert_eq!(chart.data()["last_visit_at"], c["started_at"]);
    start(&server, &doctor, &patient, "follow_up", "Back again")
        .await
        .expect(201);
}

#[tokio::test]
async fn history_lists_a_patients_consultations_newest_first_without_notes() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let bystander = server.patient(&doctor, "Ben Jones").await;
    started(&server, &doctor, &bystander).await;

    // Five consultations: stopped, cancelled, stopped, stopped, and one still running.
    let mut made = Vec::new();
    for n in 0..5 {
        let id = started(&server, &doctor, &patient).await;
        let path = format!("/api/v1/consultation/{id}");
        match n {
            1 => server
                .post(
                    &format!("{path}/cancel"),
                    &doctor,
                    json!({"reason": "No show"}),
                )
                .await
                .expect(200),
            4 => server
                .patch(&path, &doctor, json!({"notes": "secret draft"}))
                .await
                .expect(200),
            _ => server
                .post(&format!("{path}/stop"), &doctor, json!({"notes": NOTES}))
                .await
                .expect(200),
        };
        made.push(id);
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();

    let history = server
        .get(&format!("/api/v1/consultation/history/{patient}"), &doctor)
        .await;
    history.expect(200);
    let data = history.data();
    assert_eq!(data["patient_id"], patient.as_str());
    assert_eq!(data["patient_name"], "Anna Smith");
    let items = data["items"].as_array().unwrap();
    assert_eq!(ids(items), newest_first);
    for pair in items.windows(2) {
        assert!(time(&pair[0]["started_at"]) >= time(&pair[1]["started_at"]));
    }
    let mut without_notes = key_set(&CONSULTATION_KEYS);
    without_notes.remove("notes");
    for item in items {
        assert_eq!(keys(item), without_notes, "no notes in history: {item:#}");
        assert_eq!(item["patient_id"], patient.as_str());
    }
    assert_eq!(items[0]["status"], "in_progress");
    assert_eq!(items[3]["status"], "cancelled");
    assert!(items[3]["report_id"].is_null());
    assert_eq!(items[4]["status"], "completed");
    assert!(items[4]["report_id"].is_string());
    assert_eq!(data["pagination"]["total"], 5);
    assert_eq!(data["pagination"]["has_more"], false);

    // Offset pages: no duplicates, no gaps.
    let mut paged = Vec::new();
    for (offset, expect_len, more) in [(0, 2, true), (2, 2, true), (4, 1, false)] {
        let page = server
            .get(
                &format!("/api/v1/consultation/history/{patient}?limit=2&offset={offset}"),
                &doctor,
            )
            .await;
        page.expect(200);
        let p = &page.data()["pagination"];
        assert_eq!(p["total"], 5);
        assert_eq!(p["limit"], 2);
        assert_eq!(p["offset"], offset);
        assert_eq!(p["has_more"], more, "{p:#}");
        let items = page.data()["items"].as_array().unwrap();
        assert_eq!(items.len(), expect_len);
        paged.extend(ids(items));
    }
    assert_eq!(paged, newest_first);
    let past_end = server
        .get(
            &format!("/api/v1/consultation/history/{patient}?offset=10"),
            &doctor,
        )
        .await;
    past_end.expect(200);
    assert_eq!(past_end.data()["items"], json!([]));

    expect_field(
        &server
            .get(
                &format!("/api/v1/consultation/history/{patient}?limit=0"),
                &doctor,
            )
            .await,
        "limit",
    );
    expect_field(
        &server
            .get(
                &format!("/api/v1/consultation/history/{patient}?limit=101"),
                &doctor,
            )
            .await,
        "limit",
    );
    server
        .get(
            &format!("/api/v1/consultation/history/{patient}?sort=name"),
            &doctor,
        )
        .await
        .expect_error(422, "VALIDATION_ERROR");

    // A patient with none, someone else's patient, and a missing one.
    let fresh = server.patient(&doctor, "Cara Lee").await;
    let empty = server
        .get(&format!("/api/v1/consultation/history/{fresh}"), &doctor)
        .await;
    empty.expect(200);
    assert_eq!(empty.data()["items"], json!([]));
    assert_eq!(empty.data()["pagination"]["total"], 0);
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    server
        .get(
            &format!("/api/v1/consultation/history/{patient}"),
            &stranger,
        )
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .get(
            &format!("/api/v1/consultation/history/{}", uuid::Uuid::now_v7()),
            &doctor,
        )
        .await
        .expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn another_doctors_consultations_and_reports_answer_not_found() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let report_id = str_of(&report["id"]);
    let running = started(&server, &doctor, &patient).await;

    let c = format!("/api/v1/consultation/{running}");
    let r = format!("/api/v1/reports/{report_id}");
    server
        .get(&c, &stranger)
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .patch(&c, &stranger, json!({"notes": "mine now"}))
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .post(&format!("{c}/stop"), &stranger, json!({}))
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .post(&format!("{c}/cancel"), &stranger, json!({"reason": "x"}))
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .get(&r, &stranger)
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .patch(&r, &stranger, json!({"content": {}, "version": 1}))
        .await
        .expect_error(404, "NOT_FOUND");
    sign(&server, &stranger, &report_id, common::PASSWORD)
        .await
        .expect_error(404, "NOT_FOUND");
    server
        .post(&format!("{r}/addenda"), &stranger, json!({"text": "x"}))
        .await
        .expect_error(404, "NOT_FOUND");

    // Identical to a record that does not exist.
    let missing = server
        .get(
            &format!("/api/v1/reports/{}", uuid::Uuid::now_v7()),
            &doctor,
        )
        .await;
    missing.expect_error(404, "NOT_FOUND");
    let denied = server.get(&r, &stranger).await;
    assert_eq!(
        denied.body["error"]["message"],
        missing.body["error"]["message"]
    );

    // Every refused attempt is audited as denied, against the stranger.
    let denied_rows = sql_count(
        &server,
        "SELECT COUNT(*) FROM audit_events WHERE CAST(user_id AS TEXT) = $1 AND outcome = 'denied'",
        &[&stranger.user_id],
    )
    .await;
    assert!(denied_rows >= 9, "{denied_rows} denied rows");

    // Nothing changed.
    let mine = server.get(&c, &doctor).await;
    assert_eq!(mine.data()["status"], "in_progress");
    assert_eq!(mine.data()["notes"], "");
    let mine = server.get(&r, &doctor).await;
    assert_eq!(mine.data()["status"], "completed");
    assert_eq!(mine.data()["version"], 1);
    let list = server.get("/api/v1/reports/list", &stranger).await;
    list.expect(200);
    assert_eq!(list.data()["items"], json!([]));

    // Malformed ids are 422 naming the parameter.
    expect_field(
        &server.get("/api/v1/reports/not-a-uuid", &doctor).await,
        "id",
    );
    expect_field(
        &server.get("/api/v1/consultation/not-a-uuid", &doctor).await,
        "id",
    );
}

#[tokio::test]
async fn only_doctors_may_use_consultations_and_reports() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let report_id = str_of(&report["id"]);
    let consultation_id = str_of(&report["consultation"]["id"]);
    let receptionist = server
        .login_new("rec@clinic.test", Role::Receptionist)
        .await;
    let admin = server.login_new("adm@clinic.test", Role::Admin).await;
    for session in [&receptionist, &admin] {
        start(&server, session, &patient, "follow_up", "x")
            .await
            .expect_error(403, "FORBIDDEN");
        for path in [
            "/api/v1/consultation/active".to_string(),
            format!("/api/v1/consultation/{consultation_id}"),
            format!("/api/v1/consultation/history/{patient}"),
            "/api/v1/reports/list".to_string(),
            "/api/v1/reports/stats".to_string(),
            format!("/api/v1/reports/{report_id}"),
        ] {
            server
                .get(&path, session)
                .await
                .expect_error(403, "FORBIDDEN");
        }
        sign(&server, session, &report_id, common::PASSWORD)
            .await
            .expect_error(403, "FORBIDDEN");
    }
    server
        .call(Method::GET, "/api/v1/reports/list", None, None)
        .await
        .expect_error(401, "UNAUTHENTICATED");
}

// ---------------------------------------------------------------------------------------------
// The report's life
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_report_goes_from_generated_draft_through_edits_to_signature_and_addenda() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let id = started(&server, &doctor, &patient).await;
    let stopped = server
        .post(
            &format!("/api/v1/consultation/{id}/stop"),
            &doctor,
            json!({"notes": NOTES}),
        )
        .await;
    stopped.expect(200);
    let report_id = str_of(&stopped.data()["report_id"]);
    let path = format!("/api/v1/reports/{report_id}");

    // Generated.
    let report = server.wait_for_report(&doctor, &report_id).await;
    let mut all_keys = key_set(&SUMMARY_KEYS);
    all_keys.extend(key_set(&DETAIL_KEYS));
    assert_eq!(keys(&report), all_keys, "{report:#}");
    assert_eq!(report["id"], report_id.as_str());
    assert_eq!(report["status"], "completed");
    assert_eq!(report["version"], 1);
    assert!(report["generator"].as_str().is_some_and(|g| !g.is_empty()));
    let confidence = report["confidence"].as_f64().expect("a confidence");
    assert!(
        (0.0..=1.0).contains(&confidence) && confidence > 0.0,
        "{confidence}"
    );
    assert!(report["signed_at"].is_null());
    assert!(report["signed_by"].is_null());
    assert_eq!(report["addenda"], json!([]));
    assert!(report["failure_reason"].is_null());
    assert!(
        report["report_type"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(time(&report["updated_at"]) >= time(&report["created_at"]));
    assert_eq!(report["patient"]["id"], patient.as_str());
    assert_eq!(report["patient"]["full_name"], "Anna Smith");
    assert_eq!(report["patient"]["sex"], "female");
    assert!(str_of(&report["patient"]["mrn"]).starts_with("MRN-"));
    assert_eq!(report["consultation"]["id"], id.as_str());
    assert_eq!(report["consultation"]["session_type"], "follow_up");
    assert_eq!(report["consultation"]["chief_complaint"], "Low mood");
    assert_eq!(
        report["consultation"]["session_code"],
        stopped.data()["session_code"]
    );
    assert_eq!(
        report["consultation"]["started_at"],
        stopped.data()["started_at"]
    );
    assert_eq!(report["consultation"]["duration_minutes"], 0);

    // The sections come from the notes under their headings.
    let content = &report["content"];
    assert_eq!(
        keys(content),
        key_set(&[
            "history",
            "mental_status",
            "assessment",
            "diagnoses",
            "medication_plan",
            "recommendations",
            "follow_up"
        ])
    );
    assert_eq!(content["history"], "low mood for 3 weeks, poor sleep");
    assert_eq!(content["assessment"], "moderate depressive episode");
    assert_eq!(content["recommendations"], json!(["review in 2 weeks"]));
    assert_eq!(content["diagnoses"][0]["code"], "F32.1");
    assert_eq!(
        content["diagnoses"][0]["description"],
        "Moderate depressive episode"
    );
    assert_eq!(content["diagnoses"].as_array().unwrap().len(), 1);
    let meds = content["medication_plan"].as_array().unwrap();
    assert_eq!(meds.len(), 1, "{content:#}");
    assert!(
        str_of(&meds[0]["drug"])
            .to_lowercase()
            .contains("sertraline"),
        "{content:#}"
    );
    assert!(content["mental_status"].is_null());
    assert!(content["follow_up"].is_null());

    let consultation = server
        .get(&format!("/api/v1/consultation/{id}"), &doctor)
        .await;
    assert_eq!(consultation.data()["report_status"], "completed");

    // Edit with the current version.
    let mut edited = content.clone();
    edited["assessment"] = json!("moderate depressive episode, improving");
    edited["follow_up"] = json!("2 weeks");
    edited["recommendations"] = json!(["review in 2 weeks", "sleep hygiene"]);
    let saved = server
        .patch(&path, &doctor, json!({"content": edited, "version": 1}))
        .await;
    saved.expect(200);
    assert_eq!(saved.data()["version"], 2);
    assert_eq!(saved.data()["status"], "completed");
    assert_eq!(saved.data()["content"], edited);
    assert_ne!(saved.data()["content"], *content);
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["version"], 2);
    assert_eq!(read.data()["content"], edited);

    // A stale version is refused and changes nothing.
    let stale = server
        .patch(
            &path,
            &doctor,
            json!({"content": {"assessment": "overwritten"}, "version": 1}),
        )
        .await;
    stale.expect_error(409, "VERSION_CONFLICT");
    assert_eq!(stale.body["error"]["details"]["current_version"], 2);
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["version"], 2);
    assert_eq!(read.data()["content"], edited);

    // Edits need a version and valid content.
    expect_field(
        &server
            .patch(&path, &doctor, json!({"content": edited}))
            .await,
        "version",
    );
    expect_field(
        &server
            .patch(
                &path,
                &doctor,
                json!({"content": {"diagnoses": [{"code": "F32"}]}, "version": 2}),
            )
            .await,
        "content.diagnoses[0].description",
    );
    expect_field(
        &server
            .patch(
                &path,
                &doctor,
                json!({"content": {"summary": "x"}, "version": 2}),
            )
            .await,
        "content.summary",
    );

    // The wrong password does not sign.
    let wrong = sign(&server, &doctor, &report_id, "not-my-password").await;
    wrong.expect_error(401, "INVALID_CREDENTIALS");
    assert_eq!(
        server.get(&path, &doctor).await.data()["status"],
        "completed"
    );
    expect_field(&sign(&server, &doctor, &report_id, "").await, "password");

    // The version read is part of what is signed: without it nothing is signed, and a version
    // older than the stored one (2, after the edit) is a conflict, not a signature.
    expect_field(
        &sign_version(&server, &doctor, &report_id, common::PASSWORD, None).await,
        "version",
    );
    let stale = sign_version(&server, &doctor, &report_id, common::PASSWORD, Some(1)).await;
    stale.expect_error(409, "VERSION_CONFLICT");
    assert_eq!(stale.body["error"]["details"]["current_version"], 2);
    let unsigned = server.get(&path, &doctor).await;
    assert_eq!(unsigned.data()["status"], "completed");
    assert_eq!(unsigned.data()["signed_at"], Value::Null);
    assert_eq!(unsigned.data()["version"], 2);

    // The right one does.
    let before = Utc::now() - Duration::seconds(1);
    let signed = sign(&server, &doctor, &report_id, common::PASSWORD).await;
    signed.expect(200);
    let s = signed.data();
    assert_eq!(s["status"], "signed");
    let signed_at = time(&s["signed_at"]);
    assert!(signed_at >= before && signed_at <= Utc::now() + Duration::seconds(1));
    assert_eq!(s["signed_by"]["id"], doctor.user_id.as_str());
    assert_eq!(s["signed_by"]["full_name"], "Test doc@clinic.test");
    assert_eq!(s["content"], edited);
    assert_eq!(s["version"], 2);
    let consultation = server
        .get(&format!("/api/v1/consultation/{id}"), &doctor)
        .await;
    assert_eq!(consultation.data()["report_status"], "signed");

    // Signed means immutable.
    server
        .patch(&path, &doctor, json!({"content": edited, "version": 2}))
        .await
        .expect_error(409, "REPORT_SIGNED");
    sign(&server, &doctor, &report_id, common::PASSWORD)
        .await
        .expect_error(409, "REPORT_SIGNED");
    let read = server.get(&path, &doctor).await;
    assert_eq!(read.data()["content"], edited);
    assert_eq!(read.data()["signed_at"], s["signed_at"]);

    // Addenda go on a signed report.
    expect_field(
        &server
            .post(&format!("{path}/addenda"), &doctor, json!({"text": "  "}))
            .await,
        "text",
    );
    let added = server
        .post(
            &format!("{path}/addenda"),
            &doctor,
            json!({"text": "Patient called: sleeping better."}),
        )
        .await;
    added.expect(200);
    let a = added.data();
    assert_eq!(a["status"], "signed");
    assert_eq!(a["content"], edited);
    let addenda = a["addenda"].as_array().unwrap();
    assert_eq!(addenda.len(), 1);
    assert_eq!(addenda[0]["text"], "Patient called: sleeping better.");
    assert_eq!(addenda[0]["author"]["id"], doctor.user_id.as_str());
    assert_eq!(addenda[0]["author"]["full_name"], "Test doc@clinic.test");
    assert!(uuid::Uuid::parse_str(addenda[0]["id"].as_str().unwrap()).is_ok());
    assert!(time(&addenda[0]["created_at"]) >= signed_at);

    let second = server
        .post(
            &format!("{path}/addenda"),
            &doctor,
            json!({"text": "Second note."}),
        )
        .await;
    second.expect(200);
    let texts: Vec<String> = second.data()["addenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| str_of(&a["text"]))
        .collect();
    assert_eq!(
        texts,
        vec!["Patient called: sleeping better.", "Second note."],
        "oldest first"
    );
    assert_eq!(
        server.get(&path, &doctor).await.data()["addenda"],
        second.data()["addenda"]
    );
}

#[tokio::test]
async fn addenda_need_a_signed_report() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    assert_eq!(report["status"], "completed");
    let id = str_of(&report["id"]);
    server
        .post(
            &format!("/api/v1/reports/{id}/addenda"),
            &doctor,
            json!({"text": "Too early"}),
        )
        .await
        .expect_error(409, "INVALID_STATE");
    let read = server.get(&format!("/api/v1/reports/{id}"), &doctor).await;
    assert_eq!(read.data()["addenda"], json!([]));
    assert_eq!(read.data()["status"], "completed");
}

#[tokio::test]
async fn empty_notes_make_a_failed_report_that_is_written_by_hand_before_signing() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    for notes in ["", "   \n\t\n"] {
        let report = server.consultation_report(&doctor, &patient, notes).await;
        assert_eq!(report["status"], "failed", "{report:#}");
        assert!(
            report["failure_reason"]
                .as_str()
                .is_some_and(|r| !r.trim().is_empty()),
            "{report:#}"
        );
        assert!(report["confidence"].is_null());
        assert!(report["signed_at"].is_null());
        let id = str_of(&report["id"]);
        let path = format!("/api/v1/reports/{id}");
        let version = report["version"].as_u64().unwrap_or_default();
        let consultation_path = format!(
            "/api/v1/consultation/{}",
            str_of(&report["consultation"]["id"])
        );
        let consultation = server.get(&consultation_path, &doctor).await;
        assert_eq!(consultation.data()["status"], "completed");
        assert_eq!(consultation.data()["report_status"], "failed");

        // Until it is written, a failed report can't be signed or take an addendum.
        sign(&server, &doctor, &id, common::PASSWORD)
            .await
            .expect_error(409, "INVALID_STATE");
        server
            .post(&format!("{path}/addenda"), &doctor, json!({"text": "x"}))
            .await
            .expect_error(409, "INVALID_STATE");
        // A stale version is caught as for any draft.
        server
            .patch(
                &path,
                &doctor,
                json!({"content": {"assessment": "written by hand"}, "version": version + 1}),
            )
            .await
            .expect_error(409, "VERSION_CONFLICT");

        // Written by hand: the edit makes it a completed draft, audited and announced.
        let content = json!({
            "assessment": "Written by hand",
            "diagnoses": [{"code": "F32.1", "description": "Moderate depressive episode"}],
            "medication_plan": [{
                "drug": "Sertraline", "dosage": "50 mg", "route": "oral", "frequency": "daily"
            }],
        });
        let edited = server
            .patch(
                &path,
                &doctor,
                json!({"content": content, "version": version}),
            )
            .await;
        edited.expect(200);
        let edited = edited.data();
        assert_eq!(edited["status"], "completed", "{edited:#}");
        assert_eq!(edited["version"], json!(version + 1));
        assert!(edited["failure_reason"].is_null(), "{edited:#}");
        assert_eq!(edited["content"]["assessment"], "Written by hand");
        assert_eq!(edited["content"]["diagnoses"][0]["code"], "F32.1");
        assert_eq!(edited["content"]["medication_plan"][0]["route"], "oral");
        let audited = sql_count(
            &server,
            "SELECT COUNT(*) FROM audit_events
             WHERE action = 'report.edit' AND outcome = 'success' AND resource_id = $1",
            &[&id],
        )
        .await;
        assert_eq!(audited, 1);
        let announced = sql_count(
            &server,
            "SELECT COUNT(*) FROM events WHERE kind = 'report.updated'
             AND CAST(report_id AS TEXT) = $1 AND report_status = 'completed'",
            &[&id],
        )
        .await;
        assert_eq!(announced, 1);
        let consultation = server.get(&consultation_path, &doctor).await;
        assert_eq!(consultation.data()["report_status"], "completed");

        // Then it signs, and takes addenda, like any completed draft.
        sign(&server, &doctor, &id, common::PASSWORD)
            .await
            .expect(200);
        server
            .post(
                &format!("{path}/addenda"),
                &doctor,
                json!({"text": "Checked"}),
            )
            .await
            .expect(200);
        let read = server.get(&path, &doctor).await;
        assert_eq!(read.data()["status"], "signed");
        assert_eq!(read.data()["version"], json!(version + 1));
    }
}

#[tokio::test]
async fn wrong_signing_passwords_count_towards_the_lockout() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let id = str_of(&report["id"]);
    for _ in 0..4 {
        sign(&server, &doctor, &id, "wrong-password")
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
    // The fifth consecutive failure locks the account.
    let locked = sign(&server, &doctor, &id, "wrong-password").await;
    locked.expect_error(423, "ACCOUNT_LOCKED");
    assert!(locked.body["error"]["details"]["locked_until"].is_string());
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test", "password": common::PASSWORD})),
        )
        .await
        .expect_error(423, "ACCOUNT_LOCKED");
    let status = server
        .sql_text(
            "SELECT status FROM reports WHERE CAST(id AS TEXT) = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(status, "completed");
}

// ---------------------------------------------------------------------------------------------
// The report list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_report_list_is_newest_first_and_holds_only_the_callers_reports() {
    let server = TestServer::start().await;
    let doc = demo(&server).await;
    let doc2 = server.login("doc2@demo.com", DEMO_PASSWORD).await;

    let expected = sql_ids(
        &server,
        "SELECT CAST(id AS TEXT) FROM reports WHERE CAST(doctor_id AS TEXT) = $1
         ORDER BY created_at DESC, id DESC",
        &[&doc.user_id],
    )
    .await;
    assert!(
        expected.len() > 150,
        "the demo has many reports: {}",
        expected.len()
    );

    // Cursor paging: every report once, in order.
    let by_cursor = list_all(&server, &doc, "", 37).await;
    assert_eq!(ids(&by_cursor), expected);
    for item in &by_cursor {
        assert_eq!(keys(item), key_set(&SUMMARY_KEYS), "{item:#}");
        assert!(
            item["confidence"].is_null()
                || (0.0..=1.0).contains(&item["confidence"].as_f64().unwrap())
        );
    }
    for pair in by_cursor.windows(2) {
        assert!(time(&pair[0]["created_at"]) >= time(&pair[1]["created_at"]));
    }

    // Offset paging gives the same sequence.
    let mut by_offset = Vec::new();
    for page in 0..100u64 {
        let reply = server
            .get(
                &format!("/api/v1/reports/list?limit=50&offset={}", page * 50),
                &doc,
            )
            .await;
        reply.expect(200);
        let p = &reply.data()["pagination"];
        assert_eq!(p["total"], expected.len());
        assert_eq!(p["limit"], 50);
        assert_eq!(p["offset"], page * 50);
        by_offset.extend(ids(reply.data()["items"].as_array().unwrap()));
        if p["has_more"] == false {
            assert!(p["next_cursor"].is_null());
            break;
        }
        assert!(p["next_cursor"].is_string());
    }
    assert_eq!(by_offset, expected);

    // Past the end: an empty page, still with the total, whether it comes from the tallies
    // (no filter) or from counting (a filter by type).
    let beyond = server
        .get("/api/v1/reports/list?limit=10&offset=100000", &doc)
        .await;
    beyond.expect(200);
    assert_eq!(beyond.data()["items"].as_array().unwrap().len(), 0);
    assert_eq!(beyond.data()["pagination"]["total"], expected.len());
    let first_of_type = server
        .get(
            "/api/v1/reports/list?limit=100&session_type=follow_up",
            &doc,
        )
        .await;
    first_of_type.expect(200);
    let of_type = first_of_type.data()["pagination"]["total"].clone();
    let beyond_of_type = server
        .get(
            "/api/v1/reports/list?limit=10&offset=100000&session_type=follow_up",
            &doc,
        )
        .await;
    beyond_of_type.expect(200);
    assert_eq!(beyond_of_type.data()["items"].as_array().unwrap().len(), 0);
    assert_eq!(beyond_of_type.data()["pagination"]["total"], of_type);

    // Switching from an offset page to its cursor continues without a gap.
    let first = server
        .get("/api/v1/reports/list?limit=10&offset=10", &doc)
        .await;
    first.expect(200);
    let cursor = str_of(&first.data()["pagination"]["next_cursor"]);
    let next = server
        .get(
            &format!("/api/v1/reports/list?limit=10&cursor={cursor}"),
            &doc,
        )
        .await;
    next.expect(200);
    assert_eq!(
        ids(next.data()["items"].as_array().unwrap()),
        expected[20..30]
    );

    // The default page is 20 rows.
    let default = server.get("/api/v1/reports/list", &doc).await;
    default.expect(200);
    assert_eq!(
        ids(default.data()["items"].as_array().unwrap()),
        expected[..20]
    );
    assert_eq!(default.data()["pagination"]["limit"], 20);
    assert_eq!(default.data()["filters_applied"], json!({}));

    // The second doctor's list is theirs alone.
    let expected2 = sql_ids(
        &server,
        "SELECT CAST(id AS TEXT) FROM reports WHERE CAST(doctor_id AS TEXT) = $1
         ORDER BY created_at DESC, id DESC",
        &[&doc2.user_id],
    )
    .await;
    let theirs = ids(&list_all(&server, &doc2, "", 100).await);
    assert_eq!(theirs, expected2);
    let mine: HashSet<&String> = expected.iter().collect();
    assert!(theirs.iter().all(|id| !mine.contains(id)));
    assert!(!theirs.is_empty());

    // A report of the other doctor is invisible.
    server
        .get(&format!("/api/v1/reports/{}", expected2[0]), &doc)
        .await
        .expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn report_list_filters_match_the_database_and_are_echoed() {
    let server = TestServer::start().await;
    let doc = demo(&server).await;
    let me = doc.user_id.as_str();

    // Status: every status appears in the demo data.
    for status in ["pending", "generating", "completed", "signed", "failed"] {
        let count = sql_count(
            &server,
            "SELECT COUNT(*) FROM reports WHERE CAST(doctor_id AS TEXT) = $1 AND status = $2",
            &[me, status],
        )
        .await;
        assert!(count > 0, "the demo has {status} reports");
        let reply = server
            .get(
                &format!("/api/v1/reports/list?status={status}&limit=100"),
                &doc,
            )
            .await;
        reply.expect(200);
        assert_eq!(reply.data()["pagination"]["total"], count, "{status}");
        assert_eq!(reply.data()["filters_applied"], json!({"status": status}));
        let items = reply.data()["items"].as_array().unwrap();
        assert_eq!(items.len() as u64, count.min(100));
        assert!(items.iter().all(|i| i["status"] == status), "{status}");
    }
    // One filter paged through completely matches the rows exactly.
    let signed = sql_ids(
        &server,
        "SELECT CAST(id AS TEXT) FROM reports WHERE CAST(doctor_id AS TEXT) = $1 AND status = 'signed'
         ORDER BY created_at DESC, id DESC",
        &[me],
    )
    .await;
    assert_eq!(
        ids(&list_all(&server, &doc, "status=signed", 45).await),
        signed
    );

    // Session type, cross-checked with the consultation each summary names.
    for session_type in ["new_patient", "follow_up", "consultation", "emergency"] {
        let expected = sql_ids(
            &server,
            "SELECT CAST(r.id AS TEXT) FROM reports r JOIN consultations c ON c.id = r.consultation_id
             WHERE CAST(r.doctor_id AS TEXT) = $1 AND c.session_type = $2
             ORDER BY r.created_at DESC, r.id DESC",
            &[me, session_type],
        )
        .await;
        let items = list_all(&server, &doc, &format!("session_type={session_type}"), 100).await;
        assert_eq!(ids(&items), expected, "{session_type}");
        assert!(
            items
                .iter()
                .all(|i| i["consultation"]["session_type"] == session_type)
        );
    }

    // Patient: the demo patient with the most reports.
    let patient = server
        .sql_text(
            "SELECT CAST(patient_id AS TEXT) FROM reports WHERE CAST(doctor_id AS TEXT) = $1
             GROUP BY patient_id ORDER BY COUNT(*) DESC, patient_id LIMIT 1",
            &[me],
        )
        .await
        .unwrap();
    let expected = sql_ids(
        &server,
        "SELECT CAST(id AS TEXT) FROM reports
         WHERE CAST(doctor_id AS TEXT) = $1 AND CAST(patient_id AS TEXT) = $2
         ORDER BY created_at DESC, id DESC",
        &[me, &patient],
    )
    .await;
    assert!(expected.len() > 1);
    let reply = server
        .get(&format!("/api/v1/reports/list?patient_id={patient}"), &doc)
        .await;
    reply.expect(200);
    assert_eq!(ids(reply.data()["items"].as_array().unwrap()), expected);
    assert_eq!(
        reply.data()["filters_applied"],
        json!({"patient_id": patient})
    );
    assert!(
        reply.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["patient"]["id"] == patient.as_str())
    );

    // Bare dates: from the start of date_from to the end of date_to.
    let (from, to) = (today() - Duration::days(60), today() - Duration::days(20));
    let expected = sql_ids(
        &server,
        &format!(
            "SELECT CAST(id AS TEXT) FROM reports
             WHERE CAST(doctor_id AS TEXT) = $1 AND created_at >= {} AND created_at < {}
             ORDER BY created_at DESC, id DESC",
            server.sql_time("$2"),
            server.sql_time("$3")
        ),
        &[me, &midnight(from), &midnight(to + Duration::days(1))],
    )
    .await;
    assert!(!expected.is_empty());
    let query = format!("date_from={from}&date_to={to}");
    let items = list_all(&server, &doc, &query, 25).await;
    assert_eq!(ids(&items), expected);
    let echoed = server
        .get(&format!("/api/v1/reports/list?{query}"), &doc)
        .await;
    echoed.expect(200);
    let applied = &echoed.data()["filters_applied"];
    assert_eq!(keys(applied), key_set(&["date_from", "date_to"]));
    assert_eq!(applied["date_from"], midnight(from).as_str());
    let to_bound = time(&applied["date_to"]);
    assert!(
        to_bound > to.and_hms_opt(23, 59, 59).unwrap().and_utc()
            && to_bound
                <= (to + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc(),
        "a bare date_to covers the whole day: {applied:#}"
    );

    // RFC 3339 bounds with an offset are read in UTC and echoed in UTC.
    let lower = Utc::now() - Duration::days(90);
    let lower_local = lower.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap());
    let lower_text = lower_local.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    let expected = sql_count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM reports WHERE CAST(doctor_id AS TEXT) = $1 AND created_at >= {}",
            server.sql_time("$2")
        ),
        &[me, &stamp(lower)],
    )
    .await;
    let reply = server
        .get(
            &format!(
                "/api/v1/reports/list?date_from={}",
                lower_text.replace('+', "%2B")
            ),
            &doc,
        )
        .await;
    reply.expect(200);
    assert_eq!(reply.data()["pagination"]["total"], expected);
    assert_eq!(
        reply.data()["filters_applied"],
        json!({"date_from": stamp(lower)})
    );

    // All filters together.
    let expected = sql_count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM reports r JOIN consultations c ON c.id = r.consultation_id
             WHERE CAST(r.doctor_id AS TEXT) = $1 AND r.status = 'signed'
             AND c.session_type = 'follow_up' AND r.created_at >= {}",
            server.sql_time("$2")
        ),
        &[me, &midnight(today() - Duration::days(200))],
    )
    .await;
    let reply = server
        .get(
            &format!(
                "/api/v1/reports/list?status=signed&session_type=follow_up&date_from={}",
                today() - Duration::days(200)
            ),
            &doc,
        )
        .await;
    reply.expect(200);
    assert_eq!(reply.data()["pagination"]["total"], expected);
    assert_eq!(
        reply.data()["filters_applied"],
        json!({
            "status": "signed",
            "session_type": "follow_up",
            "date_from": midnight(today() - Duration::days(200)),
        })
    );
}

#[tokio::test]
async fn a_bare_date_to_of_today_includes_todays_reports() {
    let server = TestServer::start().await;
    let doc = demo(&server).await;
    let patient = server.patient(&doc, "Zed Fresh").await;
    let report = report_of_type(&server, &doc, &patient, "emergency", NOTES).await;
    let id = str_of(&report["id"]);
    let created_day = time(&report["created_at"]).date_naive();

    let reply = server
        .get(
            &format!("/api/v1/reports/list?date_to={created_day}&limit=5"),
            &doc,
        )
        .await;
    reply.expect(200);
    assert_eq!(
        reply.data()["items"][0]["id"],
        id.as_str(),
        "today's newest report is on the page ending today"
    );
    let reply = server
        .get(
            &format!("/api/v1/reports/list?date_from={created_day}&date_to={created_day}&patient_id={patient}"),
            &doc,
        )
        .await;
    reply.expect(200);
    assert_eq!(
        ids(reply.data()["items"].as_array().unwrap()),
        vec![id.clone()]
    );

    // Yesterday's end excludes it; tomorrow's start finds nothing.
    let yesterday = created_day - Duration::days(1);
    let reply = server
        .get(
            &format!("/api/v1/reports/list?date_to={yesterday}&patient_id={patient}"),
            &doc,
        )
        .await;
    reply.expect(200);
    assert_eq!(reply.data()["items"], json!([]));
    let tomorrow = today() + Duration::days(1);
    let reply = server
        .get(&format!("/api/v1/reports/list?date_from={tomorrow}"), &doc)
        .await;
    reply.expect(200);
    assert_eq!(reply.data()["items"], json!([]));
    assert_eq!(reply.data()["pagination"]["total"], 0);
    assert_eq!(reply.data()["pagination"]["has_more"], false);
    assert!(reply.data()["pagination"]["next_cursor"].is_null());
}

#[tokio::test]
async fn report_list_parameters_are_checked() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    server.consultation_report(&doctor, &patient, NOTES).await;
    server.consultation_report(&doctor, &patient, NOTES).await;

    for (query, field) in [
        ("status=done", "status"),
        ("status=", "status"),
        ("session_type=checkup", "session_type"),
        ("patient_id=42", "patient_id"),
        ("date_from=yesterday", "date_from"),
        ("date_to=2026-13-01", "date_to"),
        ("date_from=2026-02-01&date_to=2026-01-01", "date_to"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("offset=0&cursor=abc", "cursor"),
        ("cursor=not-a-cursor", "cursor"),
        ("sort=name", "sort"),
    ] {
        let reply = server
            .get(&format!("/api/v1/reports/list?{query}"), &doctor)
            .await;
        expect_field(&reply, field);
    }

    // A cursor of another list does not work here.
    server.patient(&doctor, "Ben Jones").await;
    let patients = server.get("/api/v1/patients/list/?limit=1", &doctor).await;
    patients.expect(200);
    let foreign = str_of(&patients.data()["pagination"]["next_cursor"]);
    expect_field(
        &server
            .get(&format!("/api/v1/reports/list?cursor={foreign}"), &doctor)
            .await,
        "cursor",
    );

    // A patient of another doctor shows nothing of theirs.
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    let reply = server
        .get(
            &format!("/api/v1/reports/list?patient_id={patient}"),
            &stranger,
        )
        .await;
    if reply.status.as_u16() == 200 {
        assert_eq!(reply.data()["items"], json!([]));
        assert_eq!(reply.data()["pagination"]["total"], 0);
    } else {
        reply.expect_error(404, "NOT_FOUND");
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// Checks a stats reply against counts taken from the database for this doctor (and patient).
async fn check_stats(
    server: &TestServer,
    session: &Session,
    patient: Option<&str>,
    days: Option<u32>,
) -> Value {
    let mut scope = String::from("CAST(doctor_id AS TEXT) = $1");
    let mut binds = vec![session.user_id.clone()];
    if let Some(patient) = patient {
        scope.push_str(" AND CAST(patient_id AS TEXT) = $2");
        binds.push(patient.to_string());
    }
    // The placeholders after the scope's.
    let (next, after_next) = (
        server.sql_time(&format!("${}", binds.len() + 1)),
        server.sql_time(&format!("${}", binds.len() + 2)),
    );
    let binds_ref: Vec<&str> = binds.iter().map(String::as_str).collect();
    let mut query = Vec::new();
    if let Some(patient) = patient {
        query.push(format!("patient_id={patient}"));
    }
    if let Some(days) = days {
        query.push(format!("days={days}"));
    }

    let before = Utc::now();
    let reply = server
        .get(
            &format!("/api/v1/reports/stats?{}", query.join("&")),
            session,
        )
        .await;
    let after = Utc::now();
    reply.expect(200);
    let stats = reply.data().clone();
    assert_eq!(
        keys(&stats),
        key_set(&[
            "total",
            "by_status",
            "recent_7d",
            "unsigned",
            "average_confidence",
            "daily"
        ])
    );

    let groups: Vec<(String, i64)> = server
        .sql_rows(
            &format!(
                "SELECT status, CAST(COUNT(*) AS TEXT) FROM reports WHERE {scope} GROUP BY status"
            ),
            &binds_ref,
        )
        .await
        .into_iter()
        .map(|row| {
            (
                row[0].clone().expect("a status"),
                row[1].as_deref().expect("a count").parse().unwrap(),
            )
        })
        .collect();
    let mut by_status: BTreeMap<String, i64> =
        ["pending", "generating", "completed", "signed", "failed"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
    for (status, count) in &groups {
        *by_status.get_mut(status).expect("a known status") += count;
    }
    assert_eq!(keys(&stats["by_status"]).len(), 5);
    for (status, count) in &by_status {
        assert_eq!(stats["by_status"][status], *count, "by_status.{status}");
    }
    let total: i64 = by_status.values().sum();
    assert_eq!(stats["total"], total);
    assert_eq!(stats["unsigned"], by_status["completed"]);

    // Created in the last 7 days, as of some moment during the call.
    let recent_sql = format!("SELECT COUNT(*) FROM reports WHERE {scope} AND created_at >= {next}");
    let mut recent_binds = binds_ref.clone();
    let early = stamp(before - Duration::days(7));
    recent_binds.push(&early);
    let most = sql_count(server, &recent_sql, &recent_binds).await;
    recent_binds.pop();
    let late = stamp(after - Duration::days(7));
    recent_binds.push(&late);
    let least = sql_count(server, &recent_sql, &recent_binds).await;
    let recent = stats["recent_7d"].as_u64().unwrap();
    assert!(
        least <= recent && recent <= most,
        "recent_7d {recent} not in {least}..={most}"
    );

    let average: Option<f64> = server
        .sql_text(
            &format!("SELECT CAST(AVG(confidence) AS TEXT) FROM reports WHERE {scope}"),
            &binds_ref,
        )
        .await
        .map(|average| average.parse().expect("a number"));
    match average {
        None => assert!(stats["average_confidence"].is_null(), "{stats:#}"),
        Some(average) => {
            let got = stats["average_confidence"].as_f64().expect("an average");
            assert!((0.0..=1.0).contains(&got));
            assert!((got - average).abs() < 0.001, "average {got} vs {average}");
        }
    }

    // Daily: exactly `days` consecutive dates, oldest first, ending today (UTC).
    let days = days.unwrap_or(30) as usize;
    let daily = stats["daily"].as_array().unwrap();
    assert_eq!(daily.len(), days);
    let end =
        NaiveDate::parse_from_str(daily[days - 1]["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert!(
        end == before.date_naive() || end == after.date_naive(),
        "daily ends today: {end}"
    );
    let first = end - Duration::days(days as i64 - 1);
    for (n, entry) in daily.iter().enumerate() {
        assert_eq!(keys(entry), key_set(&["date", "count"]));
        assert_eq!(
            entry["date"],
            (first + Duration::days(n as i64)).to_string(),
            "daily[{n}]"
        );
    }
    let (lo, hi) = (midnight(first), midnight(end + Duration::days(1)));
    let per_day: BTreeMap<String, i64> = {
        let mut day_binds = binds_ref.clone();
        day_binds.push(&lo);
        day_binds.push(&hi);
        server
            .sql_rows(
                &format!(
                    "SELECT {}, CAST(COUNT(*) AS TEXT) FROM reports
                     WHERE {scope} AND created_at >= {next} AND created_at < {after_next}
                     GROUP BY 1",
                    server.sql_utc_date("created_at")
                ),
                &day_binds,
            )
            .await
            .into_iter()
            .map(|row| {
                (
                    row[0].clone().expect("a date"),
                    row[1].as_deref().expect("a count").parse().unwrap(),
                )
            })
            .collect()
    };
    for entry in daily {
        let date = str_of(&entry["date"]);
        assert_eq!(
            entry["count"],
            per_day.get(&date).copied().unwrap_or(0),
            "daily count of {date}"
        );
    }
    let window_sql = format!(
        "SELECT COUNT(*) FROM reports WHERE {scope} AND created_at >= {next} AND created_at < {after_next}"
    );
    let mut window_binds = binds_ref.clone();
    window_binds.push(&lo);
    window_binds.push(&hi);
    let in_window = sql_count(server, &window_sql, &window_binds).await;
    let sum: u64 = daily.iter().map(|d| d["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, in_window, "the daily counts add up to the window");
    stats
}

#[tokio::test]
async fn stats_match_counts_taken_from_the_database() {
    let server = TestServer::start().await;
    let doc = demo(&server).await;
    // A report made today, so today's entry is not empty.
    let patient = server.patient(&doc, "Zed Fresh").await;
    report_of_type(&server, &doc, &patient, "follow_up", NOTES).await;

    let stats = check_stats(&server, &doc, None, None).await;
    for status in ["pending", "generating", "completed", "signed", "failed"] {
        assert!(stats["by_status"][status].as_u64().unwrap() > 0, "{status}");
    }
    assert!(stats["recent_7d"].as_u64().unwrap() > 0);
    assert!(stats["daily"][29]["count"].as_u64().unwrap() >= 1);

    let year = check_stats(&server, &doc, None, Some(366)).await;
    let year_sum: u64 = year["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .sum();
    assert!(year_sum > 0);
    // `days` shapes only the daily series.
    assert_eq!(year["total"], stats["total"]);
    assert_eq!(year["by_status"], stats["by_status"]);
    check_stats(&server, &doc, None, Some(1)).await;
    check_stats(&server, &doc, None, Some(7)).await;

    // Per patient: the demo patient with the most reports, and the fresh one.
    let busiest = server
        .sql_text(
            "SELECT CAST(patient_id AS TEXT) FROM reports WHERE CAST(doctor_id AS TEXT) = $1
             GROUP BY patient_id ORDER BY COUNT(*) DESC, patient_id LIMIT 1",
            &[&doc.user_id],
        )
        .await
        .unwrap();
    let one = check_stats(&server, &doc, Some(&busiest), Some(366)).await;
    assert!(one["total"].as_u64().unwrap() > 1);
    assert!(one["total"].as_u64().unwrap() < stats["total"].as_u64().unwrap());
    let fresh = check_stats(&server, &doc, Some(&patient), None).await;
    assert_eq!(fresh["total"], 1);

    // The other demo doctor's numbers are their own.
    let doc2 = server.login("doc2@demo.com", DEMO_PASSWORD).await;
    let theirs = check_stats(&server, &doc2, None, None).await;
    assert_ne!(theirs["total"], 0);
}

#[tokio::test]
async fn stats_count_reports_made_through_the_api() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    // Nothing yet: zeros and a null average.
    let empty = check_stats(&server, &doctor, None, Some(5)).await;
    assert_eq!(empty["total"], 0);
    assert!(empty["average_confidence"].is_null());
    assert_eq!(
        empty["by_status"],
        json!({"pending": 0, "generating": 0, "completed": 0, "signed": 0, "failed": 0})
    );
    assert!(
        empty["daily"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["count"] == 0)
    );

    let patient = server.patient(&doctor, "Anna Smith").await;
    let completed = server.consultation_report(&doctor, &patient, NOTES).await;
    let to_sign = server
        .consultation_report(&doctor, &patient, "Assessment: stable\nPlan: continue")
        .await;
    sign(
        &server,
        &doctor,
        to_sign["id"].as_str().unwrap(),
        common::PASSWORD,
    )
    .await
    .expect(200);
    let failed = server.consultation_report(&doctor, &patient, "").await;
    assert_eq!(failed["status"], "failed");
    // A cancelled consultation adds no report.
    let cancelled = started(&server, &doctor, &patient).await;
    server
        .post(
            &format!("/api/v1/consultation/{cancelled}/cancel"),
            &doctor,
            json!({"reason": "No show"}),
        )
        .await
        .expect(200);

    let stats = check_stats(&server, &doctor, None, None).await;
    assert_eq!(stats["total"], 3);
    assert_eq!(
        stats["by_status"],
        json!({"pending": 0, "generating": 0, "completed": 1, "signed": 1, "failed": 1})
    );
    assert_eq!(stats["unsigned"], 1);
    assert_eq!(stats["recent_7d"], 3);
    assert_eq!(stats["daily"][29]["count"], 3);
    let expected =
        (completed["confidence"].as_f64().unwrap() + to_sign["confidence"].as_f64().unwrap()) / 2.0;
    let got = stats["average_confidence"].as_f64().unwrap();
    assert!((got - expected).abs() < 0.001, "{got} vs {expected}");

    // Another doctor's statistics do not include these.
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    let theirs = check_stats(&server, &stranger, None, None).await;
    assert_eq!(theirs["total"], 0);
}

#[tokio::test]
async fn stats_parameters_are_checked() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let stranger = server.login_new("other@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    server.consultation_report(&doctor, &patient, NOTES).await;

    for query in ["days=0", "days=367", "days=-1", "days=abc"] {
        expect_field(
            &server
                .get(&format!("/api/v1/reports/stats?{query}"), &doctor)
                .await,
            "days",
        );
    }
    expect_field(
        &server
            .get("/api/v1/reports/stats?patient_id=nope", &doctor)
            .await,
        "patient_id",
    );
    expect_field(
        &server
            .get("/api/v1/reports/stats?status=signed", &doctor)
            .await,
        "status",
    );
    server
        .get("/api/v1/reports/stats?days=366", &doctor)
        .await
        .expect(200);
    server
        .get("/api/v1/reports/stats?days=1", &doctor)
        .await
        .expect(200);

    // Another doctor's patient answers like a missing one.
    let denied = server
        .get(
            &format!("/api/v1/reports/stats?patient_id={patient}"),
            &stranger,
        )
        .await;
    denied.expect_error(404, "NOT_FOUND");
    server
        .get(
            &format!("/api/v1/reports/stats?patient_id={}", uuid::Uuid::now_v7()),
            &doctor,
        )
        .await
        .expect_error(404, "NOT_FOUND");
    let mine = server
        .get(
            &format!("/api/v1/reports/stats?patient_id={patient}"),
            &doctor,
        )
        .await;
    mine.expect(200);
    assert_eq!(mine.data()["total"], 1);
}

// ---------------------------------------------------------------------------------------------
// Races
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_starts_for_one_patient_let_exactly_one_through() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let replies = futures_join(
        (0..8)
            .map(|_| start(&server, &doctor, &patient, "follow_up", "Race"))
            .collect(),
    )
    .await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1, "{replies:#?}");
    let winner = str_of(&created[0].data()["id"]);
    for reply in replies.iter().filter(|r| r.status != 201) {
        reply.expect_error(409, "CONSULTATION_ACTIVE");
        assert_eq!(
            reply.body["error"]["details"]["consultation_id"],
            winner.as_str()
        );
    }
    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM consultations", &[]).await,
        1
    );
}

#[tokio::test]
async fn concurrent_stops_make_one_report_and_concurrent_edits_one_version() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let id = started(&server, &doctor, &patient).await;
    let path = format!("/api/v1/consultation/{id}/stop");
    let stops = futures_join(
        (0..4)
            .map(|_| server.post(&path, &doctor, json!({"notes": NOTES})))
            .collect(),
    )
    .await;
    assert_eq!(
        stops.iter().filter(|r| r.status == 200).count(),
        1,
        "{stops:#?}"
    );
    for reply in stops.iter().filter(|r| r.status != 200) {
        reply.expect_error(409, "INVALID_STATE");
    }
    assert_eq!(
        sql_count(&server, "SELECT COUNT(*) FROM reports", &[]).await,
        1
    );
    let report_id = stops
        .iter()
        .find(|r| r.status == 200)
        .map(|r| str_of(&r.data()["report_id"]))
        .unwrap();
    let report = server.wait_for_report(&doctor, &report_id).await;
    assert_eq!(report["status"], "completed");

    // Two reviewers save version 1 at once: one wins, the other learns of version 2.
    let report_path = format!("/api/v1/reports/{report_id}");
    let edits = futures_join(
        ["first", "second", "third"]
            .into_iter()
            .map(|who| {
                server.patch(
                    &report_path,
                    &doctor,
                    json!({"content": {"assessment": who}, "version": 1}),
                )
            })
            .collect(),
    )
    .await;
    let saved: Vec<&Reply> = edits.iter().filter(|r| r.status == 200).collect();
    assert_eq!(saved.len(), 1, "{edits:#?}");
    for reply in edits.iter().filter(|r| r.status != 200) {
        reply.expect_error(409, "VERSION_CONFLICT");
        assert_eq!(reply.body["error"]["details"]["current_version"], 2);
    }
    let read = server.get(&report_path, &doctor).await;
    assert_eq!(read.data()["version"], 2);
    assert_eq!(read.data()["content"], saved[0].data()["content"]);

    // Two signatures at once: one signs, the other finds it signed.
    let signs = futures_join(
        (0..2)
            .map(|_| sign(&server, &doctor, &report_id, common::PASSWORD))
            .collect(),
    )
    .await;
    assert_eq!(
        signs.iter().filter(|r| r.status == 200).count(),
        1,
        "{signs:#?}"
    );
    for reply in signs.iter().filter(|r| r.status != 200) {
        reply.expect_error(409, "REPORT_SIGNED");
    }
    let audited = sql_count(
        &server,
        "SELECT COUNT(*) FROM audit_events
         WHERE action = 'report.sign' AND outcome = 'success' AND resource_id = $1",
        &[&report_id],
    )
    .await;
    assert_eq!(audited, 1, "one signature, one audit row");
}

/// Runs the futures concurrently on this task and returns their outputs in order.
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
