//! Bad input over HTTP: malformed and mistyped JSON, unknown fields and parameters, empty,
//! oversized and control-character text, invalid ids, cursors, limits, offsets and dates, too
//! large bodies, other media types, unknown routes and methods. Each is answered with a clean
//! 4xx error envelope naming the problem (never a 500, never SQL), and nothing is stored.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use common::{Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;

const NOTES: &str = "History: low mood for 3 weeks\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks";

/// Rows of every table a refused request must leave alone.
#[derive(Debug, PartialEq, Eq)]
struct Counts([i64; 5]);

impl Counts {
    async fn take(server: &TestServer) -> Counts {
        let mut counts = [0; 5];
        for (slot, sql) in counts.iter_mut().zip([
            "SELECT COUNT(*) FROM patients",
            "SELECT COUNT(*) FROM consultations",
            "SELECT COUNT(*) FROM reports",
            "SELECT COUNT(*) FROM report_addenda",
            "SELECT COUNT(*) FROM users",
        ]) {
            *slot = server.sql_count(sql, &[]).await;
        }
        Counts(counts)
    }
}

/// Asserts a clean error envelope: the status and code, a message for a person, a details
/// object, the request id in body and header, and nothing of the database in the text.
#[track_caller]
fn assert_envelope(reply: &Reply, status: u16, code: &str) {
    reply.expect_error(status, code);
    let body = &reply.body;
    assert_eq!(body["status"], "error", "{body:#}");
    assert!(body["error"]["details"].is_object(), "{body:#}");
    let request_id = body["request_id"].as_str().unwrap();
    assert_eq!(
        reply.request_id.as_deref(),
        Some(request_id),
        "X-Request-ID differs from the body: {body:#}"
    );
    let text = body.to_string().to_lowercase();
    for leak in ["select", "sqlite", "insert", "sqlx", "panicked"] {
        assert!(
            !text.contains(leak),
            "the error mentions {leak:?}: {body:#}"
        );
    }
}

/// Asserts a 422 that names `field` in `details.fields`.
#[track_caller]
fn assert_field(reply: &Reply, field: &str) {
    assert_envelope(reply, 422, "VALIDATION_ERROR");
    let fields = reply.body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.fields: {:#}", reply.body));
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == field && f["message"].as_str().is_some_and(|m| !m.is_empty())),
        "expected field {field:?} to be named: {:#}",
        reply.body
    );
}

/// A doctor, their patient, and a stopped consultation with a completed report.
struct World {
    server: TestServer,
    doctor: Session,
    patient: String,
    report: Value,
}

async fn world() -> World {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    assert_eq!(report["status"], "completed", "{report:#}");
    World {
        server,
        doctor,
        patient,
        report,
    }
}

fn valid_patient() -> Value {
    json!({"full_name": "Ben Carter", "date_of_birth": "1980-02-03", "sex": "male"})
}

/// A valid patient with one field replaced (`null` removes it).
fn patient_with(field: &str, value: Value) -> Value {
    let mut body = valid_patient();
    if value.is_null() {
        body.as_object_mut().unwrap().remove(field);
    } else {
        body[field] = value;
    }
    body
}

