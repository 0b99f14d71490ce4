//! The patient endpoints over HTTP: registration and the chart's shape, updates, the list with
//! its sorts and its offset and cursor pages, the ranked search, what a receptionist may do, and
//! that every doctor sees only their own patients.

mod common;

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use common::{Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;

// ---------------------------------------------------------------------------------------------
// helpers

/// Percent-encodes a query value (everything but the unreserved characters).
fn enc(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn error_fields(reply: &Reply) -> Vec<String> {
    reply.body["error"]["details"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[track_caller]
fn expect_field_error(reply: &Reply, field: &str) {
    reply.expect_error(422, "VALIDATION_ERROR");
    let fields = error_fields(reply);
    assert!(
        fields.iter().any(|f| f == field),
        "expected field {field:?} in {:#}",
        reply.body
    );
    assert!(reply.body["error"]["details"].is_object());
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items array")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

fn names(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items array")
        .iter()
        .map(|p| p["full_name"].as_str().unwrap().to_string())
        .collect()
}

fn parse_time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    assert!(text.ends_with('Z'), "not UTC with Z: {text}");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text}"))
        .with_timezone(&Utc)
}

fn age_today(date_of_birth: NaiveDate) -> i64 {
    let today = Utc::now().date_naive();
    let mut age = i64::from(today.year() - date_of_birth.year());
    if (today.month(), today.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

async fn create(server: &TestServer, session: &Session, body: Value) -> Reply {
    server.post("/api/v1/patients", session, body).await
}

/// Registers a patient with the given name and extra fields; returns the chart.
async fn register(server: &TestServer, session: &Session, name: &str, extra: Value) -> Value {
    let mut body = json!({"full_name": name, "date_of_birth": "1980-02-03", "sex": "female"});
    for (k, v) in extra.as_object().expect("extra fields") {
        body[k] = v.clone();
    }
    let reply = create(server, session, body).await;
    reply.expect(201);
    reply.data().clone()
}

/// Starts a consultation (which sets the patient's `last_visit_at`); returns its `started_at`.
async fn visit(server: &TestServer, session: &Session, patient_id: &str) -> DateTime<Utc> {
    let reply = server
        .post(
            "/api/v1/consultation/start",
            session,
            json!({"patient_id": patient_id, "session_type": "follow_up", "chief_complaint": "Review"}),
        )
        .await;
    reply.expect(201);
    parse_time(&reply.data()["started_at"])
}

/// Waits (bounded) until the millisecond clock has moved past `after`, so the next stamp differs.
async fn clock_past(after: DateTime<Utc>) {
    for _ in 0..500 {
        if Utc::now().timestamp_millis() > after.timestamp_millis() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("the clock did not move past {after}");
}

async fn search(server: &TestServer, session: &Session, q: &str) -> Vec<String> {
    let reply = server
        .get(&format!("/api/v1/patients/search/?q={}", enc(q)), session)
        .await;
    reply.expect(200);
    assert_eq!(
        reply.data()["count"].as_u64().unwrap() as usize,
        reply.data()["items"].as_array().unwrap().len()
    );
    names(&reply.data()["items"])
}

/// Walks a list by cursors from the first page; returns every item, checking each page's
/// pagination on the way.
async fn walk(server: &TestServer, session: &Session, query: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = None;
    for _ in 0..100 {
        let path = match &cursor {
            None => format!("/api/v1/patients/list/?limit={limit}{query}"),
            Some(c) => format!(
                "/api/v1/patients/list/?limit={limit}&cursor={}{query}",
                enc(c)
            ),
        };
        let reply = server.get(&path, session).await;
        reply.expect(200);
        let page = reply.data();
        let pagination = &page["pagination"];
        let got = page["items"].as_array().unwrap();
        let page_total = pagination["total"].as_u64().unwrap() as usize;
        if let Some(total) = total {
            assert_eq!(page_total, total, "total changed between pages");
        }
        total = Some(page_total);
        assert_eq!(pagination["limit"], limit as u64);
        assert_eq!(
            pagination["offset"].as_u64().unwrap() as usize,
            items.len(),
            "offset of a cursor page is the number of rows before it"
        );
        assert!(got.len() <= limit);
        items.extend(got.iter().cloned());
        let has_more = pagination["has_more"].as_bool().unwrap();
        assert_eq!(has_more, items.len() < page_total, "{pagination:#}");
        if has_more {
            assert_eq!(got.len(), limit, "a page before the last is full");
            cursor = Some(
                pagination["next_cursor"]
                    .as_str()
                    .expect("next_cursor while more follow")
                    .to_string(),
            );
        } else {
            assert!(pagination["next_cursor"].is_null(), "{pagination:#}");
            assert_eq!(items.len(), page_total);
            return items;
        }
    }
    panic!("the cursor walk did not end");
}

const CHART_KEYS: [&str; 20] = [
    "id",
    "mrn",
    "full_name",
    "date_of_birth",
    "age",
    "sex",
    "phone",
    "email",
    "last_visit_at",
    "active_consultation_id",
    "doctor",
    "address",
    "referred_by",
    "illness_duration",
    "allergies",
    "alerts",
    "symptoms",
    "consultation_count",
    "created_at",
    "updated_at",
];

const SUMMARY_KEYS: [&str; 11] = [
    "id",
    "mrn",
    "full_name",
    "date_of_birth",
    "age",
    "sex",
    "phone",
    "email",
    "last_visit_at",
    "active_consultation_id",
    "doctor",
];

fn keys(value: &Value) -> HashSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn chart_keys() -> HashSet<String> {
    CHART_KEYS.iter().map(|k| k.to_string()).collect()
}

fn summary_keys() -> HashSet<String> {
    SUMMARY_KEYS.iter().map(|k| k.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// create and get

#[tokio::test]
async fn a_new_patient_answers_201_with_the_full_chart_and_defaults() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let before = Utc::now();
    let reply = create(
        &server,
        &doctor,
        json!({"full_name": "   Anna Smith  ", "date_of_birth": "1980-02-03", "sex": "female"}),
    )
    .await;
    reply.expect(201);
    assert_eq!(reply.body["status"], "success");
    let p = reply.data();
    assert_eq!(keys(p), chart_keys(), "{p:#}");

    let id = p["id"].as_str().unwrap();
    uuid::Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(p["mrn"], "MRN-000001");
    assert_eq!(p["full_name"], "Anna Smith", "the name is trimmed");
    assert_eq!(p["date_of_birth"], "1980-02-03");
    assert_eq!(
        p["age"].as_i64().unwrap(),
        age_today(NaiveDate::from_ymd_opt(1980, 2, 3).unwrap())
    );
    assert_eq!(p["sex"], "female");
    for absent in [
        "phone",
        "email",
        "address",
        "referred_by",
        "illness_duration",
        "last_visit_at",
        "active_consultation_id",
    ] {
        assert!(p[absent].is_null(), "{absent} should be null: {p:#}");
    }
    assert_eq!(
        p["allergies"],
        json!({"status": "not_recorded", "items": []})
    );
    assert_eq!(p["alerts"], json!([]));
    assert_eq!(p["symptoms"], json!([]));
    assert_eq!(p["consultation_count"], 0);
    let created = parse_time(&p["created_at"]);
    let updated = parse_time(&p["updated_at"]);
    assert_eq!(created, updated);
    let after = Utc::now();
    assert!(
        created.timestamp_millis() >= before.timestamp_millis()
            && created.timestamp_millis() <= after.timestamp_millis(),
        "created_at {created} is not the time of the request"
    );

    // The chart reads back the same.
    let got = server.get(&format!("/api/v1/patients/{id}"), &doctor).await;
    got.expect(200);
    assert_eq!(got.data(), p);

    // The patient is in the database once, owned by the doctor.
    let count = server.sql_count("SELECT COUNT(*) FROM patients", &[]).await;
    let owner = server
        .sql_text("SELECT MAX(CAST(doctor_id AS TEXT)) FROM patients", &[])
        .await
        .unwrap();
    assert_eq!((count, owner.as_str()), (1, doctor.user_id.as_str()));
}

#[tokio::test]
async fn every_optional_field_round_trips_through_create_and_get() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let body = json!({
        "full_name": "Ravi Kumar",
        "date_of_birth": "1975-12-31",
        "sex": "male",
        "phone": "+91 98765 43210",
        "email": "Ravi.Kumar@Example.com",
        "address": "12 MG Road\nBengaluru",
        "referred_by": "Dr. Iyer",
        "illness_duration": {"value": 3, "unit": "weeks"},
        "allergies": {"status": "known", "items": [
            {"substance": "Penicillin", "reaction": "Rash", "severity": "moderate"},
            {"substance": "Peanuts", "reaction": null, "severity": null}
        ]},
        "alerts": ["Suicide risk: review each visit", "Hard of hearing"],
        "symptoms": [
            {"name": "Low mood", "severity": "moderate", "frequency": "daily",
             "duration": {"value": 3, "unit": "weeks"}, "notes": "Worse in the mornings"},
            {"name": "Insomnia", "severity": null, "frequency": null, "duration": null, "notes": null}
        ]
    });
    let reply = create(&server, &doctor, body.clone()).await;
    reply.expect(201);
    let p = reply.data().clone();
    for field in [
        "full_name",
        "date_of_birth",
        "sex",
        "phone",
        "email",
        "address",
        "referred_by",
        "illness_duration",
        "allergies",
        "alerts",
        "symptoms",
    ] {
        assert_eq!(p[field], body[field], "{field} did not round-trip");
    }
    assert_eq!(
        p["age"].as_i64().unwrap(),
        age_today(NaiveDate::from_ymd_opt(1975, 12, 31).unwrap())
    );
    let got = server
        .get(
            &format!("/api/v1/patients/{}", p["id"].as_str().unwrap()),
            &doctor,
        )
        .await;
    got.expect(200);
    assert_eq!(got.data(), &p);

    // Optional fields sent only partly (symptom without the optional keys) come back as null.
    let sparse = register(
        &server,
        &doctor,
        "Sparse Symptoms",
        json!({"symptoms": [{"name": "Headache"}], "allergies": {"status": "none_known"}}),
    )
    .await;
    assert_eq!(
        sparse["symptoms"],
        json!([{"name": "Headache", "severity": null, "frequency": null, "duration": null, "notes": null}])
    );
    assert_eq!(
        sparse["allergies"],
        json!({"status": "none_known", "items": []})
    );
}

#[tokio::test]
async fn empty_optional_text_is_stored_as_null_never_as_an_empty_string() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let p = register(
        &server,
        &doctor,
        "Blank Fields",
        json!({"phone": "", "email": "  ", "address": "   ", "referred_by": ""}),
    )
    .await;
    for field in ["phone", "email", "address", "referred_by"] {
        assert!(p[field].is_null(), "{field}: {p:#}");
    }
    // ...and in the list rows too.
    let list = server.get("/api/v1/patients/list/", &doctor).await;
    list.expect(200);
    let row = &list.data()["items"][0];
    assert_eq!(keys(row), summary_keys(), "{row:#}");
    assert!(row["phone"].is_null() && row["email"].is_null());
}

#[tokio::test]
async fn mrns_count_up_across_doctors_and_stay_unique() {
    let server = TestServer::start().await;
    let first = server.login_new("doc1@clinic.test", Role::Doctor).await;
    let second = server.login_new("doc2@clinic.test", Role::Doctor).await;
    let mut mrns = Vec::new();
    for i in 0..4 {
        let doctor = if i % 2 == 0 { &first } else { &second };
        let p = register(&server, doctor, &format!("Patient {i}"), json!({})).await;
        mrns.push(p["mrn"].as_str().unwrap().to_string());
    }
    assert_eq!(
        mrns,
        ["MRN-000001", "MRN-000002", "MRN-000003", "MRN-000004"]
    );
}

#[tokio::test]
async fn invalid_registrations_are_refused_naming_each_field() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let tomorrow = (Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let today = Utc::now().date_naive().to_string();
    let base = json!({"full_name": "Anna Smith", "date_of_birth": "1980-02-03", "sex": "female"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (without("full_name"), "full_name"),
        (without("date_of_birth"), "date_of_birth"),
        (without("sex"), "sex"),
        (with("full_name", json!("   ")), "full_name"),
        (with("full_name", json!("Anna\u{7}Smith")), "full_name"),
        (with("full_name", json!("x".repeat(201))), "full_name"),
        (with("date_of_birth", json!(tomorrow)), "date_of_birth"),
        (with("date_of_birth", json!(today)), "date_of_birth"),
        (with("date_of_birth", json!("1899-12-31")), "date_of_birth"),
        (with("date_of_birth", json!("03/02/1980")), "date_of_birth"),
        (with("sex", json!("f")), "sex"),
        (with("phone", json!("call me")), "phone"),
        (with("phone", json!("12")), "phone"),
        (with("email", json!("not-an-email")), "email"),
        (
            with("illness_duration", json!({"value": 0, "unit": "weeks"})),
            "illness_duration",
        ),
        (
            with(
                "allergies",
                json!({"status": "known", "items": [{"substance": " "}]}),
            ),
            "allergies.items[0].substance",
        ),
        (with("alerts", json!(["ok", ""])), "alerts[1]"),
        (with("symptoms", json!([{"name": ""}])), "symptoms[0].name"),
        (with("nickname", json!("Annie")), "nickname"),
    ];
    for (body, field) in cases {
        let reply = create(&server, &doctor, body.clone()).await;
        assert_eq!(
            reply.status.as_u16(),
            422,
            "expected 422 for {body}: {:#}",
            reply.body
        );
        assert_eq!(reply.code(), "VALIDATION_ERROR");
        let fields = error_fields(&reply);
        assert!(
            fields
                .iter()
                .any(|f| f == field || (field == "nickname" && f == "body")),
            "expected field {field:?} for {body}: {:#}",
            reply.body
        );
    }
    // Nothing was stored.
    let count = server.sql_count("SELECT COUNT(*) FROM patients", &[]).await;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_patient_born_1900_01_01_or_yesterday_is_accepted() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let yesterday = Utc::now().date_naive() - chrono::Duration::days(1);
    let baby = register(
        &server,
        &doctor,
        "Newborn",
        json!({"date_of_birth": yesterday.to_string(), "sex": "unknown"}),
    )
    .await;
    assert_eq!(baby["age"], 0);
    assert_eq!(baby["sex"], "unknown");
    let old = register(
        &server,
        &doctor,
        "Very Old",
        json!({"date_of_birth": "1900-01-01", "sex": "other"}),
    )
    .await;
    assert_eq!(
        old["age"].as_i64().unwrap(),
        age_today(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap())
    );
}

// ---------------------------------------------------------------------------------------------
// update

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_moves_updated_at() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let original = register(
        &server,
        &doctor,
        "Anna Smith",
        json!({
            "phone": "+91 98765 43210",
            "email": "anna@example.com",
            "address": "1 Lake View",
            "referred_by": "Dr. Rao",
            "illness_duration": {"value": 2, "unit": "months"},
            "allergies": {"status": "known", "items": [{"substance": "Sulfa", "reaction": "Hives", "severity": "mild"}]},
            "alerts": ["Falls risk"],
            "symptoms": [{"name": "Anxiety", "severity": "mild", "frequency": null, "duration": null, "notes": null}]
        }),
    )
    .await;
    let id = original["id"].as_str().unwrap();
    let path = format!("/api/v1/patients/{id}");
    clock_past(parse_time(&original["updated_at"])).await;

    let reply = server
        .patch(&path, &doctor, json!({"address": "  22 Hill Road  "}))
        .await;
    reply.expect(200);
    let changed = reply.data().clone();
    assert_eq!(changed["address"], "22 Hill Road");
    for field in [
        "id",
        "mrn",
        "full_name",
        "date_of_birth",
        "age",
        "sex",
        "phone",
        "email",
        "referred_by",
        "illness_duration",
        "allergies",
        "alerts",
        "symptoms",
        "consultation_count",
        "created_at",
        "last_visit_at",
        "active_consultation_id",
    ] {
        assert_eq!(changed[field], original[field], "{field} changed");
    }
    assert!(parse_time(&changed["updated_at"]) > parse_time(&original["updated_at"]));

    // null clears an optional field; the other fields stay.
    let cleared = server.patch(&path, &doctor, json!({"phone": null})).await;
    cleared.expect(200);
    assert!(cleared.data()["phone"].is_null());
    assert_eq!(cleared.data()["email"], "anna@example.com");
    assert_eq!(cleared.data()["address"], "22 Hill Road");
    // ...and the phone no longer finds the patient.
    assert!(search(&server, &doctor, "98765").await.is_empty());

    // Several fields at once, including the lists and nulls for the structured ones.
    let many = server
        .patch(
            &path,
            &doctor,
            json!({
                "full_name": " Anna Smith-Rao ",
                "date_of_birth": "1981-03-04",
                "sex": "other",
                "illness_duration": null,
                "allergies": {"status": "none_known", "items": []},
                "alerts": [],
                "symptoms": [],
                "email": null
            }),
        )
        .await;
    many.expect(200);
    let m = many.data();
    assert_eq!(m["full_name"], "Anna Smith-Rao");
    assert_eq!(m["date_of_birth"], "1981-03-04");
    assert_eq!(
        m["age"].as_i64().unwrap(),
        age_today(NaiveDate::from_ymd_opt(1981, 3, 4).unwrap())
    );
    assert_eq!(m["sex"], "other");
    assert!(m["illness_duration"].is_null() && m["email"].is_null());
    assert_eq!(m["allergies"], json!({"status": "none_known", "items": []}));
    assert_eq!(m["alerts"], json!([]));
    assert_eq!(m["symptoms"], json!([]));
    assert_eq!(m["referred_by"], "Dr. Rao");
    assert_eq!(m["mrn"], original["mrn"]);
    assert_eq!(m["created_at"], original["created_at"]);

    // Search follows the new name.
    assert_eq!(
        search(&server, &doctor, "smith-rao").await,
        ["Anna Smith-Rao"]
    );

    // The chart reads back as the last PATCH answered.
    let got = server.get(&path, &doctor).await;
    got.expect(200);
    assert_eq!(got.data(), m);
}

#[tokio::test]
async fn invalid_patches_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let original = register(&server, &doctor, "Anna Smith", json!({"phone": "12345"})).await;
    let path = format!("/api/v1/patients/{}", original["id"].as_str().unwrap());

    expect_field_error(&server.patch(&path, &doctor, json!({})).await, "body");
    let tomorrow = (Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    for (body, field) in [
        (json!({"full_name": "  "}), "full_name"),
        (json!({"date_of_birth": tomorrow}), "date_of_birth"),
        (json!({"phone": "phone me"}), "phone"),
        (json!({"email": "x@"}), "email"),
        (json!({"sex": "yes"}), "sex"),
    ] {
        expect_field_error(&server.patch(&path, &doctor, body).await, field);
    }
    let unknown = server
        .patch(&path, &doctor, json!({"mrn": "MRN-999999"}))
        .await;
    unknown.expect_error(422, "VALIDATION_ERROR");

    // A bad id in the path names the parameter; a missing patient is 404.
    expect_field_error(
        &server
            .patch(
                "/api/v1/patients/not-a-uuid",
                &doctor,
                json!({"full_name": "X"}),
            )
            .await,
        "id",
    );
    server
        .patch(
            &format!("/api/v1/patients/{}", uuid::Uuid::now_v7()),
            &doctor,
            json!({"full_name": "X"}),
        )
        .await
        .expect_error(404, "NOT_FOUND");

    let got = server.get(&path, &doctor).await;
    got.expect(200);
    assert_eq!(got.data(), &original);
}

// ---------------------------------------------------------------------------------------------
// list: sorts and pages

#[tokio::test]
async fn the_list_sorts_by_last_visit_by_default_and_by_name_or_creation_on_request() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let mut by_creation = Vec::new();
    for name in [
        "Carla Diaz",
        "alan Brooks",
        "Beth Adams",
        "Zoe Quinn",
        "Ana Lima",
    ] {
        by_creation.push(register(&server, &doctor, name, json!({})).await);
    }
    let id_of = |name: &str| {
        by_creation.iter().find(|p| p["full_name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Beth is seen first, Zoe later: Zoe is the most recent visit.
    let beth_seen = visit(&server, &doctor, &id_of("Beth Adams")).await;
    clock_past(beth_seen).await;
    let zoe_seen = visit(&server, &doctor, &id_of("Zoe Quinn")).await;
    assert!(zoe_seen > beth_seen);

    let default = server.get("/api/v1/patients/list/", &doctor).await;
    default.expect(200);
    // Seen patients first (newest visit first), then the never-seen, newest registration first.
    assert_eq!(
        names(&default.data()["items"]),
        [
            "Zoe Quinn",
            "Beth Adams",
            "Ana Lima",
            "alan Brooks",
            "Carla Diaz"
        ]
    );
    let zoe = &default.data()["items"][0];
    assert_eq!(parse_time(&zoe["last_visit_at"]), zoe_seen);
    assert!(zoe["active_consultation_id"].is_string());
    assert!(default.data()["items"][2]["last_visit_at"].is_null());
    assert_eq!(default.data()["pagination"]["limit"], 20);

    let explicit = server
        .get("/api/v1/patients/list/?sort=-last_visit", &doctor)
        .await;
    explicit.expect(200);
    assert_eq!(explicit.data()["items"], default.data()["items"]);

    let by_name = server
        .get("/api/v1/patients/list/?sort=name", &doctor)
        .await;
    by_name.expect(200);
    assert_eq!(
        names(&by_name.data()["items"]),
        [
            "Beth Adams",
            "alan Brooks",
            "Carla Diaz",
            "Ana Lima",
            "Zoe Quinn"
        ],
        "name order is by surname, then given names, and ignores case"
    );

    let by_created = server
        .get("/api/v1/patients/list/?sort=-created_at", &doctor)
        .await;
    by_created.expect(200);
    assert_eq!(
        names(&by_created.data()["items"]),
        [
            "Ana Lima",
            "Zoe Quinn",
            "Beth Adams",
            "alan Brooks",
            "Carla Diaz"
        ]
    );

    for bad in ["last_visit", "-name", "created_at", ""] {
        expect_field_error(
            &server
                .get(&format!("/api/v1/patients/list/?sort={bad}"), &doctor)
                .await,
            "sort",
        );
    }
}

/// Names with repeats (ties on the sort key) and mixed case.
fn roster_name(i: usize) -> String {
    const FIRST: [&str; 6] = ["Anna", "ben", "Chloe", "dev", "Emma", "Farah"];
    const LAST: [&str; 4] = ["Smith", "Khan", "o'Neil", "Lee"];
    format!("{} {}", FIRST[i % 6], LAST[(i / 6) % 4])
}

async fn roster(server: &TestServer, doctor: &Session, count: usize) -> Vec<Value> {
    let mut patients = Vec::new();
    for i in 0..count {
        patients.push(register(server, doctor, &roster_name(i), json!({})).await);
    }
    patients
}

#[tokio::test]
async fn cursor_pages_visit_every_patient_exactly_once_in_each_sort() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    // Someone else's patients never show up in the walk.
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    server.patient(&other, "Anna Smith").await;

    let patients = roster(&server, &doctor, 57).await;
    let created: Vec<String> = patients
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    // A few visits, so -last_visit has seen and never-seen rows.
    let mut visited = Vec::new();
    for i in [40, 3, 17, 56, 0, 29, 11] {
        let at = visit(&server, &doctor, &created[i]).await;
        visited.push(created[i].clone());
        clock_past(at).await;
    }

    for sort in ["", "&sort=-last_visit", "&sort=name", "&sort=-created_at"] {
        let items = walk(&server, &doctor, sort, 10).await;
        let walked = ids(&Value::Array(items.clone()));
        assert_eq!(walked.len(), 57, "sort {sort:?}");
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), 57, "duplicates in sort {sort:?}");
        assert_eq!(
            unique,
            created.iter().collect::<HashSet<_>>(),
            "gaps in sort {sort:?}"
        );

        let expected: Vec<String> = match sort {
            "&sort=name" => {
                // Surname, then given names, then id.
                let mut rows: Vec<(String, String)> = patients
                    .iter()
                    .map(|p| {
                        let name = p["full_name"].as_str().unwrap().to_lowercase();
                        let (given, surname) = name.rsplit_once(' ').unwrap();
                        (
                            format!("{surname} {given}"),
                            p["id"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                rows.sort();
                rows.into_iter().map(|(_, id)| id).collect()
            }
            "&sort=-created_at" => created.iter().rev().cloned().collect(),
            _ => visited
                .iter()
                .rev()
                .cloned()
                .chain(
                    created
                        .iter()
                        .rev()
                        .filter(|id| !visited.contains(id))
                        .cloned(),
                )
                .collect(),
        };
        assert_eq!(walked, expected, "order of sort {sort:?}");
    }

    // The same walk with a filter: only the matching rows, each once.
    let smiths = walk(&server, &doctor, "&sort=name&search=smith", 4).await;
    let expected: HashSet<String> = patients
        .iter()
        .filter(|p| p["full_name"].as_str().unwrap().ends_with("Smith"))
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(smiths.len(), expected.len());
    assert_eq!(
        ids(&Value::Array(smiths))
            .into_iter()
            .collect::<HashSet<_>>(),
        expected
    );
}

#[tokio::test]
async fn offset_pages_report_total_has_more_and_offset() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patients = roster(&server, &doctor, 57).await;
    let newest_first: Vec<String> = patients
        .iter()
        .rev()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();

    let mut seen = Vec::new();
    for offset in (0..57).step_by(10) {
        let reply = server
            .get(
                &format!("/api/v1/patients/list/?sort=-created_at&limit=10&offset={offset}"),
                &doctor,
            )
            .await;
        reply.expect(200);
        let pagination = &reply.data()["pagination"];
        assert_eq!(pagination["total"], 57);
        assert_eq!(pagination["limit"], 10);
        assert_eq!(pagination["offset"], offset as u64);
        let page = ids(&reply.data()["items"]);
        assert_eq!(page.len(), (57 - offset).min(10));
        let last = offset + 10 >= 57;
        assert_eq!(pagination["has_more"], !last);
        assert_eq!(pagination["next_cursor"].is_null(), last, "{pagination:#}");
        seen.extend(page);
    }
    assert_eq!(seen, newest_first);

    // Past the end: an empty page, still with the total.
    let beyond = server
        .get("/api/v1/patients/list/?limit=10&offset=100", &doctor)
        .await;
    beyond.expect(200);
    assert_eq!(beyond.data()["items"], json!([]));
    assert_eq!(beyond.data()["pagination"]["total"], 57);
    assert_eq!(beyond.data()["pagination"]["has_more"], false);
    assert!(beyond.data()["pagination"]["next_cursor"].is_null());

    // An offset page's cursor continues right after it.
    let page = server
        .get(
            "/api/v1/patients/list/?sort=-created_at&limit=10&offset=20",
            &doctor,
        )
        .await;
    page.expect(200);
    let cursor = page.data()["pagination"]["next_cursor"].as_str().unwrap();
    let next = server
        .get(
            &format!(
                "/api/v1/patients/list/?sort=-created_at&limit=10&cursor={}",
                enc(cursor)
            ),
            &doctor,
        )
        .await;
    next.expect(200);
    assert_eq!(ids(&next.data()["items"]), newest_first[30..40]);
    assert_eq!(next.data()["pagination"]["offset"], 30);

    // Limits: default 20, 1 and 100 allowed, 0 and 101 refused.
    let default = server.get("/api/v1/patients/list/", &doctor).await;
    default.expect(200);
    assert_eq!(default.data()["items"].as_array().unwrap().len(), 20);
    let all = server
        .get("/api/v1/patients/list/?limit=100", &doctor)
        .await;
    all.expect(200);
    assert_eq!(all.data()["items"].as_array().unwrap().len(), 57);
    assert_eq!(all.data()["pagination"]["has_more"], false);
    assert!(all.data()["pagination"]["next_cursor"].is_null());
    let one = server.get("/api/v1/patients/list/?limit=1", &doctor).await;
    one.expect(200);
    assert_eq!(one.data()["items"].as_array().unwrap().len(), 1);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "offset=-1",
        "offset=x",
    ] {
        let field = bad.split('=').next().unwrap();
        expect_field_error(
            &server
                .get(&format!("/api/v1/patients/list/?{bad}"), &doctor)
                .await,
            field,
        );
    }
}

#[tokio::test]
async fn cursors_are_refused_with_another_sort_with_an_offset_or_when_damaged() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    roster(&server, &doctor, 5).await;
    let cursor_of = |reply: &Reply| {
        reply.expect(200);
        reply.data()["pagination"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let by_name = cursor_of(
        &server
            .get("/api/v1/patients/list/?sort=name&limit=2", &doctor)
            .await,
    );
    let by_visit = cursor_of(&server.get("/api/v1/patients/list/?limit=2", &doctor).await);

    for path in [
        format!(
            "/api/v1/patients/list/?sort=-created_at&limit=2&cursor={}",
            enc(&by_name)
        ),
        format!("/api/v1/patients/list/?limit=2&cursor={}", enc(&by_name)),
        format!(
            "/api/v1/patients/list/?sort=name&limit=2&cursor={}",
            enc(&by_visit)
        ),
        "/api/v1/patients/list/?cursor=garbage!".to_string(),
        "/api/v1/patients/list/?cursor=e30".to_string(),
        "/api/v1/patients/list/?cursor=".to_string(),
        format!("/api/v1/patients/list/?cursor={}", "A".repeat(600)),
    ] {
        expect_field_error(&server.get(&path, &doctor).await, "cursor");
    }
    let offset_and_cursor = server
        .get(
            &format!(
                "/api/v1/patients/list/?sort=name&offset=2&cursor={}",
                enc(&by_name)
            ),
            &doctor,
        )
        .await;
    offset_and_cursor.expect_error(422, "VALIDATION_ERROR");
    assert!(
        error_fields(&offset_and_cursor)
            .iter()
            .any(|f| f == "cursor" || f == "offset"),
        "{:#}",
        offset_and_cursor.body
    );

    // The right sort accepts it.
    server
        .get(
            &format!(
                "/api/v1/patients/list/?sort=name&limit=2&cursor={}",
                enc(&by_name)
            ),
            &doctor,
        )
        .await
        .expect(200);

    // Unknown parameters are refused.
    let unknown = server.get("/api/v1/patients/list/?page=2", &doctor).await;
    unknown.expect_error(422, "VALIDATION_ERROR");
}

#[tokio::test]
async fn the_list_search_filters_with_the_search_matching_and_counts_only_matches() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    register(
        &server,
        &doctor,
        "Anna Smith",
        json!({"phone": "+91 98765 43210"}),
    )
    .await;
    register(
        &server,
        &doctor,
        "John Smithers",
        json!({"email": "js@example.com"}),
    )
    .await;
    register(&server, &doctor, "Kasmir Patel", json!({})).await;
    register(&server, &doctor, "Mia Ross", json!({})).await;
    for i in 0..6 {
        register(&server, &doctor, &format!("Other Person {i}"), json!({})).await;
    }

    for (term, expected) in [
        // In the list's name order: surname, then given names.
        ("smi", vec!["Kasmir Patel", "Anna Smith", "John Smithers"]),
        ("SMITH", vec!["Anna Smith", "John Smithers"]),
        // Contacts match whole (blind indexes): the number, its last four digits, the email.
        ("+91 98765 43210", vec!["Anna Smith"]),
        ("3210", vec!["Anna Smith"]),
        ("98765", vec![]),
        ("JS@example.com", vec!["John Smithers"]),
        ("js@example", vec![]),
        ("MRN-000004", vec!["Mia Ross"]),
        ("nobody", vec![]),
    ] {
        let reply = server
            .get(
                &format!("/api/v1/patients/list/?sort=name&search={}", enc(term)),
                &doctor,
            )
            .await;
        reply.expect(200);
        assert_eq!(names(&reply.data()["items"]), expected, "search {term:?}");
        assert_eq!(
            reply.data()["pagination"]["total"],
            expected.len() as u64,
            "total of search {term:?}"
        );
        let mut from_search = search(&server, &doctor, term).await;
        from_search.sort_by_key(|n| {
            let n = n.to_lowercase();
            let (given, surname) = n.rsplit_once(' ').unwrap_or(("", &n));
            format!("{surname} {given}")
        });
        assert_eq!(from_search, expected, "search endpoint for {term:?}");
    }

    // Paged: the total stays the count of matches on every page.
    let first = server
        .get(
            "/api/v1/patients/list/?search=other&limit=4&sort=name",
            &doctor,
        )
        .await;
    first.expect(200);
    assert_eq!(first.data()["pagination"]["total"], 6);
    assert_eq!(first.data()["pagination"]["has_more"], true);
    let second = server
        .get(
            "/api/v1/patients/list/?search=other&limit=4&offset=4&sort=name",
            &doctor,
        )
        .await;
    second.expect(200);
    assert_eq!(second.data()["pagination"]["total"], 6);
    assert_eq!(second.data()["items"].as_array().unwrap().len(), 2);
    assert_eq!(second.data()["pagination"]["has_more"], false);

    for bad in ["", "%20%20", &"x".repeat(101)] {
        expect_field_error(
            &server
                .get(&format!("/api/v1/patients/list/?search={bad}"), &doctor)
                .await,
            "search",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// search

#[tokio::test]
async fn search_ranks_exact_names_before_word_prefixes_before_substrings() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    // Registered worst match first and the substring match seen most recently, so neither
    // registration order nor visits can explain the ranking.
    let substring = register(&server, &doctor, "Jamia Grossman", json!({})).await;
    register(&server, &doctor, "Miami Rossi", json!({})).await;
    register(&server, &doctor, "Ross Mia", json!({})).await;
    register(&server, &doctor, "Mia Ross", json!({})).await;
    register(&server, &doctor, "Mia Lee", json!({})).await;
    visit(&server, &doctor, substring["id"].as_str().unwrap()).await;

    let found = search(&server, &doctor, "mia ross").await;
    assert_eq!(found[0], "Mia Ross", "exact first: {found:?}");
    let mut prefixes = found[1..3].to_vec();
    prefixes.sort();
    assert_eq!(
        prefixes,
        ["Miami Rossi", "Ross Mia"],
        "prefixes next: {found:?}"
    );
    assert_eq!(found[3], "Jamia Grossman", "substring last: {found:?}");
    assert_eq!(found.len(), 4, "every word must match: {found:?}");

    // A one-word name: exact, then word prefix, then inside a word.
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let inside = register(&server, &doctor, "Joanna Kim", json!({})).await;
    register(&server, &doctor, "Lee Annabel", json!({})).await;
    register(&server, &doctor, "Ann", json!({})).await;
    register(&server, &doctor, "Bob Jones", json!({})).await;
    visit(&server, &doctor, inside["id"].as_str().unwrap()).await;
    assert_eq!(
        search(&server, &doctor, "ann").await,
        ["Ann", "Lee Annabel", "Joanna Kim"]
    );
    assert_eq!(
        search(&server, &doctor, "smi").await,
        Vec::<String>::new(),
        "no false matches"
    );
}

#[tokio::test]
async fn search_finds_word_starts_anywhere_in_the_name() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    register(&server, &doctor, "Anna Smith", json!({})).await;
    register(&server, &doctor, "John Smithers", json!({})).await;
    register(&server, &doctor, "Mary Jones", json!({})).await;
    let mut found = search(&server, &doctor, "smi").await;
    found.sort();
    assert_eq!(found, ["Anna Smith", "John Smithers"]);
    // Words in any order, each a prefix.
    assert_eq!(search(&server, &doctor, "smith an").await, ["Anna Smith"]);
    assert_eq!(
        search(&server, &doctor, "  jo   sm ").await,
        ["John Smithers"]
    );
}

#[tokio::test]
async fn search_breaks_rank_ties_by_the_most_recent_visit() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let anna = register(&server, &doctor, "Anna Smith", json!({})).await;
    let john = register(&server, &doctor, "John Smithers", json!({})).await;
    let zed = register(&server, &doctor, "Zed Smith", json!({})).await;

    // John seen first, then Anna: Anna is the most recent visit; Zed never seen.
    let john_seen = visit(&server, &doctor, john["id"].as_str().unwrap()).await;
    clock_past(john_seen).await;
    visit(&server, &doctor, anna["id"].as_str().unwrap()).await;
    assert_eq!(
        search(&server, &doctor, "smi").await,
        ["Anna Smith", "John Smithers", "Zed Smith"]
    );

    // Seeing Zed now puts him first among the equally good matches (the clock first moves past
    // Anna's visit, so the two stamps differ).
    let reply = server.get("/api/v1/patients/search/?q=smi", &doctor).await;
    reply.expect(200);
    let anna_seen = parse_time(&reply.data()["items"][0]["last_visit_at"]);
    clock_past(anna_seen).await;
    visit(&server, &doctor, zed["id"].as_str().unwrap()).await;
    assert_eq!(
        search(&server, &doctor, "smi").await,
        ["Zed Smith", "Anna Smith", "John Smithers"]
    );
    // More words narrow the matches to one patient.
    assert_eq!(
        search(&server, &doctor, "john smithers").await,
        ["John Smithers"]
    );
    assert_eq!(search(&server, &doctor, "anna smith").await, ["Anna Smith"]);
}

#[tokio::test]
async fn search_matches_the_mrn_and_whole_contacts_or_a_phones_last_four_case_insensitively() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    register(
        &server,
        &doctor,
        "Anna Smith",
        json!({"phone": "+91 98765 43210", "email": "Anna.S@Example.com"}),
    )
    .await;
    register(
        &server,
        &doctor,
        "Ravi Kumar",
        json!({"phone": "(080) 2345-6789", "email": "ravi@clinic.in"}),
    )
    .await;
    register(&server, &doctor, "Meera Nair", json!({})).await;

    for (q, expected) in [
        // MRN, whole or in part, any case
        ("MRN-000002", vec!["Ravi Kumar"]),
        ("mrn-000003", vec!["Meera Nair"]),
        ("000001", vec!["Anna Smith"]),
        // the whole phone number, formatting ignored on both sides, or its last four digits
        ("9876543210", vec![]),
        ("919876543210", vec!["Anna Smith"]),
        ("+91-98765-43210", vec!["Anna Smith"]),
        ("3210", vec!["Anna Smith"]),
        ("6789", vec!["Ravi Kumar"]),
        ("(080) 2345 6789", vec!["Ravi Kumar"]),
        // a fragment from the middle of a number no longer matches (docs/API.md)
        ("98765", vec![]),
        ("080 2345", vec![]),
        // the whole email, any case; a part of it no longer matches
        ("anna.s@example.com", vec!["Anna Smith"]),
        ("ANNA.S@EXAMPLE.COM", vec!["Anna Smith"]),
        ("ANNA.S@EXAMPLE", vec![]),
        ("clinic.in", vec![]),
        // names, any case
        ("MEERA", vec!["Meera Nair"]),
        ("nAiR", vec!["Meera Nair"]),
        // nothing
        ("55555", vec![]),
        ("zzz", vec![]),
    ] {
        assert_eq!(search(&server, &doctor, q).await, expected, "q={q:?}");
    }
    // An exact MRN ranks first even when another patient's phone holds the same digits.
    register(
        &server,
        &doctor,
        "Digit Person",
        json!({"phone": "1000004"}),
    )
    .await;
    assert_eq!(
        search(&server, &doctor, "MRN-000004").await,
        ["Digit Person"]
    );
}

#[tokio::test]
async fn search_ignores_diacritics_and_case_in_names_and_in_the_term() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for name in [
        "Hans Müller",
        "Ana Gómez",
        "Luis Gomez",
        "Rosa GÓMEZ",
        "Inés Fernández",
        "Pablo Martínez",
        "Mia Lee",
    ] {
        register(&server, &doctor, name, json!({})).await;
    }
    let gomez = vec!["Ana Gómez", "Luis Gomez", "Rosa GÓMEZ"];
    for (q, expected) in [
        // Word starts (the exact and prefix ranks, through the name words).
        ("muller", vec!["Hans Müller"]),
        ("MULLER", vec!["Hans Müller"]),
        ("Müller", vec!["Hans Müller"]),
        ("MÜLLER", vec!["Hans Müller"]),
        ("mu", vec!["Hans Müller"]),
        ("hans mul", vec!["Hans Müller"]),
        ("gomez", gomez.clone()),
        ("Gómez", gomez.clone()),
        ("GOMEZ", gomez.clone()),
        ("gó", gomez.clone()),
        ("ana gomez", vec!["Ana Gómez"]),
        ("rosa gómez", vec!["Rosa GÓMEZ"]),
        ("fernandez", vec!["Inés Fernández"]),
        ("ines fern", vec!["Inés Fernández"]),
        ("martinez", vec!["Pablo Martínez"]),
        ("MARTÍNEZ", vec!["Pablo Martínez"]),
        // Inside a word (the substring rank, through each engine's trigram index).
        ("uller", vec!["Hans Müller"]),
        ("üll", vec!["Hans Müller"]),
        ("omez", gomez.clone()),
        ("ÓMEZ", gomez.clone()),
        ("ernandez", vec!["Inés Fernández"]),
        ("nández", vec!["Inés Fernández"]),
        ("artinez", vec!["Pablo Martínez"]),
        ("tíne", vec!["Pablo Martínez"]),
        // Diacritics are ignored, letters are not.
        ("mullar", vec![]),
        ("gamez", vec![]),
    ] {
        let mut found = search(&server, &doctor, q).await;
        found.sort();
        assert_eq!(found, expected, "q={q:?}");
    }
    // Accents alone leave nothing to search for: refused, never read as "every patient".
    for path in [
        "/api/v1/patients/search/?q=%CC%81",
        "/api/v1/patients/list/?search=%C2%B4",
    ] {
        let reply = server.get(path, &doctor).await;
        let field = if path.contains("q=") { "q" } else { "search" };
        expect_field_error(&reply, field);
    }

    // The exact name first, then word starts: "Gomez" typed plainly ranks no spelling above
    // another, but a whole name still beats a part.
    register(&server, &doctor, "Gómez", json!({})).await;
    assert_eq!(search(&server, &doctor, "GOMEZ").await[0], "Gómez");

    // The list's search matches alike, counts alike, and sorting by name uses the folded
    // name: "Müller" between "Mueller" and "Munro", not after every "mu…" name.
    for (term, total) in [("gomez", 4), ("MULLER", 1), ("nández", 1)] {
        let reply = server
            .get(
                &format!("/api/v1/patients/list/?sort=name&search={}", enc(term)),
                &doctor,
            )
            .await;
        reply.expect(200);
        assert_eq!(
            reply.data()["pagination"]["total"],
            total,
            "list search {term:?}"
        );
    }
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for name in ["Munro", "Müller", "Mueller", "Mylo"] {
        register(&server, &doctor, name, json!({})).await;
    }
    let reply = server
        .get("/api/v1/patients/list/?sort=name", &doctor)
        .await;
    reply.expect(200);
    assert_eq!(
        names(&reply.data()["items"]),
        ["Mueller", "Müller", "Munro", "Mylo"]
    );
}

#[tokio::test]
async fn percent_underscore_and_backslash_are_literal_in_search() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    register(&server, &doctor, "Ann_Lee", json!({})).await;
    register(&server, &doctor, "AnnXLee", json!({})).await;
    register(&server, &doctor, "50% Smith", json!({})).await;
    register(&server, &doctor, "500 Smith", json!({})).await;
    register(&server, &doctor, "Back\\Slash", json!({})).await;
    register(&server, &doctor, "Backxslash", json!({})).await;

    assert_eq!(search(&server, &doctor, "n_l").await, ["Ann_Lee"]);
    assert_eq!(search(&server, &doctor, "50%").await, ["50% Smith"]);
    assert_eq!(search(&server, &doctor, "0% smith").await, ["50% Smith"]);
    assert_eq!(search(&server, &doctor, "k\\s").await, ["Back\\Slash"]);
    // Alone, each is too short for a substring and starts no name: as wildcards they would
    // find every patient.
    for wildcard in ["_", "%", "\\"] {
        assert!(
            search(&server, &doctor, wildcard).await.is_empty(),
            "{wildcard}"
        );
    }
    // A name with a backslash still ranks as an exact match: registered before a longer name
    // of the same prefix, it must come first only because it is exact.
    register(&server, &doctor, "Back\\Slash Junior", json!({})).await;
    assert_eq!(
        search(&server, &doctor, "back\\slash").await,
        ["Back\\Slash", "Back\\Slash Junior"]
    );
    let list = server
        .get(
            &format!("/api/v1/patients/list/?search={}", enc("n_l")),
            &doctor,
        )
        .await;
    list.expect(200);
    assert_eq!(names(&list.data()["items"]), ["Ann_Lee"]);
    assert_eq!(list.data()["pagination"]["total"], 1);
}

#[tokio::test]
async fn sql_fragments_in_search_match_nothing_and_break_nothing() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    register(&server, &doctor, "Anna Smith", json!({})).await;
    register(&server, &doctor, "Dora Orr", json!({})).await;
    register(&server, &other, "Hidden Patient", json!({})).await;
    for q in [
        "' OR 1=1 --",
        "\" OR \"\"=\"",
        "'; DROP TABLE patients; --",
        "%' OR '1'='1",
        ") OR (1=1",
        "anna' --",
    ] {
        assert_eq!(
            search(&server, &doctor, q).await,
            Vec::<String>::new(),
            "q={q:?}"
        );
        let list = server
            .get(
                &format!("/api/v1/patients/list/?search={}", enc(q)),
                &doctor,
            )
            .await;
        list.expect(200);
        assert_eq!(list.data()["pagination"]["total"], 0, "list search {q:?}");
    }
    let count = server.sql_count("SELECT COUNT(*) FROM patients", &[]).await;
    assert_eq!(count, 3);
    assert_eq!(search(&server, &doctor, "anna").await, ["Anna Smith"]);
    // A name with a quote is found by it.
    register(&server, &doctor, "Liam O'Brien", json!({})).await;
    assert_eq!(search(&server, &doctor, "o'b").await, ["Liam O'Brien"]);
}

#[tokio::test]
async fn search_returns_ten_by_default_up_to_fifty_and_checks_its_parameters() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for i in 0..55 {
        register(&server, &doctor, &format!("Smith Number{i:02}"), json!({})).await;
    }
    let count_of = |reply: &Reply| {
        reply.expect(200);
        let items = reply.data()["items"].as_array().unwrap().len();
        assert_eq!(reply.data()["count"].as_u64().unwrap() as usize, items);
        for item in reply.data()["items"].as_array().unwrap() {
            assert_eq!(keys(item), summary_keys(), "{item:#}");
        }
        items
    };
    assert_eq!(
        count_of(
            &server
                .get("/api/v1/patients/search/?q=smith", &doctor)
                .await
        ),
        10
    );
    assert_eq!(
        count_of(
            &server
                .get("/api/v1/patients/search/?q=smith&limit=50", &doctor)
                .await
        ),
        50
    );
    assert_eq!(
        count_of(
            &server
                .get("/api/v1/patients/search/?q=smith&limit=1", &doctor)
                .await
        ),
        1
    );
    assert_eq!(
        count_of(
            &server
                .get("/api/v1/patients/search/?q=number07", &doctor)
                .await
        ),
        1
    );
    for bad in ["limit=51", "limit=0", "limit=abc"] {
        expect_field_error(
            &server
                .get(&format!("/api/v1/patients/search/?q=smith&{bad}"), &doctor)
                .await,
            "limit",
        );
    }
    let long = "a".repeat(101);
    for bad in [
        "/api/v1/patients/search/".to_string(),
        "/api/v1/patients/search/?q=".to_string(),
        "/api/v1/patients/search/?q=%20%20%20".to_string(),
        format!("/api/v1/patients/search/?q={long}"),
        "/api/v1/patients/search/?q=a%07b".to_string(),
    ] {
        expect_field_error(&server.get(&bad, &doctor).await, "q");
    }
    // 100 characters is allowed.
    count_of(
        &server
            .get(
                &format!("/api/v1/patients/search/?q={}", "a".repeat(100)),
                &doctor,
            )
            .await,
    );
    server
        .get("/api/v1/patients/search/?q=smith&offset=2", &doctor)
        .await
        .expect_error(422, "VALIDATION_ERROR");
}

// ---------------------------------------------------------------------------------------------
// roles and ownership

#[tokio::test]
async fn each_doctor_sees_only_their_own_patients() {
    let server = TestServer::start().await;
    let first = server.login_new("doc1@clinic.test", Role::Doctor).await;
    let second = server.login_new("doc2@clinic.test", Role::Doctor).await;
    let mine = register(&server, &first, "Anna Smith", json!({"phone": "5550001"})).await;
    register(&server, &first, "Bob Stone", json!({})).await;
    let theirs = register(&server, &second, "Anna Smythe", json!({"phone": "5550002"})).await;

    let list = server.get("/api/v1/patients/list/", &first).await;
    list.expect(200);
    assert_eq!(list.data()["pagination"]["total"], 2);
    let mut listed = names(&list.data()["items"]);
    listed.sort();
    assert_eq!(listed, ["Anna Smith", "Bob Stone"]);

    let list = server
        .get("/api/v1/patients/list/?sort=name", &second)
        .await;
    list.expect(200);
    assert_eq!(names(&list.data()["items"]), ["Anna Smythe"]);
    assert_eq!(list.data()["pagination"]["total"], 1);

    assert_eq!(search(&server, &first, "anna").await, ["Anna Smith"]);
    assert_eq!(search(&server, &second, "anna").await, ["Anna Smythe"]);
    assert_eq!(search(&server, &first, "5550001").await, ["Anna Smith"]);
    assert_eq!(search(&server, &first, "0001").await, ["Anna Smith"]);
    assert!(search(&server, &first, "5550002").await.is_empty());
    assert!(search(&server, &first, "MRN-000003").await.is_empty());
    let filtered = server
        .get("/api/v1/patients/list/?search=anna", &first)
        .await;
    filtered.expect(200);
    assert_eq!(filtered.data()["pagination"]["total"], 1);

    // Another doctor's chart is 404, exactly like a missing one, and cannot be changed.
    let missing = server
        .get(
            &format!("/api/v1/patients/{}", uuid::Uuid::now_v7()),
            &first,
        )
        .await;
    missing.expect_error(404, "NOT_FOUND");
    let other = server
        .get(
            &format!("/api/v1/patients/{}", theirs["id"].as_str().unwrap()),
            &first,
        )
        .await;
    other.expect_error(404, "NOT_FOUND");
    assert_eq!(other.body["error"], missing.body["error"]);
    server
        .patch(
            &format!("/api/v1/patients/{}", theirs["id"].as_str().unwrap()),
            &first,
            json!({"full_name": "Taken Over"}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    let still = server
        .get(
            &format!("/api/v1/patients/{}", theirs["id"].as_str().unwrap()),
            &second,
        )
        .await;
    still.expect(200);
    assert_eq!(still.data()["full_name"], "Anna Smythe");
    server
        .get(
            &format!("/api/v1/patients/{}", mine["id"].as_str().unwrap()),
            &first,
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_receptionist_lists_and_searches_every_doctors_patients() {
    let server = TestServer::start().await;
    let first = server.login_new("doc1@clinic.test", Role::Doctor).await;
    let second = server.login_new("doc2@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    register(&server, &first, "Anna Smith", json!({})).await;
    register(&server, &second, "Anna Smythe", json!({})).await;
    register(&server, &second, "Carl Young", json!({})).await;

    let list = server.get("/api/v1/patients/list/?sort=name", &desk).await;
    list.expect(200);
    assert_eq!(
        names(&list.data()["items"]),
        ["Anna Smith", "Anna Smythe", "Carl Young"]
    );
    assert_eq!(list.data()["pagination"]["total"], 3);
    for item in list.data()["items"].as_array().unwrap() {
        assert_eq!(keys(item), summary_keys(), "summary rows only: {item:#}");
    }
    // Each row names the patient's doctor, in the list and in search.
    let doctor_of = |items: &Value, name: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["full_name"] == name)
            .map(|p| p["doctor"]["id"].as_str().unwrap().to_string())
    };
    assert_eq!(
        doctor_of(&list.data()["items"], "Anna Smith"),
        Some(first.user_id.clone())
    );
    assert_eq!(
        doctor_of(&list.data()["items"], "Carl Young"),
        Some(second.user_id.clone())
    );
    let searched = server.get("/api/v1/patients/search/?q=anna", &desk).await;
    searched.expect(200);
    assert_eq!(
        doctor_of(&searched.data()["items"], "Anna Smythe"),
        Some(second.user_id.clone())
    );
    // And by the name of that doctor, in the list, in search and in the chart, for
    // patients of several doctors in one page.
    let named_rightly = |items: &Value| {
        for item in items.as_array().unwrap() {
            let doctor = &item["doctor"];
            let email = if doctor["id"] == first.user_id.as_str() {
                &first.email
            } else {
                &second.email
            };
            assert_eq!(doctor["full_name"], format!("Test {email}"), "{item:#}");
        }
    };
    named_rightly(&list.data()["items"]);
    named_rightly(&searched.data()["items"]);
    let carl = list.data()["items"][2]["id"].as_str().unwrap().to_string();
    let chart = server
        .get(&format!("/api/v1/patients/{carl}"), &second)
        .await;
    chart.expect(200);
    named_rightly(&json!([chart.data()]));
    let mut found = search(&server, &desk, "anna").await;
    found.sort();
    assert_eq!(found, ["Anna Smith", "Anna Smythe"]);
    let walked = walk(&server, &desk, "&sort=-created_at", 2).await;
    assert_eq!(walked.len(), 3);
}

#[tokio::test]
async fn a_receptionist_registers_patients_for_a_named_doctor() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;

    let reply = create(
        &server,
        &desk,
        json!({"full_name": "Walk In", "date_of_birth": "1990-05-06", "sex": "male",
               "phone": "98450 12345", "doctor_id": doctor.user_id}),
    )
    .await;
    reply.expect(201);
    let p = reply.data().clone();
    assert_eq!(keys(&p), chart_keys(), "{p:#}");
    assert_eq!(p["full_name"], "Walk In");
    assert_eq!(p["mrn"], "MRN-000001");
    let id = p["id"].as_str().unwrap();

    // The named doctor owns it: their list, search and chart show it; the other doctor's don't.
    let list = server.get("/api/v1/patients/list/", &doctor).await;
    list.expect(200);
    assert_eq!(ids(&list.data()["items"]), [id]);
    assert_eq!(search(&server, &doctor, "walk").await, ["Walk In"]);
    let chart = server.get(&format!("/api/v1/patients/{id}"), &doctor).await;
    chart.expect(200);
    assert_eq!(chart.data(), &p);
    let list = server.get("/api/v1/patients/list/", &other).await;
    list.expect(200);
    assert_eq!(list.data()["pagination"]["total"], 0);
    assert!(search(&server, &other, "walk").await.is_empty());
    server
        .get(&format!("/api/v1/patients/{id}"), &other)
        .await
        .expect_error(404, "NOT_FOUND");
    let owner = server
        .sql_text(
            "SELECT CAST(doctor_id AS TEXT) FROM patients WHERE CAST(id AS TEXT) = $1",
            &[id],
        )
        .await
        .unwrap();
    assert_eq!(owner, doctor.user_id);

    // The receptionist sees it in the list and search too.
    assert_eq!(search(&server, &desk, "98450 12345").await, ["Walk In"]);
}

#[tokio::test]
async fn a_receptionist_must_name_an_active_doctor() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let retired = server.login_new("retired@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    server
        .post(
            &format!("/api/v1/admin/users/{}/disable", retired.user_id),
            &admin,
            json!({}),
        )
        .await
        .expect(200);

    let body = |doctor_id: Option<&str>| {
        let mut b = json!({"full_name": "Walk In", "date_of_birth": "1990-05-06", "sex": "male"});
        if let Some(id) = doctor_id {
            b["doctor_id"] = json!(id);
        }
        b
    };
    let random = uuid::Uuid::now_v7().to_string();
    for doctor_id in [
        None,
        Some(desk.user_id.as_str()),
        Some(admin.user_id.as_str()),
        Some(retired.user_id.as_str()),
        Some(random.as_str()),
    ] {
        let reply = create(&server, &desk, body(doctor_id)).await;
        expect_field_error(&reply, "doctor_id");
    }
    let malformed = create(&server, &desk, json!({"full_name": "Walk In", "date_of_birth": "1990-05-06", "sex": "male", "doctor_id": "doc"})).await;
    expect_field_error(&malformed, "doctor_id");

    let count = server.sql_count("SELECT COUNT(*) FROM patients", &[]).await;
    assert_eq!(count, 0, "no refused registration was stored");

    create(&server, &desk, body(Some(&doctor.user_id)))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_doctor_registers_patients_only_for_themselves() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let base = json!({"full_name": "Anna Smith", "date_of_birth": "1980-02-03", "sex": "female"});

    let mut foreign = base.clone();
    foreign["doctor_id"] = json!(other.user_id);
    expect_field_error(&create(&server, &doctor, foreign).await, "doctor_id");
    let list = server.get("/api/v1/patients/list/", &other).await;
    list.expect(200);
    assert_eq!(list.data()["pagination"]["total"], 0);

    let mut own = base.clone();
    own["doctor_id"] = json!(doctor.user_id);
    let reply = create(&server, &doctor, own).await;
    reply.expect(201);
    server
        .get(
            &format!("/api/v1/patients/{}", reply.data()["id"].as_str().unwrap()),
            &doctor,
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_receptionist_cannot_open_a_chart_and_an_admin_sees_no_patients() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let id = server.patient(&doctor, "Anna Smith").await;
    let path = format!("/api/v1/patients/{id}");

    server
        .get(&path, &desk)
        .await
        .expect_error(403, "FORBIDDEN");
    server
        .patch(&path, &admin, json!({"full_name": "Changed"}))
        .await
        .expect_error(403, "FORBIDDEN");
    for path in [
        path.clone(),
        "/api/v1/patients/list/".to_string(),
        "/api/v1/patients/search/?q=anna".to_string(),
    ] {
        server
            .get(&path, &admin)
            .await
            .expect_error(403, "FORBIDDEN");
    }
    create(
        &server,
        &admin,
        json!({"full_name": "X", "date_of_birth": "1980-02-03", "sex": "female", "doctor_id": doctor.user_id}),
    )
    .await
    .expect_error(403, "FORBIDDEN");

    // Without a token: 401 with the Bearer challenge.
    for path in [
        "/api/v1/patients/list/",
        "/api/v1/patients/search/?q=anna",
        path.as_str(),
    ] {
        let reply = server.call(Method::GET, path, None, None).await;
        reply.expect_error(401, "UNAUTHENTICATED");
        assert!(
            reply
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer")),
            "{:?}",
            reply.headers
        );
    }
    let unchanged = server.get(&path, &doctor).await;
    unchanged.expect(200);
    assert_eq!(unchanged.data()["full_name"], "Anna Smith");
}

// ---------------------------------------------------------------------------------------------
// paths and audit

#[tokio::test]
async fn patient_paths_work_with_and_without_a_trailing_slash() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let body = json!({"full_name": "Anna Smith", "date_of_birth": "1980-02-03", "sex": "female"});
    let a = server.post("/api/v1/patients", &doctor, body.clone()).await;
    a.expect(201);
    let b = server.post("/api/v1/patients/", &doctor, body).await;
    b.expect(201);
    let id = a.data()["id"].as_str().unwrap();

    for path in ["/api/v1/patients/list/", "/api/v1/patients/list"] {
        let reply = server.get(path, &doctor).await;
        reply.expect(200);
        assert_eq!(reply.data()["pagination"]["total"], 2, "{path}");
    }
    for path in [
        "/api/v1/patients/list/?limit=10",
        "/api/v1/patients/list?limit=10&sort=name",
    ] {
        server.get(path, &doctor).await.expect(200);
    }
    for path in [
        "/api/v1/patients/search/?q=anna",
        "/api/v1/patients/search?q=anna",
    ] {
        let reply = server.get(path, &doctor).await;
        reply.expect(200);
        assert_eq!(reply.data()["count"], 2, "{path}");
    }
    for path in [
        format!("/api/v1/patients/{id}"),
        format!("/api/v1/patients/{id}/"),
    ] {
        let reply = server.get(&path, &doctor).await;
        reply.expect(200);
        assert_eq!(reply.data()["id"], id);
        server
            .patch(&path, &doctor, json!({"referred_by": "Dr. Rao"}))
            .await
            .expect(200);
    }
    // A wrong method is 405 in the envelope.
    server
        .call(
            Method::DELETE,
            &format!("/api/v1/patients/{id}"),
            Some(&doctor.access_token),
            None,
        )
        .await
        .expect_error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn opening_a_chart_writes_a_patient_read_audit_row() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let id = server.patient(&doctor, "Anna Smith").await;

    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let rows = |action: &'static str| {
        let server = &server;
        async move {
            server
                .sql_rows(
                    "SELECT CAST(user_id AS TEXT), resource_type, resource_id,
                            CAST(patient_id AS TEXT), outcome, request_id
                     FROM audit_events WHERE action = $1 ORDER BY at, id",
                    &[action],
                )
                .await
                .into_iter()
                .map(|row| -> Row {
                    let [
                        user,
                        resource_type,
                        resource_id,
                        patient_id,
                        outcome,
                        request_id,
                    ] = <[Option<String>; 6]>::try_from(row).expect("six columns");
                    (
                        user,
                        resource_type,
                        resource_id,
                        patient_id,
                        outcome.expect("outcome is NOT NULL"),
                        request_id.expect("request_id is NOT NULL"),
                    )
                })
                .collect::<Vec<Row>>()
        }
    };
    assert!(rows("patient.read").await.is_empty());

    let reply = server.get(&format!("/api/v1/patients/{id}"), &doctor).await;
    reply.expect(200);
    let read = rows("patient.read").await;
    assert_eq!(read.len(), 1, "{read:?}");
    let (user, resource_type, resource_id, patient_id, outcome, request_id) = &read[0];
    assert_eq!(user.as_deref(), Some(doctor.user_id.as_str()));
    assert_eq!(resource_type.as_deref(), Some("patient"));
    assert_eq!(resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(patient_id.as_deref(), Some(id.as_str()));
    assert_eq!(outcome, "success");
    assert_eq!(Some(request_id), reply.request_id.as_ref());

    // Another doctor's attempt is audited as denied.
    let denied = server.get(&format!("/api/v1/patients/{id}"), &other).await;
    denied.expect_error(404, "NOT_FOUND");
    let read = rows("patient.read").await;
    assert_eq!(read.len(), 2, "{read:?}");
    let denied_row = read
        .iter()
        .find(|r| r.0.as_deref() == Some(other.user_id.as_str()))
        .expect("a row for the denied read");
    assert_eq!(denied_row.4, "denied");
    assert_eq!(denied_row.2.as_deref(), Some(id.as_str()));
    assert_eq!(Some(&denied_row.5), denied.request_id.as_ref());

    // Registration, update, list and search are audited too.
    server
        .patch(
            &format!("/api/v1/patients/{id}"),
            &doctor,
            json!({"address": "Here"}),
        )
        .await
        .expect(200);
    server
        .get("/api/v1/patients/list/", &doctor)
        .await
        .expect(200);
    server
        .get("/api/v1/patients/search/?q=ann", &doctor)
        .await
        .expect(200);
    for action in [
        "patient.create",
        "patient.update",
        "patient.list",
        "patient.search",
    ] {
        let found = rows(action).await;
        assert_eq!(found.len(), 1, "{action}: {found:?}");
        assert_eq!(found[0].0.as_deref(), Some(doctor.user_id.as_str()));
        assert_eq!(found[0].4, "success");
    }
    assert_eq!(
        rows("patient.create").await[0].3.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        rows("patient.update").await[0].3.as_deref(),
        Some(id.as_str())
    );
}

#[tokio::test]
async fn substrings_need_a_word_of_three_characters() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    register(&server, &doctor, "Ozzy Smith", json!({})).await;
    register(&server, &doctor, "Zz Top", json!({"phone": "+1 555 0199"})).await;

    // Two letters: prefixes only, so the name holding "zz" inside is not found.
    assert_eq!(search(&server, &doctor, "zz").await, ["Zz Top"]);
    // Three: inside a name too, after the prefix matches.
    assert_eq!(search(&server, &doctor, "zzy").await, ["Ozzy Smith"]);
    assert_eq!(search(&server, &doctor, "mit").await, ["Ozzy Smith"]);
    // A phone is found whole or by its last four digits, never by a fragment.
    assert!(search(&server, &doctor, "19").await.is_empty());
    assert!(search(&server, &doctor, "199").await.is_empty());
    assert_eq!(search(&server, &doctor, "0199").await, ["Zz Top"]);
    // The list's search matches the same way.
    let listed = server
        .call(
            Method::GET,
            "/api/v1/patients/list/?search=zz",
            Some(&doctor.access_token),
            None,
        )
        .await;
    listed.expect(200);
    assert_eq!(listed.data()["pagination"]["total"], 1);
}

#[tokio::test]
async fn a_receptionist_changes_demographics_and_contacts_but_no_clinical_field() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let p = register(
        &server,
        &doctor,
        "Anna Smith",
        json!({"allergies": {"status": "known", "items": [{"substance": "Penicillin"}]},
               "alerts": ["Falls risk"]}),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/api/v1/patients/{id}");

    let reply = server
        .patch(
            &path,
            &desk,
            json!({"full_name": "Anna Smith-Jones", "date_of_birth": "1981-03-04", "sex": "other",
                   "phone": "98450 12345", "email": "anna@example.test",
                   "address": "1 High Street", "referred_by": "Dr Brown"}),
        )
        .await;
    reply.expect(200);
    let answer = reply.data();
    assert_eq!(answer["full_name"], "Anna Smith-Jones");
    assert_eq!(answer["address"], "1 High Street");
    // The answer leaves the clinical fields out for a receptionist.
    assert_eq!(
        answer["allergies"],
        json!({"status": "not_recorded", "items": []})
    );
    assert_eq!(answer["alerts"], json!([]));

    // The doctor's chart has the new demographics and the clinical fields as they were.
    let chart = server.get(&path, &doctor).await;
    chart.expect(200);
    let chart = chart.data();
    assert_eq!(chart["full_name"], "Anna Smith-Jones");
    assert_eq!(chart["date_of_birth"], "1981-03-04");
    assert_eq!(chart["sex"], "other");
    assert_eq!(chart["phone"], "98450 12345");
    assert_eq!(chart["email"], "anna@example.test");
    assert_eq!(chart["referred_by"], "Dr Brown");
    assert_eq!(chart["allergies"], p["allergies"]);
    assert_eq!(chart["alerts"], json!(["Falls risk"]));
    assert_eq!(
        search(&server, &doctor, "jones").await,
        ["Anna Smith-Jones"]
    );

    // A clinical field refuses the whole change, naming the field.
    for clinical in [
        json!({"allergies": {"status": "none_known"}}),
        json!({"alerts": []}),
        json!({"symptoms": []}),
        json!({"illness_duration": null}),
        json!({"full_name": "Someone Else", "alerts": ["x"]}),
    ] {
        let field = clinical
            .as_object()
            .unwrap()
            .keys()
            .find(|k| *k != "full_name")
            .unwrap()
            .clone();
        let reply = server.patch(&path, &desk, clinical).await;
        reply.expect_error(403, "FORBIDDEN");
        assert!(reply.body.to_string().contains(&field), "{:#}", reply.body);
    }
    let after = server.get(&path, &doctor).await;
    after.expect(200);
    assert_eq!(after.data()["full_name"], "Anna Smith-Jones");
    assert_eq!(after.data()["allergies"], p["allergies"]);

    // Validation names the field for a receptionist too.
    let reply = server
        .patch(&path, &desk, json!({"email": "not an email"}))
        .await;
    expect_field_error(&reply, "email");
}

#[tokio::test]
async fn the_doctor_list_names_the_active_doctors_for_a_receptionist_and_an_admin() {
    let server = TestServer::start().await;
    let zed = server.login_new("zed@clinic.test", Role::Doctor).await;
    let retired = server.login_new("retired@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    server
        .post(
            &format!("/api/v1/admin/users/{}/disable", retired.user_id),
            &admin,
            json!({}),
        )
        .await
        .expect(200);
    let ada = server.login_new("ada@clinic.test", Role::Doctor).await;

    for session in [&desk, &admin] {
        let reply = server.get("/api/v1/doctors", session).await;
        reply.expect(200);
        let doctors = reply.data().as_array().unwrap().clone();
        let found: Vec<String> = doctors
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(found.len(), 2, "{doctors:#?}");
        assert!(found.contains(&zed.user_id) && found.contains(&ada.user_id));
        assert!(!found.contains(&retired.user_id));
        for d in &doctors {
            assert_eq!(keys(d), ["id", "full_name"].map(String::from).into());
        }
    }
    server
        .get("/api/v1/doctors", &zed)
        .await
        .expect_error(403, "FORBIDDEN");
}