async fn start_consultation(server: &TestServer, doctor: &Session, patient: &str) -> String {
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

#[tokio::test]
async fn malformed_json_and_non_objects_are_refused_naming_the_body() {
    let World { server, doctor, .. } = world().await;
    let before = Counts::take(&server).await;
    let token = Some(doctor.access_token.as_str());
    let bodies: [&[u8]; 10] = [
        b"{\"full_name\": ",
        b"{\"full_name\": \"Ben\",}",
        b"{full_name: 'Ben'}",
        b"[1, 2, 3]",
        b"\"Ben Carter\"",
        b"42",
        b"null",
        b"{} trailing",
        b"\xff\xfe{}",
        b"{\"a\": 1} {\"b\": 2}",
    ];
    for body in bodies {
        for path in [
            "/api/v1/patients",
            "/api/v1/consultation/start",
            "/api/v1/auth/login",
        ] {
            let reply = server
                .call_raw(
                    Method::POST,
                    path,
                    token,
                    Some("application/json"),
                    body.to_vec(),
                )
                .await;
            assert_field(&reply, "body");
        }
    }
    // A whole valid object with text after it.
    let mut trailing = serde_json::to_vec(&valid_patient()).unwrap();
    trailing.extend_from_slice(b" trailing");
    let reply = server
        .call_raw(
            Method::POST,
            "/api/v1/patients",
            token,
            Some("application/json"),
            trailing,
        )
        .await;
    assert_field(&reply, "body");
    // A required body that is missing altogether.
    let empty = server
        .call_raw(
            Method::POST,
            "/api/v1/patients",
            token,
            Some("application/json"),
            Vec::new(),
        )
        .await;
    assert_field(&empty, "body");
    assert_eq!(Counts::take(&server).await, before);
}

#[tokio::test]
async fn wrong_types_and_empty_required_fields_name_the_field() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let before = Counts::take(&server).await;
    let cases = [
        ("date_of_birth", patient_with("date_of_birth", json!(5))),
        ("sex", patient_with("sex", json!(7))),
        ("sex", patient_with("sex", json!("robot"))),
        ("full_name", patient_with("full_name", json!(123))),
        ("full_name", patient_with("full_name", json!(["Ben"]))),
        ("phone", patient_with("phone", json!(5550100))),
        ("alerts", patient_with("alerts", json!("not a list"))),
        (
            "illness_duration.value",
            patient_with(
                "illness_duration",
                json!({"value": "three", "unit": "weeks"}),
            ),
        ),
        (
            "allergies.status",
            patient_with("allergies", json!({"status": "maybe"})),
        ),
        // Required fields that are empty, blank or missing.
        ("full_name", patient_with("full_name", json!(""))),
        ("full_name", patient_with("full_name", json!("   \t "))),
        ("full_name", patient_with("full_name", Value::Null)),
        ("date_of_birth", patient_with("date_of_birth", json!(""))),
        ("date_of_birth", patient_with("date_of_birth", Value::Null)),
        ("sex", patient_with("sex", json!(""))),
        ("sex", patient_with("sex", Value::Null)),
        (
            "allergies.items[0].substance",
            patient_with(
                "allergies",
                json!({"status": "known", "items": [{"substance": "  "}]}),
            ),
        ),
        (
            "symptoms[0].name",
            patient_with("symptoms", json!([{"name": ""}])),
        ),
    ];
    for (field, body) in cases {
        let reply = server.post("/api/v1/patients", &doctor, body).await;
        assert_field(&reply, field);
    }

    // Other endpoints name their fields the same way.
    let start = |body: Value| server.post("/api/v1/consultation/start", &doctor, body);
    assert_field(
        &start(json!({"patient_id": 5, "session_type": "follow_up"})).await,
        "patient_id",
    );
    assert_field(
        &start(json!({"patient_id": "nope", "session_type": "follow_up"})).await,
        "patient_id",
    );
    assert_field(
        &start(json!({"patient_id": patient, "session_type": "lunch"})).await,
        "session_type",
    );
    assert_field(&start(json!({"patient_id": patient})).await, "session_type");
    let login = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": 5, "password": "x"})),
        )
        .await;
    assert_field(&login, "email");
    let login = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "", "password": "whatever-it-is"})),
        )
        .await;
    assert_field(&login, "email");
    let patch = server
        .patch(
            &format!("/api/v1/patients/{patient}"),
            &doctor,
            json!({"full_name": ""}),
        )
        .await;
    assert_field(&patch, "full_name");
    let patch = server
        .patch(&format!("/api/v1/patients/{patient}"), &doctor, json!({}))
        .await;
    assert_field(&patch, "body");
    // A field that cannot be cleared, sent as null, is refused by name rather than read as
    // if it were left out.
    for field in [
        "full_name",
        "date_of_birth",
        "sex",
        "allergies",
        "alerts",
        "symptoms",
    ] {
        let patch = server
            .patch(
                &format!("/api/v1/patients/{patient}"),
                &doctor,
                json!({field: null, "address": "1 New Street"}),
            )
            .await;
        assert_field(&patch, field);
        let fields = &patch.body["error"]["details"]["fields"];
        assert!(
            fields[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("leave the field out")),
            "{field}: {fields:#}"
        );
    }
    assert_eq!(Counts::take(&server).await, before);
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert_eq!(chart.data()["full_name"], "Anna Smith");
}

#[tokio::test]
async fn unknown_body_fields_are_refused_by_name() {
    let World {
        server,
        doctor,
        patient,
        report,
    } = world().await;
    let before = Counts::take(&server).await;
    let cases = [
        ("nickname", patient_with("nickname", json!("Benny"))),
        (
            "allergies.colour",
            patient_with(
                "allergies",
                json!({"status": "none_known", "colour": "red"}),
            ),
        ),
        (
            "symptoms[0].mood",
            patient_with("symptoms", json!([{"name": "Insomnia", "mood": "low"}])),
        ),
    ];
    for (field, body) in cases {
        let reply = server.post("/api/v1/patients", &doctor, body).await;
        assert_field(&reply, field);
        // The message names the field without echoing the value.
        assert!(!reply.body.to_string().contains("Benny"));
    }
    let patch = server
        .patch(
            &format!("/api/v1/patients/{patient}"),
            &doctor,
            json!({"phone": "+1 555 0100", "is_vip": true}),
        )
        .await;
    assert_field(&patch, "is_vip");
    let id = report["id"].as_str().unwrap();
    let edit = server
        .patch(
            &format!("/api/v1/reports/{id}"),
            &doctor,
            json!({"version": report["version"], "content": {"summary": "x"}}),
        )
        .await;
    assert_field(&edit, "content.summary");
    let start = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": patient, "session_type": "follow_up", "doctor_id": doctor.user_id}),
        )
        .await;
    assert_field(&start, "doctor_id");
    assert_eq!(Counts::take(&server).await, before);
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert_eq!(chart.data()["phone"], Value::Null);
}

#[tokio::test]
async fn overlong_text_is_refused_at_its_limit() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let before = Counts::take(&server).await;
    for length in [201, 10_000] {
        let reply = server
            .post(
                "/api/v1/patients",
                &doctor,
                patient_with("full_name", json!("a".repeat(length))),
            )
            .await;
        assert_field(&reply, "full_name");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("200"),
            "{:#}",
            reply.body
        );
    }
    let consultation = start_consultation(&server, &doctor, &patient).await;
    let counted = Counts::take(&server).await;
    let notes = server
        .patch(
            &format!("/api/v1/consultation/{consultation}"),
            &doctor,
            json!({"notes": "n".repeat(100_001)}),
        )
        .await;
    assert_field(&notes, "notes");
    let stop = server
        .post(
            &format!("/api/v1/consultation/{consultation}/stop"),
            &doctor,
            json!({"notes": "n".repeat(100_001)}),
        )
        .await;
    assert_field(&stop, "notes");
    assert_eq!(Counts::take(&server).await, counted);
    let running = server
        .get(&format!("/api/v1/consultation/{consultation}"), &doctor)
        .await;
    assert_eq!(running.data()["status"], "in_progress");

    // At the limits, the same fields are accepted.
    let at_limit = server
        .patch(
            &format!("/api/v1/consultation/{consultation}"),
            &doctor,
            json!({"notes": "n".repeat(100_000)}),
        )
        .await;
    at_limit.expect(200);
    let name = "b".repeat(200);
    let created = server
        .post(
            "/api/v1/patients",
            &doctor,
            patient_with("full_name", json!(name)),
        )
        .await;
    created.expect(201);
    assert_eq!(created.data()["full_name"], name.as_str());
    assert_eq!(Counts::take(&server).await.0[0], before.0[0] + 1);
}

/// The create-patient body with a control character in `field`.
fn patient_with_text(field: &str, text: &str) -> Value {
    match field {
        "alerts[0]" => patient_with("alerts", json!([text])),
        "allergies.items[0].substance" => patient_with(
            "allergies",
            json!({"status": "known", "items": [{"substance": text}]}),
        ),
        "allergies.items[0].reaction" | "allergies.items[0].severity" => {
            let key = field.rsplit('.').next().unwrap();
            let mut item = json!({"substance": "Penicillin"});
            item[key] = json!(text);
            patient_with("allergies", json!({"status": "known", "items": [item]}))
        }
        "symptoms[0].name" => patient_with("symptoms", json!([{"name": text}])),
        "symptoms[0].severity" | "symptoms[0].frequency" | "symptoms[0].notes" => {
            let key = field.rsplit('.').next().unwrap();
            let mut item = json!({"name": "Insomnia"});
            item[key] = json!(text);
            patient_with("symptoms", json!([item]))
        }
        top => patient_with(top, json!(text)),
    }
}

const TEXT_FIELDS: [&str; 13] = [
    "full_name",
    "phone",
    "email",
    "address",
    "referred_by",
    "alerts[0]",
    "allergies.items[0].substance",
    "allergies.items[0].reaction",
    "allergies.items[0].severity",
    "symptoms[0].name",
    "symptoms[0].severity",
    "symptoms[0].frequency",
    "symptoms[0].notes",
];

#[tokio::test]
async fn control_characters_are_refused_in_every_text_field() {
    let World {
        server,
        doctor,
        patient,
        report,
    } = world().await;
    let before = Counts::take(&server).await;
    // Each value is otherwise valid for every field (a phone number with a control inside
    // is refused for the control, and perhaps also for its shape).
    let controls = ["\u{7}", "\u{1b}[31m", "\u{0}", "\u{7f}", "\u{9b}", "\r"];
    for field in TEXT_FIELDS {
        for control in controls {
            let text = match field {
                "phone" => format!("555{control}0100"),
                "email" => format!("ben{control}@example.com"),
                _ => format!("Ben{control}Carter"),
            };
            let reply = server
                .post("/api/v1/patients", &doctor, patient_with_text(field, &text))
                .await;
            assert_field(&reply, field);
            assert!(
                !reply.body.to_string().contains("Ben"),
                "the value is echoed: {:#}",
                reply.body
            );
        }
    }
    // And in the text fields of the other requests.
    let consultation = start_consultation(&server, &doctor, &patient).await;
    let counted = Counts::take(&server).await;
    let id = report["id"].as_str().unwrap();
    let bad = "Low\u{1b}[2Jmood";
    let cases = [
        (
            format!("/api/v1/consultation/{consultation}"),
            Method::PATCH,
            json!({"notes": bad}),
            "notes",
        ),
        (
            format!("/api/v1/consultation/{consultation}/cancel"),
            Method::POST,
            json!({"reason": bad}),
            "reason",
        ),
        (
            format!("/api/v1/reports/{id}"),
            Method::PATCH,
            json!({"version": report["version"], "content": {"history": bad}}),
            "content.history",
        ),
        (
            format!("/api/v1/patients/{patient}"),
            Method::PATCH,
            json!({"address": bad}),
            "address",
        ),
        (
            "/api/v1/patients/search".to_string(),
            Method::GET,
            Value::Null,
            "q",
        ),
    ];
    for (path, method, body, field) in cases {
        let (path, body) = if method == Method::GET {
            (format!("{path}?q=Low%1B%5B2Jmood"), None)
        } else {
            (path, Some(body))
        };
        let reply = server
            .call(method, &path, Some(&doctor.access_token), body)
            .await;
        assert_field(&reply, field);
    }
    let start = server
        .post(
            "/api/v1/consultation/start",
            &doctor,
            json!({"patient_id": patient, "session_type": "follow_up", "chief_complaint": bad}),
        )
        .await;
    assert_field(&start, "chief_complaint");
    assert_eq!(Counts::take(&server).await, counted);
    assert_eq!(before.0[0], counted.0[0]);

    // Newlines and tabs are text, not controls: notes keep them as written.
    let notes = "History:\n\tlow mood\n\tpoor sleep";
    let kept = server
        .patch(
            &format!("/api/v1/consultation/{consultation}"),
            &doctor,
            json!({"notes": notes}),
        )
        .await;
    kept.expect(200);
    let read = server
        .get(&format!("/api/v1/consultation/{consultation}"), &doctor)
        .await;
    assert_eq!(read.data()["notes"], notes);
    let created = server
        .post(
            "/api/v1/patients",
            &doctor,
            patient_with_text("symptoms[0].notes", "worse at night\n\tbetter by day"),
        )
        .await;
    created.expect(201);
    assert_eq!(
        created.data()["symptoms"][0]["notes"],
        "worse at night\n\tbetter by day"
    );
}

#[tokio::test]
async fn search_terms_with_sql_and_wildcards_are_literal_and_stay_with_the_doctor() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let mine = [
        server.patient(&doctor, "Anna Smith").await,
        server.patient(&doctor, "Annabel Jones").await,
        server.patient(&doctor, "Zoe_Lee Park").await,
    ];
    let theirs = [
        server.patient(&other, "Anna Secret").await,
        server.patient(&other, "Robert Tables").await,
    ];
    let before = Counts::take(&server).await;
    let names = |reply: &Reply| -> Vec<String> {
        reply.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["full_name"].as_str().unwrap().to_string())
            .collect()
    };
    let terms = [
        "' OR '1'='1",
        "' OR 1=1 --",
        "Anna' --",
        "\"; DROP TABLE patients; --",
        "Robert'); DROP TABLE patients;--",
        "%",
        "_",
        "e_l",
        "%%",
        "A%",
        "A_na",
        "\\",
        "%' UNION SELECT id, password_hash FROM users --",
        "*",
        "Anna\" OR \"\"=\"",
    ];
    for term in terms {
        let encoded: String = form_urlencoded::byte_serialize(term.as_bytes()).collect();
        for path in [
            format!("/api/v1/patients/search?q={encoded}"),
            format!("/api/v1/patients/list?search={encoded}"),
            format!("/api/v1/patients/search/?q={encoded}&limit=50"),
        ] {
            let reply = server.get(&path, &doctor).await;
            assert_eq!(reply.status.as_u16(), 200, "{path}: {:#}", reply.body);
            let text = reply.body.to_string();
            for id in &theirs {
                assert!(!text.contains(id.as_str()), "{path} leaked {id}: {text}");
            }
            assert!(!text.contains("password_hash") && !text.contains("$argon2"));
            // `%` and `_` are literal: only a name with an underscore matches "e_l". Alone,
            // each is too short for a substring (docs/API.md) and starts no name.
            let found = names(&reply);
            match term {
                "e_l" => assert_eq!(found, ["Zoe_Lee Park"], "{path}"),
                "A_na" | "%" | "_" | "%%" | "A%" | "*" | "\\" => {
                    assert!(found.is_empty(), "{path}: {found:?}")
                }
                _ => {}
            }
        }
    }
    // Plain words still work, and the tables are all there.
    let anna = server.get("/api/v1/patients/search?q=anna", &doctor).await;
    let mut found = names(&anna);
    found.sort();
    assert_eq!(found, ["Anna Smith", "Annabel Jones"]);
    assert_eq!(Counts::take(&server).await, before);
    for id in &mine {
        server
            .get(&format!("/api/v1/patients/{id}"), &doctor)
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn invalid_uuids_in_paths_and_filters_name_the_parameter() {
    let World {
        server,
        doctor,
        report,
        ..
    } = world().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let before = Counts::take(&server).await;
    let report_id = report["id"].as_str().unwrap();
    let doctor_calls: [(Method, String, Option<Value>, &str); 14] = [
        (Method::GET, "/api/v1/patients/nope".into(), None, "id"),
        (Method::GET, "/api/v1/patients/nope/".into(), None, "id"),
        (Method::GET, "/api/v1/patients/12345".into(), None, "id"),
        (
            Method::GET,
            // A UUID with a bad character in it.
            "/api/v1/patients/0192f0c1-7b4e-7c3a-9d2e-4f5a6b7c8d9z".into(),
            None,
            "id",
        ),
        (
            Method::PATCH,
            "/api/v1/patients/nope".into(),
            Some(json!({"phone": "+1 555 0100"})),
            "id",
        ),
        (Method::GET, "/api/v1/consultation/nope".into(), None, "id"),
        (
            Method::POST,
            "/api/v1/consultation/nope/cancel".into(),
            Some(json!({"reason": "gone"})),
            "id",
        ),
        (
            Method::GET,
            "/api/v1/consultation/history/nope".into(),
            None,
            "patient_id",
        ),
        (Method::GET, "/api/v1/reports/nope".into(), None, "id"),
        (
            Method::POST,
            "/api/v1/reports/nope/addenda".into(),
            Some(json!({"text": "late note"})),
            "id",
        ),
        (
            Method::GET,
            "/api/v1/reports/list?patient_id=nope".into(),
            None,
            "patient_id",
        ),
        (
            Method::GET,
            "/api/v1/reports/list?patient_id=".into(),
            None,
            "patient_id",
        ),
        (
            Method::GET,
            "/api/v1/reports/stats?patient_id=nope".into(),
            None,
            "patient_id",
        ),
        (
            Method::GET,
            format!("/api/v1/reports/list?patient_id={report_id}x"),
            None,
            "patient_id",
        ),
    ];
    for (method, path, body, field) in doctor_calls {
        let reply = server
            .call(method, &path, Some(&doctor.access_token), body)
            .await;
        assert_field(&reply, field);
    }
    let admin_calls: [(Method, &str, &str); 6] = [
        (Method::POST, "/api/v1/admin/users/nope/unlock", "id"),
        (Method::POST, "/api/v1/admin/users/nope/disable", "id"),
        (Method::POST, "/api/v1/admin/users/nope/enable", "id"),
        (
            Method::POST,
            "/api/v1/admin/users/nope/revoke-sessions",
            "id",
        ),
        (Method::GET, "/api/v1/admin/audit?user_id=nope", "user_id"),
        (
            Method::GET,
            "/api/v1/admin/audit?patient_id=nope",
            "patient_id",
        ),
    ];
    for (method, path, field) in admin_calls {
        let reply = server
            .call(method, path, Some(&admin.access_token), None)
            .await;
        assert_field(&reply, field);
    }
    assert_eq!(Counts::take(&server).await, before);
}

#[tokio::test]
async fn invalid_cursors_are_refused_as_cursor() {
    let World { server, doctor, .. } = world().await;
    server.patient(&doctor, "Ben Carter").await;
    server.patient(&doctor, "Cara Diaz").await;
    let before = Counts::take(&server).await;

    let first = server.get("/api/v1/patients/list?limit=1", &doctor).await;
    first.expect(200);
    let real = first.data()["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&real).unwrap()).unwrap();
    let mut other_scope = decoded.clone();
    other_scope["s"] = json!("audit");
    let mut bad_id = decoded.clone();
    bad_id["i"] = json!("1 OR 1=1");
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let cursors = [
        "garbage".to_string(),
        "!!!!".to_string(),
        "%00".to_string(),
        URL_SAFE_NO_PAD.encode(b"{\"page\":2}"),
        URL_SAFE_NO_PAD.encode(b"[1,2,3]"),
        URL_SAFE_NO_PAD.encode(b"not json at all"),
        encode(&other_scope),
        encode(&bad_id),
        "A".repeat(600),
        String::new(),
    ];
    for cursor in &cursors {
        let encoded: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
        for path in [
            format!("/api/v1/patients/list?cursor={encoded}"),
            format!("/api/v1/patients/list?sort=name&cursor={encoded}"),
            format!("/api/v1/reports/list?cursor={encoded}"),
        ] {
            let reply = server.get(&path, &doctor).await;
            assert_field(&reply, "cursor");
        }
    }
    // A cursor of one sort is refused by another, and offset and cursor do not mix.
    let by_name = server
        .get(
            &format!("/api/v1/patients/list?sort=name&cursor={real}"),
            &doctor,
        )
        .await;
    assert_field(&by_name, "cursor");
    let both = server
        .get(
            &format!("/api/v1/patients/list?offset=1&cursor={real}"),
            &doctor,
        )
        .await;
    assert_field(&both, "cursor");
    // The real cursor still works.
    server
        .get(
            &format!("/api/v1/patients/list?limit=1&cursor={real}"),
            &doctor,
        )
        .await
        .expect(200);

    // A cursor that decodes, of the right list, with SQL in its key is only a key.
    let mut sql_key = decoded.clone();
    sql_key["k"] = json!("x') OR 1=1 --");
    let reply = server
        .get(
            &format!("/api/v1/patients/list?cursor={}", encode(&sql_key)),
            &doctor,
        )
        .await;
    assert!(
        reply.status.as_u16() == 200 || reply.status.as_u16() == 422,
        "{:#}",
        reply.body
    );
    if reply.status.is_client_error() {
        assert_field(&reply, "cursor");
    }
    assert_eq!(Counts::take(&server).await, before);
}

#[tokio::test]
async fn out_of_range_limits_and_offsets_name_the_parameter() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let before = Counts::take(&server).await;
    let limits = ["-1", "0", "101", "99999999999999999999", "ten", "1.5", ""];
    let offsets = ["-5", "99999999999999999999", "10000001", "x"];
    let lists = [
        "/api/v1/patients/list".to_string(),
        "/api/v1/reports/list".to_string(),
        format!("/api/v1/consultation/history/{patient}"),
    ];
    for list in &lists {
        for limit in limits {
            let reply = server.get(&format!("{list}?limit={limit}"), &doctor).await;
            assert_field(&reply, "limit");
        }
        for offset in offsets {
            let reply = server
                .get(&format!("{list}?offset={offset}"), &doctor)
                .await;
            assert_field(&reply, "offset");
        }
        server
            .get(&format!("{list}?limit=100&offset=0"), &doctor)
            .await
            .expect(200);
    }
    for list in ["/api/v1/admin/users", "/api/v1/admin/audit"] {
        for limit in limits {
            let reply = server.get(&format!("{list}?limit={limit}"), &admin).await;
            assert_field(&reply, "limit");
        }
        for offset in offsets {
            let reply = server.get(&format!("{list}?offset={offset}"), &admin).await;
            assert_field(&reply, "offset");
        }
    }
    // Search has its own range, 1–50.
    for limit in ["-1", "0", "51", "99999999999999999999"] {
        let reply = server
            .get(
                &format!("/api/v1/patients/search?q=anna&limit={limit}"),
                &doctor,
            )
            .await;
        assert_field(&reply, "limit");
    }
    server
        .get("/api/v1/patients/search?q=anna&limit=50", &doctor)
        .await
        .expect(200);
    for q in ["", "%20%20", &"a".repeat(101)] {
        let reply = server
            .get(&format!("/api/v1/patients/search?q={q}"), &doctor)
            .await;
        assert_field(&reply, "q");
    }
    // Statistics take 1–366 days.
    for days in ["-1", "0", "367", "99999999999999999999", "week"] {
        let reply = server
            .get(&format!("/api/v1/reports/stats?days={days}"), &doctor)
            .await;
        assert_field(&reply, "days");
    }
    assert_eq!(Counts::take(&server).await, before);
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let World {
        server,
        doctor,
        patient,
        report,
    } = world().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let before = Counts::take(&server).await;
    let doctor_calls = [
        ("/api/v1/patients/list?colour=red".to_string(), "colour"),
        ("/api/v1/patients/list?limit=5&page=2".to_string(), "page"),
        (
            "/api/v1/patients/search?q=anna&fuzzy=1".to_string(),
            "fuzzy",
        ),
        ("/api/v1/reports/list?sort=name".to_string(), "sort"),
        ("/api/v1/reports/stats?day=3".to_string(), "day"),
        (
            format!("/api/v1/consultation/history/{patient}?cursor=abc"),
            "cursor",
        ),
    ];
    for (path, field) in doctor_calls {
        let reply = server.get(&path, &doctor).await;
        assert_field(&reply, field);
    }
    for (path, field) in [
        ("/api/v1/admin/users?role=doctor", "role"),
        ("/api/v1/admin/audit?result=denied", "result"),
    ] {
        let reply = server.get(path, &admin).await;
        assert_field(&reply, field);
    }
    // Endpoints without parameters refuse any, before doing anything.
    let report_id = report["id"].as_str().unwrap();
    for (method, path, body, field) in [
        (
            Method::GET,
            format!("/api/v1/patients/{patient}?expand=all"),
            None,
            "expand",
        ),
        (Method::GET, "/api/v1/auth/me?x=1".to_string(), None, "x"),
        (
            Method::GET,
            "/api/v1/consultation/active?limit=5".to_string(),
            None,
            "limit",
        ),
        (
            Method::GET,
            format!("/api/v1/reports/{report_id}?version=1"),
            None,
            "version",
        ),
        (
            Method::POST,
            "/api/v1/patients?doctor_id=x".to_string(),
            Some(valid_patient()),
            "doctor_id",
        ),
        (
            Method::PATCH,
            format!("/api/v1/patients/{patient}?dry_run=true"),
            Some(json!({"phone": "+1 555 0100"})),
            "dry_run",
        ),
        (
            Method::POST,
            "/api/v1/consultation/start?session_type=follow_up".to_string(),
            Some(json!({"patient_id": patient, "session_type": "follow_up"})),
            "session_type",
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{report_id}/sign?password=x"),
            Some(json!({"password": common::PASSWORD, "version": 1})),
            "password",
        ),
    ] {
        let reply = server
            .call(method, &path, Some(&doctor.access_token), body)
            .await;
        assert_field(&reply, field);
    }
    let login = server
        .call(
            Method::POST,
            "/api/v1/auth/login?remember=1",
            None,
            Some(json!({"email": "doc@clinic.test", "password": common::PASSWORD})),
        )
        .await;
    assert_field(&login, "remember");
    let create_user = server
        .call(
            Method::POST,
            "/api/v1/admin/users?notify=1",
            Some(&admin.access_token),
            Some(json!({
                "email": "new@clinic.test",
                "full_name": "New Colleague",
                "role": "doctor",
                "password": "a-long-enough-password",
            })),
        )
        .await;
    assert_field(&create_user, "notify");
    // Nothing was changed by the refused calls.
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert_eq!(chart.data()["phone"], Value::Null);
    let draft = server
        .get(&format!("/api/v1/reports/{report_id}"), &doctor)
        .await;
    assert_eq!(draft.data()["status"], "completed");
    // An empty query string is no parameter at all.
    server
        .get(&format!("/api/v1/patients/{patient}?"), &doctor)
        .await
        .expect(200);

    // Enumerated parameters refuse values they do not know.
    for (path, field) in [
        ("/api/v1/patients/list?sort=age", "sort"),
        ("/api/v1/reports/list?status=draft", "status"),
        ("/api/v1/reports/list?session_type=lunch", "session_type"),
    ] {
        let reply = server.get(path, &doctor).await;
        assert_field(&reply, field);
    }
    assert_eq!(Counts::take(&server).await, before);
}

#[tokio::test]
async fn dates_of_birth_must_be_real_past_dates_from_1900() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let before = Counts::take(&server).await;
    let today = Utc::now().date_naive();
    let dates = [
        (today + Duration::days(2)).to_string(),
        (today + Duration::days(400)).to_string(),
        "2999-01-01".to_string(),
        "1899-12-31".to_string(),
        "0001-01-01".to_string(),
        "2026-02-30".to_string(),
        "1980-13-01".to_string(),
        "1980-02-03T00:00:00Z".to_string(),
        "03/02/1980".to_string(),
        // Without leading zeros: 2 March or 3 February? Only YYYY-MM-DD is read.
        "1980-2-3".to_string(),
        "1980-02-3".to_string(),
        "yesterday".to_string(),
    ];
    for date in &dates {
        let reply = server
            .post(
                "/api/v1/patients",
                &doctor,
                patient_with("date_of_birth", json!(date)),
            )
            .await;
        assert_field(&reply, "date_of_birth");
        let reply = server
            .patch(
                &format!("/api/v1/patients/{patient}"),
                &doctor,
                json!({"date_of_birth": date}),
            )
            .await;
        assert_field(&reply, "date_of_birth");
    }
    // Dates in report filters and audit bounds are checked too.
    for (path, field) in [
        ("/api/v1/reports/list?date_from=2026-02-30", "date_from"),
        ("/api/v1/reports/list?date_to=tomorrow", "date_to"),
        ("/api/v1/reports/list?date_from=2026-3-1", "date_from"),
        (
            "/api/v1/reports/list?date_from=2026-03-01&date_to=2026-02-01",
            "date_to",
        ),
    ] {
        assert_field(&server.get(path, &doctor).await, field);
    }
    assert_eq!(Counts::take(&server).await, before);
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    assert_eq!(chart.data()["date_of_birth"], "1980-02-03");
    // 1900-01-01 itself is allowed.
    server
        .post(
            "/api/v1/patients",
            &doctor,
            patient_with("date_of_birth", json!("1900-01-01")),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn oversized_bodies_and_other_media_types_are_refused() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let consultation = start_consultation(&server, &doctor, &patient).await;
    let before = Counts::take(&server).await;
    let token = Some(doctor.access_token.as_str());

    // Over 1 MiB: 413, whatever the endpoint.
    let huge = serde_json::to_vec(&json!({"notes": "n".repeat(1024 * 1024)})).unwrap();
    let reply = server
        .call_raw(
            Method::PATCH,
            &format!("/api/v1/consultation/{consultation}"),
            token,
            Some("application/json"),
            huge.clone(),
        )
        .await;
    assert_envelope(&reply, 413, "PAYLOAD_TOO_LARGE");
    let mut big_patient = valid_patient();
    big_patient["address"] = json!("a".repeat(1024 * 1024 + 10));
    let reply = server.post("/api/v1/patients", &doctor, big_patient).await;
    assert_envelope(&reply, 413, "PAYLOAD_TOO_LARGE");

    // JSON sent as something else: 415.
    let body = serde_json::to_vec(&valid_patient()).unwrap();
    for content_type in [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
        None,
    ] {
        let reply = server
            .call_raw(
                Method::POST,
                "/api/v1/patients",
                token,
                content_type,
                body.clone(),
            )
            .await;
        assert_envelope(&reply, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let form = server
        .call_raw(
            Method::POST,
            "/api/v1/patients",
            token,
            Some("application/x-www-form-urlencoded"),
            b"full_name=Ben+Carter&date_of_birth=1980-02-03&sex=male".to_vec(),
        )
        .await;
    assert_envelope(&form, 415, "UNSUPPORTED_MEDIA_TYPE");
    let login = server
        .call_raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some("text/plain"),
            br#"{"email":"doc@clinic.test","password":"correct-horse-battery"}"#.to_vec(),
        )
        .await;
    assert_envelope(&login, 415, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(Counts::take(&server).await, before);
    let running = server
        .get(&format!("/api/v1/consultation/{consultation}"), &doctor)
        .await;
    assert_ne!(
        running.data()["notes"].as_str().map(str::len),
        Some(huge.len())
    );

    // JSON with a charset parameter is JSON.
    server
        .call_raw(
            Method::POST,
            "/api/v1/patients",
            token,
            Some("application/json; charset=utf-8"),
            body,
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn a_report_edit_with_a_bad_nested_field_names_it_and_changes_nothing() {
    let World {
        server,
        doctor,
        report,
        ..
    } = world().await;
    let id = report["id"].as_str().unwrap();
    let version = report["version"].as_u64().unwrap();
    let path = format!("/api/v1/reports/{id}");
    let before = Counts::take(&server).await;
    let cases = [
        (
            json!({"diagnoses": [{"code": "F32.1"}]}),
            "content.diagnoses[0].description",
        ),
        (
            json!({"diagnoses": [{"code": "F32.1", "description": "Depression"}, {"description": ""}]}),
            "content.diagnoses[1].description",
        ),
        (
            json!({"diagnoses": [{"description": 5}]}),
            "content.diagnoses[0].description",
        ),
        (
            json!({"diagnoses": [{"description": "x", "severity": "high"}]}),
            "content.diagnoses[0].severity",
        ),
        (
            json!({"medication_plan": [{"dosage": "50 mg"}]}),
            "content.medication_plan[0].drug",
        ),
        (
            json!({"recommendations": ["Rest", "   "]}),
            "content.recommendations[1]",
        ),
        (json!({"history": ["a"]}), "content.history"),
        (json!("just text"), "content"),
    ];
    for (content, field) in cases {
        let reply = server
            .patch(
                &path,
                &doctor,
                json!({"version": version, "content": content}),
            )
            .await;
        assert_field(&reply, field);
    }
    let missing_version = server
        .patch(&path, &doctor, json!({"content": {"history": "x"}}))
        .await;
    assert_field(&missing_version, "version");
    let negative_version = server
        .patch(
            &path,
            &doctor,
            json!({"version": -1, "content": {"history": "x"}}),
        )
        .await;
    assert_field(&negative_version, "version");
    assert_eq!(Counts::take(&server).await, before);
    let after = server.get(&path, &doctor).await;
    assert_eq!(after.data()["version"], report["version"]);
    assert_eq!(after.data()["content"], report["content"]);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_envelope() {
    let World {
        server,
        doctor,
        patient,
        ..
    } = world().await;
    let before = Counts::take(&server).await;
    let token = Some(doctor.access_token.as_str());
    for (method, path) in [
        (Method::GET, "/api/v1/nothing".to_string()),
        (Method::GET, "/api/v2/patients/list".to_string()),
        (Method::POST, "/api/v1/patients/list/extra".to_string()),
        (Method::GET, format!("/api/v1/patients/{patient}/chart")),
        (Method::DELETE, "/nope".to_string()),
        (Method::GET, "/".to_string()),
    ] {
        for token in [token, None] {
            let reply = server.call(method.clone(), &path, token, None).await;
            assert_envelope(&reply, 404, "NOT_FOUND");
        }
    }
    for (method, path) in [
        (Method::DELETE, format!("/api/v1/patients/{patient}")),
        (Method::PUT, "/api/v1/patients".to_string()),
        (Method::GET, "/api/v1/auth/login".to_string()),
        (Method::POST, "/api/v1/patients/list".to_string()),
        (Method::PATCH, "/health".to_string()),
        (Method::DELETE, "/api/v1/reports/list/".to_string()),
    ] {
        let reply = server
            .call(method.clone(), &path, token, Some(json!({})))
            .await;
        assert_envelope(&reply, 405, "METHOD_NOT_ALLOWED");
    }
    // The server's own request id answers these too, whatever id the client sent.
    let reply = server
        .http
        .delete(format!("{}/api/v1/patients/{patient}", server.base))
        .header("x-request-id", "trace-405.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 405);
    let own = reply.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(own, "trace-405.a_b");
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["request_id"], own.as_str());
    let reply = server
        .http
        .get(format!("{}/api/v1/nothing", server.base))
        .header("x-request-id", "trace-404")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 404);
    assert_ne!(reply.headers()["x-request-id"], "trace-404");
    assert_eq!(Counts::take(&server).await, before);
    server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_key_given_twice_is_refused_naming_the_field() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let body = br#"{"full_name":"Clara Oswald","full_name":"Someone Else","date_of_birth":"1980-02-03","sex":"female"}"#;
    let reply = server
        .call_raw(
            Method::POST,
            "/api/v1/patients",
            Some(&doctor.access_token),
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert_eq!(
        reply.body["error"]["details"]["fields"][0]["field"],
        "full_name"
    );
    let login = server
        .call_raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some("application/json"),
            br#"{"email":"doc@clinic.test","password":"x","password":"y"}"#.to_vec(),
        )
        .await;
    login.expect_error(422, "VALIDATION_ERROR");
    assert_eq!(
        login.body["error"]["details"]["fields"][0]["field"],
        "password"
    );
}

#[tokio::test]
async fn bidirectional_controls_are_refused_like_other_control_characters() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for control in ['\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}'] {
        let reply = server
            .post(
                "/api/v1/patients",
                &doctor,
                json!({"full_name": format!("Clara {control}dlawsO"), "date_of_birth": "1980-02-03", "sex": "female"}),
            )
            .await;
        reply.expect_error(422, "VALIDATION_ERROR");
        assert_eq!(
            reply.body["error"]["details"]["fields"][0]["field"],
            "full_name"
        );
    }
}

#[tokio::test]
async fn new_passwords_must_be_long_and_not_common() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for weak in [
        "12345678",
        "password123",
        "password1234",
        "123456789012",
        "aaaaaaaaaaaaaa",
    ] {
        let change = server
            .post(
                "/api/v1/auth/change-password",
                &doctor,
                json!({"current_password": common::PASSWORD, "new_password": weak}),
            )
            .await;
        change.expect_error(422, "VALIDATION_ERROR");
        assert_eq!(
            change.body["error"]["details"]["fields"][0]["field"], "new_password",
            "{weak}"
        );
        let create = server
            .post(
                "/api/v1/admin/users",
                &admin,
                json!({"email": "new@clinic.test", "full_name": "New Doctor", "role": "doctor", "password": weak}),
            )
            .await;
        create.expect_error(422, "VALIDATION_ERROR");
        let reset = server
            .post(
                &format!("/api/v1/admin/users/{}/reset-password", doctor.user_id),
                &admin,
                json!({"password": weak}),
            )
            .await;
        reset.expect_error(422, "VALIDATION_ERROR");
    }
    server
        .post(
            "/api/v1/auth/change-password",
            &doctor,
            json!({"current_password": common::PASSWORD, "new_password": "amber lantern orbit"}),
        )
        .await
        .expect(200);
}
