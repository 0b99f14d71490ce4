//! The PostgreSQL engine against a real PostgreSQL server: two server instances sharing one
//! database, the same answers and cursors as the SQLite engine on the same data, index use of
//! every list and search statement under generic plans, concurrent writes, concurrent
//! migrations, and the append-only audit trail.
//!
//! They need `SYNAPSE_TEST_POSTGRES_URL` (a URL on which the tests may create databases, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without it every test says "skipped" on the
//! terminal and returns. Each test creates its own database and drops it at the end.

mod common;

use std::io::Write as _;

use common::{TestDatabase, TestServer, postgres_url, test_config};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgConnection;
use synapse::model::admin::NewUser;
use synapse::model::auth::Role;
use synapse::model::consultation::SessionType;
use synapse::model::patient::PatientSort;
use synapse::model::report::{ReportContent, ReportFilter, ReportStatus};
use synapse::model::time::now;
use synapse::store::postgres::PgStore;
use synapse::store::postgres::statements::{self, Statement};
use synapse::store::sql::Dialect;
use synapse::store::sqlite::SqliteStore;
use synapse::store::synth::{self, SynthPlan};
use synapse::store::{
    Actor, Administrator, AuditPosition, ConsoleOperator, PageStart, PatientListQuery,
    ReportListQuery, SessionPolicy, SessionUse, Store,
};
use uuid::Uuid;

/// The server URL, or `None` after telling the terminal (past the test harness's output
/// capture) that the test is skipped and why.
fn postgres_or_skip(test: &str) -> Option<String> {
    let url = postgres_url();
    if url.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped {test}: set SYNAPSE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run the PostgreSQL tests"
        );
    }
    url
}

/// Under `CI=true` the PostgreSQL tests cannot skip themselves: a missing URL is a failure.
#[test]
fn ci_without_a_postgres_url_fails_instead_of_skipping() {
    assert!(common::postgres_url_from(Some("true"), None).is_err());
    assert!(common::postgres_url_from(Some("true"), Some("  ")).is_err());
    assert_eq!(common::postgres_url_from(None, None), Ok(None));
    assert_eq!(
        common::postgres_url_from(Some("true"), Some("postgres://h/db")),
        Ok(Some("postgres://h/db".into()))
    );
}

fn actor(user_id: Uuid, role: Role) -> Actor {
    Actor {
        user_id,
        role,
        request_id: "store-postgres-test".into(),
        client_request_id: None,
        ip: None,
        channel: None,
    }
}

/// Creates `count` doctors and one receptionist; returns their ids.
async fn staff(store: &dyn Store, count: usize) -> (Vec<Uuid>, Uuid) {
    let make = async |email: String, role| {
        let user = NewUser {
            email,
            full_name: "Test Person".into(),
            role,
            password: String::new(),
        };
        // No one logs in: any stored hash will do.
        store
            .create_user(None, &user, "not-a-real-hash")
            .await
            .expect("user")
            .id
    };
    let mut doctors = Vec::new();
    for n in 0..count {
        doctors.push(make(format!("doctor-{n}@clinic.test"), Role::Doctor).await);
    }
    let receptionist = make("desk@clinic.test".into(), Role::Receptionist).await;
    (doctors, receptionist)
}

/// Loads the same synthetic practice into `store`: `doctors` × `per_doctor` patients.
async fn load(
    store: &dyn Store,
    doctors: &[Uuid],
    per_doctor: usize,
    at: chrono::DateTime<chrono::Utc>,
) {
    let plan = SynthPlan {
        seed: 7,
        doctors: doctors.len(),
        patients_per_doctor: per_doctor,
        now: at,
        first_mrn_seq: 1,
    };
    let patients: Vec<_> = synth::patients(&plan).collect();
    for batch in patients.chunks(1_000) {
        store
            .insert_synthetic(doctors, batch)
            .await
            .expect("synthetic data");
    }
}

// ---------------------------------------------------------------------------------------------
// Two instances, one database
// ---------------------------------------------------------------------------------------------

async fn login(server: &TestServer, email: &str, password: &str) -> common::Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
}

async fn refresh(server: &TestServer, refresh_token: &str) -> common::Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
}

async fn me(server: &TestServer, access_token: &str) -> common::Reply {
    server
        .call(Method::GET, "/api/v1/auth/me", Some(access_token), None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_lockouts_logouts_and_refresh_tokens() {
    let Some(url) =
        postgres_or_skip("two_servers_on_one_database_share_lockouts_logouts_and_refresh_tokens")
    else {
        return;
    };
    let a = TestServer::start_postgres_on(&url, test_config()).await;
    let b = a.start_beside(test_config()).await;
    assert_ne!(a.base, b.base, "two listeners");

    // Failed logins alternate between the instances: the fifth locks the account everywhere.
    a.user("locked@clinic.test", Role::Doctor).await;
    for n in 0..5 {
        let server = if n % 2 == 0 { &a } else { &b };
        let reply = login(server, "locked@clinic.test", "not-the-password").await;
        if n < 4 {
            reply.expect_error(401, "INVALID_CREDENTIALS");
        } else {
            reply.expect_error(423, "ACCOUNT_LOCKED");
        }
    }
    for server in [&a, &b] {
        login(server, "locked@clinic.test", common::PASSWORD)
            .await
            .expect_error(423, "ACCOUNT_LOCKED");
    }

    // A session opened on A works on B; logging out on B ends it on A too.
    let doctor = a.login_new("doc@clinic.test", Role::Doctor).await;
    me(&b, &doctor.access_token).await.expect(200);
    b.call(
        Method::POST,
        "/api/v1/auth/logout",
        Some(&doctor.access_token),
        None,
    )
    .await
    .expect(200);
    for server in [&a, &b] {
        me(server, &doctor.access_token)
            .await
            .expect_error(401, "SESSION_REVOKED");
        refresh(server, &doctor.refresh_token).await.expect(401);
    }

    // A refresh token rotated on B is spent on A: replaying it there revokes the session.
    let second = a.login("doc@clinic.test", common::PASSWORD).await;
    let rotated = refresh(&b, &second.refresh_token).await;
    rotated.expect(200);
    let new_access = rotated.data()["access_token"].as_str().unwrap().to_string();
    me(&a, &new_access).await.expect(200);
    refresh(&a, &second.refresh_token)
        .await
        .expect_error(401, "SESSION_REVOKED");
    me(&b, &new_access)
        .await
        .expect_error(401, "SESSION_REVOKED");
}

// ---------------------------------------------------------------------------------------------
// Concurrent writes
// ---------------------------------------------------------------------------------------------

/// A POST or PATCH sent on its own task: status and body.
fn send(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: &str,
    body: Value,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let request = http.request(method, url).bearer_auth(token).json(&body);
    tokio::spawn(async move {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

async fn all(handles: Vec<tokio::task::JoinHandle<(u16, Value)>>) -> Vec<(u16, Value)> {
    let mut replies = Vec::new();
    for handle in handles {
        replies.push(handle.await.expect("request task"));
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_on_two_instances_let_exactly_one_through() {
    let Some(url) = postgres_or_skip("concurrent_writes_on_two_instances_let_exactly_one_through")
    else {
        return;
    };
    let a = TestServer::start_postgres_on(&url, test_config()).await;
    let b = a.start_beside(test_config()).await;
    let doctor = a.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = a.patient(&doctor, "Anna Smith").await;

    // Eight starts for one patient at once, spread over both instances.
    let starts = all(
        (0..8)
            .map(|n| {
                let base = if n % 2 == 0 { &a.base } else { &b.base };
                send(
                    &a.http,
                    Method::POST,
                    format!("{base}/api/v1/consultation/start"),
                    &doctor.access_token,
                    json!({"patient_id": patient, "session_type": "follow_up", "chief_complaint": "Race"}),
                )
            })
            .collect(),
    )
    .await;
    let created: Vec<&Value> = starts
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{starts:#?}");
    let winner = created[0]["data"]["id"].as_str().unwrap().to_string();
    for (status, body) in starts.iter().filter(|(status, _)| *status != 201) {
        assert_eq!(*status, 409, "{body:#}");
        assert_eq!(body["error"]["code"], "CONSULTATION_ACTIVE");
        assert_eq!(body["error"]["details"]["consultation_id"], winner.as_str());
    }
    assert_eq!(
        a.sql_count("SELECT COUNT(*) FROM consultations", &[]).await,
        1
    );

    // Four stops at once: one report.
    let stops = all(
        (0..4)
            .map(|n| {
                let base = if n % 2 == 0 { &a.base } else { &b.base };
                send(
                    &a.http,
                    Method::POST,
                    format!("{base}/api/v1/consultation/{winner}/stop"),
                    &doctor.access_token,
                    json!({"notes": "History: low mood for two months.\nAssessment: depressive episode.\nPlan: follow up in two weeks."}),
                )
            })
            .collect(),
    )
    .await;
    assert_eq!(
        stops.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{stops:#?}"
    );
    assert_eq!(a.sql_count("SELECT COUNT(*) FROM reports", &[]).await, 1);
    let report_id = stops
        .iter()
        .find(|(s, _)| *s == 200)
        .and_then(|(_, body)| body["data"]["report_id"].as_str())
        .unwrap()
        .to_string();
    let report = a.wait_for_report(&doctor, &report_id).await;
    assert_eq!(report["status"], "completed", "{report:#}");

    // Three saves of version 1 at once: one wins, the others learn of version 2.
    let edits = all(["first", "second", "third"]
        .into_iter()
        .enumerate()
        .map(|(n, who)| {
            let base = if n % 2 == 0 { &a.base } else { &b.base };
            send(
                &a.http,
                Method::PATCH,
                format!("{base}/api/v1/reports/{report_id}"),
                &doctor.access_token,
                json!({"content": {"assessment": who}, "version": 1}),
            )
        })
        .collect())
    .await;
    assert_eq!(
        edits.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{edits:#?}"
    );
    for (status, body) in edits.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body:#}");
        assert_eq!(body["error"]["code"], "VERSION_CONFLICT");
        assert_eq!(body["error"]["details"]["current_version"], 2);
    }
    let read = b
        .get(&format!("/api/v1/reports/{report_id}"), &doctor)
        .await;
    assert_eq!(read.data()["version"], 2);

    // Patients registered at once on both instances get distinct, dense MRNs.
    let registrations = all(
        (0..10)
            .map(|n| {
                let base = if n % 2 == 0 { &a.base } else { &b.base };
                send(
                    &a.http,
                    Method::POST,
                    format!("{base}/api/v1/patients"),
                    &doctor.access_token,
                    json!({"full_name": format!("Patient {n}"), "date_of_birth": "1980-02-03", "sex": "female"}),
                )
            })
            .collect(),
    )
    .await;
    let mut mrns: Vec<String> = registrations
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body:#}");
            body["data"]["mrn"].as_str().unwrap().to_string()
        })
        .collect();
    mrns.sort();
    let expected: Vec<String> = (2..=11).map(|n| format!("MRN-{n:06}")).collect();
    assert_eq!(mrns, expected);
}

// ---------------------------------------------------------------------------------------------
// The same answers as SQLite
// ---------------------------------------------------------------------------------------------

/// Every page of a list, following cursors, as JSON.
async fn pages(
    store: &dyn Store,
    actor: &Actor,
    sort: PatientSort,
    search: Option<&str>,
) -> Vec<Value> {
    let mut start = PageStart::Offset(0);
    let mut out = Vec::new();
    loop {
        let page = store
            .list_patients(
                actor,
                &PatientListQuery {
                    filter: Default::default(),
                    search: search.map(str::to_string),
                    sort,
                    limit: 37,
                    start: start.clone(),
                },
            )
            .await
            .expect("list page");
        let next = page.pagination.next_cursor.clone();
        out.push(without_doctor_ids(serde_json::to_value(&page).unwrap()));
        match next {
            Some(cursor) => start = PageStart::Cursor(cursor),
            None => return out,
        }
    }
}

/// An answer of either store, to compare across the two: the value as JSON with each user id of
/// the PostgreSQL store replaced by its twin of the SQLite store (`users`), or the error.
fn comparable<T: serde::Serialize>(
    answer: synapse::store::StoreResult<T>,
    users: &[(String, String)],
) -> Result<Value, String> {
    match answer {
        Ok(value) => {
            let mut text = serde_json::to_string(&value).unwrap();
            for (on_pg, on_lite) in users {
                text = text.replace(on_pg, on_lite);
            }
            Ok(serde_json::from_str(&text).unwrap())
        }
        Err(e) => Err(format!("{e:?}")),
    }
}

/// A report without what a write stamps with the time it ran or a fresh id (which differ
/// between two stores doing the same).
fn without_write_times(mut report: Value) -> Value {
    if let Some(report) = report.as_object_mut() {
        report.remove("updated_at");
        report.remove("signed_at");
        for addendum in report
            .get_mut("addenda")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(addendum) = addendum.as_object_mut() {
                addendum.remove("id");
                addendum.remove("created_at");
            }
        }
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_searches_and_cursors_match_the_sqlite_engine_on_the_same_data() {
    let Some(url) =
        postgres_or_skip("lists_searches_and_cursors_match_the_sqlite_engine_on_the_same_data")
    else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    let pg = PgStore::open(&database.url).await.expect("open");
    let mut pg_dense = PgStore::open(&database.url).await.expect("open again");
    pg_dense.set_dense_prefix_candidates(1);
    let dir = tempfile::tempdir().unwrap();
    let lite_url = format!("sqlite://{}", dir.path().join("s.db").display());
    let lite = SqliteStore::open(&lite_url).await.expect("open sqlite");
    let at = now();
    // Users get fresh ids in each store; the synthetic plan is the same, so patients match.
    let (pg_doctors, pg_desk) = staff(&pg, 4).await;
    let (lite_doctors, lite_desk) = staff(&lite, 4).await;
    load(&pg, &pg_doctors, 150, at).await;
    load(&lite, &lite_doctors, 150, at).await;
    // The same file searched the other way: every prefix read in last-visit order, as a
    // search with thousands of candidates is.
    let mut lite_dense = SqliteStore::open(&lite_url)
        .await
        .expect("open sqlite again");
    lite_dense.set_dense_prefix_candidates(1);

    // Terms from the data itself, and ones that exercise escaping and the phone rule.
    let sample: Vec<_> = synth::patients(&SynthPlan {
        seed: 7,
        doctors: 4,
        patients_per_doctor: 150,
        now: at,
        first_mrn_seq: 1,
    })
    .step_by(97)
    .collect();
    let mut terms: Vec<String> = vec![
        "a",
        "sm",
        "Smith",
        "an sm",
        "MRN-0000",
        "mrn-000012",
        "@example",
        "example.org",
        "zz",
        "%",
        "_",
        "\\",
        "98",
        "+1 (55",
        "x y z",
        "o'",
        "  maria  ",
        // Names with diacritics, typed with and without them.
        "muller",
        "MÜLLER",
        "gomez",
        "Gómez",
        "fernandez",
        "martínez",
        "lukasz",
        "soren",
        "yilmaz",
        "ull",
        "omez",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    for p in &sample {
        terms.push(p.full_name.clone());
        terms.push(p.full_name.to_uppercase());
        if let Some(word) = p.full_name.split_whitespace().last() {
            terms.push(word.chars().take(3).collect());
            terms.push(word.chars().skip(1).take(3).collect());
        }
        if let Some(phone) = &p.phone {
            terms.push(
                phone
                    .chars()
                    .rev()
                    .take(5)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect(),
            );
        }
        if let Some(email) = &p.email {
            terms.push(email.chars().take(4).collect());
        }
    }

    let who = [
        (
            actor(pg_doctors[0], Role::Doctor),
            actor(lite_doctors[0], Role::Doctor),
        ),
        (
            actor(pg_doctors[3], Role::Doctor),
            actor(lite_doctors[3], Role::Doctor),
        ),
        (
            actor(pg_desk, Role::Receptionist),
            actor(lite_desk, Role::Receptionist),
        ),
    ];
    for (pg_actor, lite_actor) in &who {
        for term in &terms {
            for limit in [10, 50] {
                let on_pg = pg
                    .search_patients(pg_actor, term, limit)
                    .await
                    .expect("pg search");
                let on_lite = lite
                    .search_patients(lite_actor, term, limit)
                    .await
                    .expect("sqlite search");
                assert_eq!(
                    without_doctor_ids(serde_json::to_value(&on_pg).unwrap()),
                    without_doctor_ids(serde_json::to_value(&on_lite).unwrap()),
                    "search {term:?} limit {limit} as {:?}",
                    pg_actor.role
                );
                let on_pg_dense = pg_dense
                    .search_patients(pg_actor, term, limit)
                    .await
                    .expect("pg search in last-visit order");
                assert_eq!(
                    without_doctor_ids(serde_json::to_value(&on_pg).unwrap()),
                    without_doctor_ids(serde_json::to_value(&on_pg_dense).unwrap()),
                    "search {term:?} limit {limit} as {:?}, read in last-visit order on PostgreSQL",
                    pg_actor.role
                );
                let on_lite_dense = lite_dense
                    .search_patients(lite_actor, term, limit)
                    .await
                    .expect("sqlite search in last-visit order");
                assert_eq!(
                    without_doctor_ids(serde_json::to_value(&on_lite).unwrap()),
                    without_doctor_ids(serde_json::to_value(&on_lite_dense).unwrap()),
                    "search {term:?} limit {limit} as {:?}, read in last-visit order",
                    pg_actor.role
                );
            }
        }
        for sort in [
            PatientSort::Name,
            PatientSort::LastVisitDesc,
            PatientSort::CreatedDesc,
        ] {
            for search in [None, Some("a"), Some("smi"), Some("MRN-0001")] {
                let on_pg = pages(&pg, pg_actor, sort, search).await;
                let on_lite = pages(&lite, lite_actor, sort, search).await;
                assert_eq!(
                    on_pg, on_lite,
                    "list {sort:?} {search:?} as {:?}",
                    pg_actor.role
                );
            }
        }
    }

    // Every name with diacritics is found typed without them, on both engines.
    let accented: Vec<_> = synth::patients(&SynthPlan {
        seed: 7,
        doctors: 4,
        patients_per_doctor: 150,
        now: at,
        first_mrn_seq: 1,
    })
    .filter(|p| !p.full_name.is_ascii())
    .take(40)
    .collect();
    assert!(accented.len() >= 20, "the plan has names with diacritics");
    let (pg_desk_actor, lite_desk_actor) = &who[2];
    for p in &accented {
        let plain = synapse::model::search::fold(&p.full_name);
        assert!(plain.is_ascii(), "{plain:?}");
        let on_pg = pg
            .search_patients(pg_desk_actor, &plain, 50)
            .await
            .expect("pg search");
        let on_lite = lite
            .search_patients(lite_desk_actor, &plain, 50)
            .await
            .expect("sqlite search");
        assert!(
            on_pg.iter().any(|found| found.id == p.id),
            "{plain:?} on PostgreSQL"
        );
        assert_eq!(
            without_doctor_ids(serde_json::to_value(&on_pg).unwrap()),
            without_doctor_ids(serde_json::to_value(&on_lite).unwrap()),
            "search {plain:?}"
        );
    }

    // Charts, a refused chart, and a patient created then edited the same way on both.
    {
        let (pg_doc, lite_doc) = &who[0];
        for p in &sample {
            let on_pg = pg.get_patient(pg_doc, p.id).await;
            let on_lite = lite.get_patient(lite_doc, p.id).await;
            match (on_pg, on_lite) {
                (Ok(on_pg), Ok(on_lite)) => assert_eq!(
                    without_doctor_ids(serde_json::to_value(on_pg).unwrap()),
                    without_doctor_ids(serde_json::to_value(on_lite).unwrap()),
                    "chart of {}",
                    p.id
                ),
                (Err(on_pg), Err(on_lite)) => {
                    assert_eq!(
                        format!("{on_pg:?}"),
                        format!("{on_lite:?}"),
                        "chart of {}",
                        p.id
                    )
                }
                (on_pg, on_lite) => panic!("chart of {}: {on_pg:?} against {on_lite:?}", p.id),
            }
        }
        // The stored times and the new id differ between the stores; everything else is the same.
        let comparable = |patient: &synapse::model::patient::Patient| {
            let mut value = without_doctor_ids(serde_json::to_value(patient).unwrap());
            for field in ["id", "created_at", "updated_at"] {
                value.as_object_mut().unwrap().remove(field);
            }
            value
        };
        let new_patient: synapse::model::patient::NewPatient = serde_json::from_value(json!({
            "full_name": "Zelda O'Brien-Núñez",
            "date_of_birth": "1975-06-30",
            "sex": "female",
            "phone": "+1 (555) 010-9999",
            "email": "Zelda@Example.org",
            "illness_duration": {"value": 3, "unit": "months"},
            "alerts": ["Fall risk"],
            "symptoms": [{"name": "Low mood", "severity": "moderate"}]
        }))
        .expect("a new patient");
        let created_pg = pg
            .create_patient(pg_doc, pg_doc.user_id, &new_patient)
            .await
            .expect("pg create");
        let created_lite = lite
            .create_patient(lite_doc, lite_doc.user_id, &new_patient)
            .await
            .expect("sqlite create");
        assert_eq!(comparable(&created_pg), comparable(&created_lite));
        let edit: synapse::model::patient::PatientUpdate = serde_json::from_value(json!({
            "full_name": "Zelda Quist",
            "phone": null,
            "address": "2 Elm Street",
            "illness_duration": null,
            "allergies": {"status": "none_known", "items": []}
        }))
        .expect("an edit");
        let updated_pg = pg
            .update_patient(pg_doc, created_pg.summary.id, &edit)
            .await
            .expect("pg update");
        let updated_lite = lite
            .update_patient(lite_doc, created_lite.summary.id, &edit)
            .await
            .expect("sqlite update");
        assert_eq!(comparable(&updated_pg), comparable(&updated_lite));
        assert_eq!(
            updated_pg,
            pg.get_patient(pg_doc, created_pg.summary.id)
                .await
                .expect("pg chart")
        );
        assert_eq!(
            updated_lite,
            lite.get_patient(lite_doc, created_lite.summary.id)
                .await
                .expect("sqlite chart")
        );
        for term in ["quist", "zelda qu", "0109", "@example.org"] {
            let on_pg = pg
                .search_patients(pg_doc, term, 10)
                .await
                .expect("pg search");
            let on_lite = lite
                .search_patients(lite_doc, term, 10)
                .await
                .expect("sqlite search");
            let ids = |found: &[synapse::model::patient::PatientSummary]| {
                found.iter().map(|p| p.mrn.clone()).collect::<Vec<_>>()
            };
            assert_eq!(ids(&on_pg), ids(&on_lite), "search {term:?} after the edit");
        }
        // Another doctor's patient is refused alike: not found, for the chart and the edit.
        let (pg_other, lite_other) = &who[1];
        let pg_refused = pg.get_patient(pg_other, created_pg.summary.id).await;
        let lite_refused = lite.get_patient(lite_other, created_lite.summary.id).await;
        assert_eq!(format!("{pg_refused:?}"), format!("{lite_refused:?}"));
        assert!(pg_refused.is_err());
        let pg_refused = pg
            .update_patient(pg_other, created_pg.summary.id, &edit)
            .await;
        let lite_refused = lite
            .update_patient(lite_other, created_lite.summary.id, &edit)
            .await;
        assert_eq!(format!("{pg_refused:?}"), format!("{lite_refused:?}"));
        assert!(pg_refused.is_err());
    }
    let users: Vec<(String, String)> = pg_doctors
        .iter()
        .chain([&pg_desk])
        .zip(lite_doctors.iter().chain([&lite_desk]))
        .map(|(on_pg, on_lite)| (on_pg.to_string(), on_lite.to_string()))
        .collect();

    // Reports of a doctor, page by page with the same cursors, plain and filtered.
    let (pg_doc, lite_doc) = &who[0];
    let mut listed = Vec::new();
    for filter in [
        ReportFilter::default(),
        ReportFilter {
            status: Some(ReportStatus::Signed),
            ..ReportFilter::default()
        },
        ReportFilter {
            date_from: Some(at - chrono::Duration::days(60)),
            date_to: Some(at - chrono::Duration::days(5)),
            ..ReportFilter::default()
        },
        ReportFilter {
            status: Some(ReportStatus::Completed),
            session_type: Some(SessionType::FollowUp),
            ..ReportFilter::default()
        },
        ReportFilter {
            patient_id: Some(sample[0].id),
            ..ReportFilter::default()
        },
    ] {
        let mut start = PageStart::Offset(0);
        loop {
            let query = ReportListQuery {
                filter: filter.clone(),
                limit: 23,
                start: start.clone(),
            };
            let on_pg = pg.list_reports(pg_doc, &query).await.expect("pg reports");
            let on_lite = lite
                .list_reports(lite_doc, &query)
                .await
                .expect("sqlite reports");
            let (pg_json, lite_json) = (
                serde_json::to_value(&on_pg).unwrap(),
                serde_json::to_value(&on_lite).unwrap(),
            );
            assert_eq!(pg_json, lite_json, "reports {filter:?} from {start:?}");
            listed.extend(on_lite.items.iter().map(|r| r.id));
            match on_pg.pagination.next_cursor {
                Some(cursor) => start = PageStart::Cursor(cursor),
                None => break,
            }
        }
    }
    // Statistics of the doctor and of single patients (one of them another doctor's).
    let first_of = |status: Option<ReportStatus>| ReportListQuery {
        filter: ReportFilter {
            status,
            ..ReportFilter::default()
        },
        limit: 1,
        start: PageStart::Offset(0),
    };
    let (_, other_lite_doc) = &who[1];
    let others = lite
        .list_reports(other_lite_doc, &first_of(None))
        .await
        .expect("another doctor's reports");
    let (other_report, other_patient) = (others.items[0].id, others.items[0].patient.id);
    for patient in [None, Some(sample[0].id), Some(other_patient)] {
        for days in [1, 7, 30, 90] {
            let on_pg = pg.report_stats(pg_doc, patient, days).await;
            let on_lite = lite.report_stats(lite_doc, patient, days).await;
            assert_eq!(
                comparable(on_pg, &users),
                comparable(on_lite, &users),
                "stats of {patient:?} over {days} days"
            );
        }
    }

    // Every listed report read whole, and one of another doctor's.
    listed.push(other_report);
    listed.sort();
    listed.dedup();
    for id in &listed {
        assert_eq!(
            comparable(pg.get_report(pg_doc, *id).await, &users),
            comparable(lite.get_report(lite_doc, *id).await, &users),
            "report {id}"
        );
    }

    // Review on both engines, step by step: the same answers and the same refusals.
    let draft = lite
        .list_reports(lite_doc, &first_of(Some(ReportStatus::Completed)))
        .await
        .expect("a completed report")
        .items[0]
        .clone();
    let pending = lite
        .list_reports(lite_doc, &first_of(Some(ReportStatus::Pending)))
        .await
        .expect("pending reports")
        .items
        .first()
        .map(|r| r.id);
    let version = lite
        .get_report(lite_doc, draft.id)
        .await
        .expect("the draft")
        .version;
    let edited: ReportContent =
        serde_json::from_value(json!({"assessment": "Reviewed on both engines"})).unwrap();
    let draft = draft.id;
    for step in 0..10 {
        let on = async |store: &dyn Store, doctor: &Actor| match step {
            0 => store.edit_report(doctor, draft, &edited, version).await,
            1 => store.edit_report(doctor, draft, &edited, version).await,
            2 => store.add_addendum(doctor, draft, "Too early.").await,
            // Stale since step 0's edit: refused on both.
            3 => store.sign_report(doctor, draft, version).await,
            4 => store.edit_report(doctor, draft, &edited, version + 1).await,
            5 => store.sign_report(doctor, draft, version + 2).await,
            6 => {
                store
                    .add_addendum(doctor, draft, "Called the patient.")
                    .await
            }
            7 => store.get_report(doctor, draft).await,
            8 => store.sign_report(doctor, other_report, 1).await,
            _ => match pending {
                Some(pending) => store.sign_report(doctor, pending, 1).await,
                None => store.get_report(doctor, draft).await,
            },
        };
        let on_pg = on(&pg, pg_doc).await;
        let on_lite = on(&lite, lite_doc).await;
        assert_eq!(
            comparable(on_pg, &users).map(without_write_times),
            comparable(on_lite, &users).map(without_write_times),
            "review step {step}"
        );
    }

    // The generation queue: the doctor's unfinished reports queued, two claimed and
    // finished (one drafted, one failed), then no longer queued.
    let queue = format!(
        "UPDATE reports SET queued_at = created_at \
         WHERE status IN ('pending', 'generating') AND doctor_id = '{}'",
        pg_doc.user_id
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(queue))
        .execute(pg.pool())
        .await
        .expect("queue on PostgreSQL");
    let queue = format!(
        "UPDATE reports SET queued_at = created_at \
         WHERE status IN ('pending', 'generating') AND doctor_id = '{}'",
        lite_doc.user_id
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(queue))
        .execute(lite.pool())
        .await
        .expect("queue on SQLite");
    let queued = lite.queued_reports().await.expect("sqlite queue");
    assert_eq!(pg.queued_reports().await.expect("pg queue"), queued);
    assert!(queued.len() >= 2, "{} queued", queued.len());
    let drafted: ReportContent =
        serde_json::from_value(json!({"history": "Drafted on both engines"})).unwrap();
    for (n, id) in queued.iter().take(2).enumerate() {
        let jobs = (
            pg.claim_generation(*id).await.expect("pg claim"),
            lite.claim_generation(*id).await.expect("sqlite claim"),
        );
        let job = |job: Option<synapse::store::GenerationJob>| {
            job.map(|job| (job.report_id, job.notes, job.chief_complaint))
        };
        let (on_pg, on_lite) = (job(jobs.0), job(jobs.1));
        assert!(on_lite.is_some(), "report {id} claimed");
        assert_eq!(on_pg, on_lite, "claim of {id}");
        let result = if n == 0 {
            Ok((&drafted, 0.825, "test-generator"))
        } else {
            Err("the generator stopped")
        };
        pg.finish_generation(*id, result).await.expect("pg finish");
        lite.finish_generation(*id, result)
            .await
            .expect("sqlite finish");
        assert_eq!(
            comparable(pg.get_report(pg_doc, *id).await, &users).map(without_write_times),
            comparable(lite.get_report(lite_doc, *id).await, &users).map(without_write_times),
            "report {id} after generation"
        );
        assert!(pg.claim_generation(*id).await.expect("pg claim").is_none());
        assert!(
            lite.claim_generation(*id)
                .await
                .expect("sqlite claim")
                .is_none()
        );
    }
    assert_eq!(
        pg.queued_reports().await.expect("pg queue"),
        lite.queued_reports().await.expect("sqlite queue")
    );
    assert_eq!(
        lite.queued_reports().await.expect("sqlite queue").len(),
        queued.len() - 2
    );

    // A patient's history, page by page.
    let patient = sample[0].id;
    for offset in [0, 2] {
        let on_pg = pg
            .consultation_history(pg_doc, patient, 2, offset)
            .await
            .expect("pg history");
        let on_lite = lite
            .consultation_history(lite_doc, patient, 2, offset)
            .await
            .expect("sqlite history");
        // The doctor's id differs between the two stores; everything else is the same.
        let without_doctor = |history| {
            let mut value = serde_json::to_value(history).unwrap();
            for item in value["items"].as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("doctor_id");
            }
            value
        };
        assert_eq!(without_doctor(&on_pg), without_doctor(&on_lite));
    }

    // A consultation's life on both: start, a second start, in progress, notes, stop (which
    // queues its report), a cancelled one, another doctor's attempts, the history after, and
    // the live events all that wrote.
    let (pg_other, lite_other) = &who[1];
    let mut pg_ids = Vec::new();
    let mut lite_ids = Vec::new();
    let on_pg = consultation_transcript(&pg, pg_doc, pg_other).await;
    let on_lite = consultation_transcript(&lite, lite_doc, lite_other).await;
    assert_eq!(on_pg.len(), on_lite.len());
    for (step, (on_pg, on_lite)) in on_pg.into_iter().zip(on_lite).enumerate() {
        assert_eq!(
            normalized(on_pg, &mut pg_ids),
            normalized(on_lite, &mut lite_ids),
            "consultation step {step}"
        );
    }
}

/// Consultations step by step on `store`, for the first of `doctor`'s patients by name that has
/// none running: what each step answered.
async fn consultation_transcript(store: &dyn Store, doctor: &Actor, other: &Actor) -> Vec<Value> {
    use synapse::model::consultation::{Consultation, StartConsultation};
    let running: Vec<Uuid> = store
        .active_consultations(doctor)
        .await
        .expect("running consultations")
        .iter()
        .map(|c| c.patient_id)
        .collect();
    let listed = store
        .list_patients(
            doctor,
            &PatientListQuery {
                filter: Default::default(),
                search: None,
                sort: PatientSort::Name,
                limit: 50,
                start: PageStart::Offset(0),
            },
        )
        .await
        .expect("patients");
    let patient = listed
        .items
        .iter()
        .find(|p| !running.contains(&p.id))
        .expect("a patient without a running consultation")
        .id;
    // The session code carries random digits of the new id; everything else must agree.
    let record = |answer: synapse::store::StoreResult<Consultation>| match answer {
        Ok(consultation) => {
            let mut value = serde_json::to_value(consultation).unwrap();
            value.as_object_mut().unwrap().remove("session_code");
            value
        }
        Err(e) => json!({ "error": e.to_string() }),
    };
    let start = StartConsultation {
        patient_id: patient,
        session_type: SessionType::FollowUp,
        chief_complaint: Some("A dry cough".into()),
    };
    let mut steps = Vec::new();
    let started = store.start_consultation(doctor, &start).await;
    let id = started
        .as_ref()
        .map(|c| c.id)
        .expect("a consultation starts");
    steps.push(record(started));
    steps.push(record(store.start_consultation(doctor, &start).await));
    steps.push(record(store.start_consultation(other, &start).await));
    let active = store.active_consultations(doctor).await.expect("active");
    steps.push(json!(active.iter().any(|c| c.id == id)));
    steps.push(record(store.get_consultation(doctor, id).await));
    steps.push(record(store.get_consultation(other, id).await));
    steps.push(record(
        store
            .update_notes(doctor, id, "History: a dry cough.\nPlan: fluids.")
            .await,
    ));
    steps.push(record(store.update_notes(other, id, "taken over").await));
    steps.push(record(store.stop_consultation(doctor, id, None).await));
    steps.push(record(store.stop_consultation(doctor, id, None).await));
    steps.push(record(store.update_notes(doctor, id, "too late").await));
    let second = store
        .start_consultation(doctor, &start)
        .await
        .expect("a second consultation starts once the first stopped");
    steps.push(record(
        store
            .cancel_consultation(doctor, second.id, "Patient left")
            .await,
    ));
    steps.push(record(
        store.cancel_consultation(other, second.id, "no").await,
    ));
    let history = store
        .consultation_history(doctor, patient, 3, 0)
        .await
        .map(|history| {
            let mut value = serde_json::to_value(history).unwrap();
            for item in value["items"].as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("session_code");
            }
            value
        })
        .unwrap_or_else(|e| json!({ "error": e.to_string() }));
    steps.push(history);
    steps.push(
        store
            .consultation_history(other, patient, 3, 0)
            .await
            .map(|_| json!("answered"))
            .unwrap_or_else(|e| json!({ "error": e.to_string() })),
    );
    // The live events of those steps, as each doctor's stream replays them from the start
    // (their ids are stream positions: numbers, the same on both only by chance).
    for who in [doctor, other] {
        let replay = store
            .subscribe_events(who, Some(0))
            .await
            .expect("the events replay");
        if std::ptr::eq(who, doctor) {
            use synapse::model::event::EventKind as K;
            let kinds: Vec<K> = replay.events.iter().map(|e| e.kind).collect();
            assert!(
                kinds.ends_with(&[
                    K::ConsultationStarted,
                    K::ConsultationNotesSaved,
                    K::ConsultationStopped,
                    K::ReportCreated,
                    K::ConsultationStarted,
                    K::ConsultationCancelled,
                ]),
                "{kinds:?}"
            );
        }
        let mut events = serde_json::to_value(&replay.events).unwrap();
        for event in events.as_array_mut().unwrap() {
            event.as_object_mut().unwrap().remove("id");
        }
        steps.push(json!({ "reset": replay.reset, "events": events }));
    }
    steps
}

/// Ids and times differ between two stores; everything else must not. Each id (a string that
/// reads as a UUID) becomes `id<n>` in the order ids first appear, each time becomes `<time>`.
/// A page cursor's content (base64 of a small JSON object naming its list), if `text` is one:
/// its time and id differ between the engines as the rows' do.
fn cursor_content(text: &str) -> Option<Value> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let content: Value = serde_json::from_slice(&bytes).ok()?;
    content.get("s")?;
    Some(content)
}

fn normalized(value: Value, ids: &mut Vec<String>) -> Value {
    match value {
        Value::String(text) if cursor_content(&text).is_some() => {
            let content = cursor_content(&text).unwrap_or_default();
            json!({ "cursor": normalized(content, ids) })
        }
        Value::String(text) if Uuid::parse_str(&text).is_ok() => {
            let n = ids.iter().position(|id| *id == text).unwrap_or_else(|| {
                ids.push(text);
                ids.len() - 1
            });
            Value::String(format!("id{n}"))
        }
        Value::String(text) if synapse::model::time::parse_timestamp(&text).is_some() => {
            Value::String("<time>".into())
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| normalized(v, ids)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, normalized(v, ids)))
                .collect(),
        ),
        other => other,
    }
}

fn refresh_outcome(outcome: synapse::store::RefreshOutcome) -> Value {
    use synapse::store::RefreshOutcome;
    match outcome {
        RefreshOutcome::Rotated { user, session_id } => {
            json!({"rotated": {"user": user, "session_id": session_id}})
        }
        other => json!(format!("{other:?}")),
    }
}

/// Sign-ins, lockout, refresh rotation and reuse, logout, password change, administration,
/// settings and the audit query, step by step on `store`: what each step answered.
async fn auth_transcript(store: &dyn Store) -> Vec<Value> {
    use synapse::store::{AuditQuery, LockoutPolicy, NewRefreshToken, RequestContext};
    let started = now();
    let mut out = Vec::new();
    let new_user = |email: &str, role| NewUser {
        email: email.into(),
        full_name: format!("Person {email}"),
        role,
        password: String::new(),
    };
    let admin = store
        .create_user(None, &new_user("admin@clinic.test", Role::Admin), "hash-a")
        .await
        .expect("admin");
    let admin = actor(admin.id, Role::Admin);
    let by = Administrator::Api(admin.clone());
    let console = Administrator::Console(ConsoleOperator {
        os_user: "operator".into(),
        // The same on both engines: it is part of the audit rows' request id.
        run_id: Uuid::from_u128(7),
    });
    let doctor = store
        .create_user(
            Some(&by),
            &new_user("doc@clinic.test", Role::Doctor),
            "hash-d",
        )
        .await
        .expect("doctor");
    out.push(json!(doctor));
    let taken = store
        .create_user(
            Some(&by),
            &new_user("doc@clinic.test", Role::Receptionist),
            "hash-x",
        )
        .await;
    out.push(json!(format!("{:?}", taken.err())));
    store
        .create_user(
            Some(&console),
            &new_user("desk@clinic.test", Role::Receptionist),
            "hash-r",
        )
        .await
        .expect("receptionist");
    let doctor_actor = actor(doctor.id, Role::Doctor);
    let record = |found: Option<synapse::store::UserRecord>| {
        found.map(|r| {
            json!({"user": r.user, "hash": r.password_hash, "failed": r.failed_logins,
                   "locked_until": r.locked_until, "disabled": r.disabled})
        })
    };
    out.push(json!(record(
        store
            .user_by_email("doc@clinic.test")
            .await
            .expect("by email")
    )));
    out.push(json!(record(
        store
            .user_by_email("DOC@clinic.test")
            .await
            .expect("by email")
    )));
    out.push(json!(record(
        store.user_by_id(doctor.id).await.expect("by id")
    )));
    out.push(json!(record(
        store.user_by_id(Uuid::now_v7()).await.expect("by id")
    )));

    // Three failures lock the account; an administrator unlocks it.
    let ctx = RequestContext {
        request_id: "store-postgres-test".into(),
        client_request_id: None,
        ip: Some("10.0.0.9".into()),
    };
    let policy = LockoutPolicy {
        threshold: 3,
        account_threshold: 3,
        duration: chrono::Duration::minutes(15),
    };
    for _ in 0..4 {
        let failure = store
            .record_login_failure(&ctx, &doctor.email, Some(doctor.id), policy)
            .await
            .expect("failure");
        out.push(json!([failure.failed_logins, failure.locked_until]));
    }
    for (limit, offset) in [(2, 0), (2, 2), (10, 5)] {
        let page = store.list_users(&by, limit, offset).await.expect("users");
        out.push(json!(page));
    }
    out.push(json!(
        store.unlock_user(&by, doctor.id).await.expect("unlock")
    ));
    out.push(json!(format!(
        "{:?}",
        store.unlock_user(&console, Uuid::now_v7()).await.err()
    )));

    // Sessions and refresh tokens.
    let token = |hash: &str, seconds: i64| NewRefreshToken {
        token_hash: hash.into(),
        expires_at: now() + chrono::Duration::seconds(seconds),
    };
    let first = store
        .open_session(&ctx, doctor.id, &token("t1", 3600), None)
        .await
        .expect("session");
    out.push(json!(first));
    out.push(json!(format!(
        "{:?}",
        store
            .session_state(
                first,
                doctor.id,
                SessionPolicy::default(),
                SessionUse::Request
            )
            .await
            .expect("state")
    )));
    out.push(json!(
        store
            .session_of_refresh_token("t1")
            .await
            .expect("token session")
    ));
    out.push(json!(
        store
            .session_of_refresh_token("none")
            .await
            .expect("token session")
    ));
    for (presented, next) in [("t1", "t2"), ("t1", "t3"), ("t2", "t4"), ("none", "t5")] {
        let outcome = store
            .rotate_refresh_token(
                &ctx,
                presented,
                &token(next, 3600),
                SessionPolicy::default(),
            )
            .await
            .expect("rotate");
        out.push(refresh_outcome(outcome));
    }
    out.push(json!(format!(
        "{:?}",
        store
            .session_state(
                first,
                doctor.id,
                SessionPolicy::default(),
                SessionUse::Request
            )
            .await
            .expect("state")
    )));
    let expiring = store
        .open_session(&ctx, doctor.id, &token("t6", -1), None)
        .await
        .expect("session");
    out.push(json!(expiring));
    out.push(refresh_outcome(
        store
            .rotate_refresh_token(&ctx, "t6", &token("t7", 3600), SessionPolicy::default())
            .await
            .expect("rotate"),
    ));
    let kept = store
        .open_session(&ctx, doctor.id, &token("t8", 3600), None)
        .await
        .expect("session");
    let other = store
        .open_session(&ctx, doctor.id, &token("t9", 3600), None)
        .await
        .expect("session");
    let logged_out = store
        .open_session(&ctx, doctor.id, &token("t10", 3600), None)
        .await
        .expect("session");
    store
        .revoke_session(&doctor_actor, logged_out, "logout")
        .await
        .expect("logout");
    store
        .change_password(&doctor_actor, kept, "hash-new")
        .await
        .expect("change password");
    for session in [kept, other, logged_out] {
        out.push(json!(format!(
            "{:?}",
            store
                .session_state(
                    session,
                    doctor.id,
                    SessionPolicy::default(),
                    SessionUse::Request
                )
                .await
                .expect("state")
        )));
    }
    out.push(json!(format!(
        "{:?}",
        store
            .session_state(
                kept,
                admin.user_id,
                SessionPolicy::default(),
                SessionUse::Request
            )
            .await
            .expect("state")
    )));
    out.push(json!(record(
        store.user_by_id(doctor.id).await.expect("by id")
    )));
    out.push(json!(
        store.disable_user(&by, doctor.id).await.expect("disable")
    ));
    out.push(json!(store.active_admins().await.expect("admins")));
    out.push(json!(format!(
        "{:?}",
        store
            .session_state(
                kept,
                doctor.id,
                SessionPolicy::default(),
                SessionUse::Request
            )
            .await
            .expect("state")
    )));
    out.push(refresh_outcome(
        store
            .rotate_refresh_token(&ctx, "t8", &token("t11", 3600), SessionPolicy::default())
            .await
            .expect("rotate"),
    ));

    // The rest of administration, from the API and the console.
    out.push(json!(
        store
            .enable_user(&console, doctor.id)
            .await
            .expect("enable")
    ));
    out.push(json!(
        store
            .reset_password(&by, doctor.id, "hash-new")
            .await
            .expect("reset")
    ));
    out.push(json!(
        store
            .revoke_sessions(&console, doctor.id)
            .await
            .expect("revoke")
    ));
    out.push(json!(format!(
        "{:?}",
        store.revoke_sessions(&by, Uuid::now_v7()).await.err()
    )));

    // Settings and the store's own numbers.
    store.ping().await.expect("ping");
    out.push(json!(store.setting("marker").await.expect("setting")));
    out.push(json!(
        store.claim_setting("marker", "a").await.expect("claim")
    ));
    out.push(json!(
        store.claim_setting("marker", "b").await.expect("claim")
    ));
    out.push(json!(store.setting("marker").await.expect("setting")));
    store.set_setting("marker", "c").await.expect("set");
    store.set_setting("other", "d").await.expect("set");
    out.push(json!(store.setting("marker").await.expect("setting")));
    out.push(json!(store.next_mrn_seq().await.expect("mrn")));

    // The audit trail: writes' rows and the queued rows of reads and sign-ins, as one.
    let queries = [
        AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            limit: 4,
            offset: 3,
            ..AuditQuery::default()
        },
        AuditQuery {
            user_id: Some(doctor.id),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            action: Some("auth.refresh".into()),
            since: Some(started),
            until: Some(now() + chrono::Duration::minutes(1)),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            until: Some(started),
            limit: 100,
            ..AuditQuery::default()
        },
        AuditQuery {
            patient_id: Some(Uuid::now_v7()),
            limit: 100,
            ..AuditQuery::default()
        },
    ];
    for query in &queries {
        out.push(json!(
            store.query_audit(&admin, query).await.expect("audit")
        ));
    }
    // The export, oldest first, in keyset pages of 3.
    let export = AuditQuery {
        limit: 3,
        ..AuditQuery::default()
    };
    let mut after = None;
    loop {
        let page = store
            .export_audit(&console, &export, after)
            .await
            .expect("export");
        out.push(json!(page));
        match page.last() {
            Some(last) if page.len() == 3 => {
                after = Some(AuditPosition {
                    at: last.at,
                    id: last.id,
                })
            }
            _ => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_admin_settings_and_audit_answer_the_same_on_both_engines() {
    let Some(url) =
        postgres_or_skip("auth_admin_settings_and_audit_answer_the_same_on_both_engines")
    else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    let pg = PgStore::open(&database.url).await.expect("open");
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&format!("sqlite://{}", dir.path().join("a.db").display()))
        .await
        .expect("open sqlite");
    let on_pg = auth_transcript(&pg).await;
    let on_lite = auth_transcript(&lite).await;
    assert_eq!(on_pg.len(), on_lite.len());
    let (mut pg_ids, mut lite_ids) = (Vec::new(), Vec::new());
    for (step, (pg_answer, lite_answer)) in on_pg.into_iter().zip(on_lite).enumerate() {
        assert_eq!(
            normalized(pg_answer, &mut pg_ids),
            normalized(lite_answer, &mut lite_ids),
            "step {step}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

/// The generic plan of `statement` (what a prepared statement runs after its first executions),
/// from `EXPLAIN EXECUTE` with `plan_cache_mode = force_generic_plan` set on `conn`.
async fn generic_plan(conn: &mut PgConnection, statement: &Statement) -> String {
    let (types, values) = if statement.values().is_empty() {
        (String::new(), String::new())
    } else {
        (statement.parameter_types(), statement.literals())
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PREPARE plan_check {types} AS {}",
        statement.sql()
    )))
    .execute(&mut *conn)
    .await
    .unwrap_or_else(|e| panic!("PREPARE failed: {e}\n{}", statement.sql()));
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN EXECUTE plan_check {values}"
    )))
    .fetch_all(&mut *conn)
    .await
    .expect("explain");
    // The plan shown must be the generic one, never one made for these particular values.
    let (generic, custom): (i64, i64) = sqlx::query_as(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'plan_check'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("plan counts");
    assert!(
        generic >= 1 && custom == 0,
        "not a generic plan ({generic} generic, {custom} custom)"
    );
    sqlx::raw_sql("DEALLOCATE plan_check")
        .execute(&mut *conn)
        .await
        .expect("deallocate");
    lines.join("\n")
}

fn assert_indexed(plan: &str, what: &str, statement: &Statement) {
    for table in ["patients", "patient_name_words", "reports", "consultations"] {
        assert!(
            !plan.contains(&format!("Seq Scan on {table} ")),
            "{what} scans all of {table}:\n{plan}\n{}",
            statement.sql()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_and_search_statement_uses_an_index_under_a_generic_plan() {
    let Some(url) =
        postgres_or_skip("every_list_and_search_statement_uses_an_index_under_a_generic_plan")
    else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    let store = PgStore::open(&database.url).await.expect("open");
    let at = now();
    let (doctors, desk) = staff(&store, 20).await;
    load(&store, &doctors, 200, at).await;
    sqlx::raw_sql("VACUUM ANALYZE")
        .execute(store.pool())
        .await
        .expect("analyze");

    let mut conn = store.pool().acquire().await.expect("connection");
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .expect("generic plans");

    let doctor = actor(doctors[3], Role::Doctor);
    let receptionist = actor(desk, Role::Receptionist);
    let mut checked = 0;
    for who in [&doctor, &receptionist] {
        for term in [
            "a",
            "smi",
            "anna smith",
            "MRN-00012",
            "98765",
            "+1 555",
            "@example",
            "50%_",
        ] {
            let search = statements::patient_search(who, term, 10, 10);
            let mut steps = vec![
                ("search ranked prefix", search.ranked_prefix),
                ("search exact", search.exact),
                ("search prefix by visit", search.prefix_by_visit),
            ];
            if let Some(count) = search.prefix_candidates {
                steps.push(("search prefix candidates", count));
            }
            // The substring statements run only for terms the trigram indexes can look up.
            if let Some(recent) = search.substring_in_recent {
                steps.push(("search substring among recent", recent));
                steps.push(("search substring by trigram", search.substring_by_trigram));
            }
            for (name, statement) in steps {
                let plan = generic_plan(&mut conn, &statement).await;
                assert_indexed(
                    &plan,
                    &format!("{name} {term:?} as {:?}", who.role),
                    &statement,
                );
                checked += 1;
            }
        }
        for sort in [
            PatientSort::Name,
            PatientSort::LastVisitDesc,
            PatientSort::CreatedDesc,
        ] {
            for search in [None, Some("smi"), Some("anna smith"), Some("98765")] {
                let first = PatientListQuery {
                    filter: Default::default(),
                    search: search.map(str::to_string),
                    sort,
                    limit: 20,
                    start: PageStart::Offset(0),
                };
                let cursor = store
                    .list_patients(who, &first)
                    .await
                    .expect("list")
                    .pagination
                    .next_cursor;
                let mut starts = vec![PageStart::Offset(0), PageStart::Offset(40)];
                starts.extend(cursor.map(PageStart::Cursor));
                for start in starts {
                    let query = PatientListQuery {
                        start,
                        ..first.clone()
                    };
                    let (page, count) = statements::patient_list(who, &query).expect("statements");
                    for (name, statement) in [("list page", &page), ("list count", &count)] {
                        let plan = generic_plan(&mut conn, statement).await;
                        assert_indexed(
                            &plan,
                            &format!(
                                "{name} {sort:?} {search:?} {:?} as {:?}",
                                query.start, who.role
                            ),
                            statement,
                        );
                        checked += 1;
                    }
                }
            }
        }
    }

    let sample_patient: Uuid =
        sqlx::query_scalar("SELECT id FROM patients WHERE doctor_id = $1 LIMIT 1")
            .bind(doctor.user_id)
            .fetch_one(store.pool())
            .await
            .expect("a patient");
    let filters = [
        ReportFilter::default(),
        ReportFilter {
            status: Some(ReportStatus::Completed),
            ..ReportFilter::default()
        },
        ReportFilter {
            session_type: Some(synapse::model::consultation::SessionType::FollowUp),
            ..ReportFilter::default()
        },
        ReportFilter {
            patient_id: Some(sample_patient),
            ..ReportFilter::default()
        },
        ReportFilter {
            date_from: Some(at - chrono::Duration::days(30)),
            date_to: Some(at),
            ..ReportFilter::default()
        },
    ];
    for filter in filters {
        let first = ReportListQuery {
            filter,
            limit: 20,
            start: PageStart::Offset(0),
        };
        let cursor = store
            .list_reports(&doctor, &first)
            .await
            .expect("reports")
            .pagination
            .next_cursor;
        let mut starts = vec![PageStart::Offset(0)];
        starts.extend(cursor.map(PageStart::Cursor));
        for start in starts {
            let query = ReportListQuery {
                start,
                ..first.clone()
            };
            let (page, count) =
                statements::report_list(Dialect::Postgres, &doctor, &query).expect("statements");
            for (name, statement) in [("report page", &page), ("report count", &count)] {
                let plan = generic_plan(&mut conn, statement).await;
                assert_indexed(&plan, &format!("{name} {:?}", query.filter), statement);
                checked += 1;
            }
        }
    }
    for patient in [None, Some(sample_patient)] {
        let window = synapse::store::values::StatsWindow::new(at, 30);
        let [by_status, recent, daily] =
            statements::report_stats(Dialect::Postgres, &doctor, patient, window);
        for (name, statement) in [
            ("stats by status", &by_status),
            ("stats recent", &recent),
            ("stats daily", &daily),
        ] {
            let plan = generic_plan(&mut conn, statement).await;
            assert_indexed(&plan, &format!("{name} {patient:?}"), statement);
            checked += 1;
        }
    }
    let (page, count) = statements::consultation_history(&doctor, sample_patient, 20, 0);
    for (name, statement) in [("history page", &page), ("history count", &count)] {
        let plan = generic_plan(&mut conn, statement).await;
        assert_indexed(&plan, name, statement);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} statements checked");
}

// ---------------------------------------------------------------------------------------------
// Migrations and the audit trail
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_concurrently_and_again_without_error() {
    let Some(url) = postgres_or_skip("migrations_run_concurrently_and_again_without_error") else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    // Four instances start at once on an empty database.
    let opened = tokio::join!(
        PgStore::open(&database.url),
        PgStore::open(&database.url),
        PgStore::open(&database.url),
        PgStore::open(&database.url),
    );
    let stores =
        [opened.0, opened.1, opened.2, opened.3].map(|s| s.expect("open while others migrate"));
    let again = PgStore::open(&database.url)
        .await
        .expect("open a migrated database");
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(again.pool())
            .await
            .expect("migrations table");
    assert_eq!(
        applied,
        vec![
            (1, true),
            (2, true),
            (3, true),
            (4, true),
            (5, true),
            (6, true),
            (7, true),
            (8, true),
            (9, true),
            (10, true),
            (11, true),
            (12, true),
            (13, true),
        ]
    );
    for store in &stores {
        store.ping().await.expect("usable");
    }
}

/// Names whose sort key the migrations must derive from `name_folded` exactly as
/// `name_sort_key` derives it when the store writes a patient.
const SORT_NAMES: [&str; 6] = [
    "Anna Maria Smith",
    "alan  Brooks",
    "Madonna",
    "José García López",
    "Zoë O'Neil",
    "Li Wei",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_sort_migrations_fill_stored_rows_as_the_store_writes_them() {
    use synapse::store::values::{fold_name, name_sort_key};
    let expected: Vec<String> = SORT_NAMES.iter().map(|n| name_sort_key(n)).collect();
    assert_eq!(expected[0], " smith anna maria");

    // SQLite: rows stored before the migration, then the migration.
    let lite = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("an in-memory SQLite database");
    sqlx::raw_sql("CREATE TABLE patients (n INTEGER, id TEXT, doctor_id TEXT, name_folded TEXT)")
        .execute(&lite)
        .await
        .expect("table");
    for (n, name) in SORT_NAMES.iter().enumerate() {
        sqlx::query("INSERT INTO patients (n, name_folded) VALUES ($1, $2)")
            .bind(n as i64)
            .bind(fold_name(name))
            .execute(&lite)
            .await
            .expect("row");
    }
    sqlx::raw_sql(include_str!(
        "../migrations/sqlite/0007_patient_name_sort.sql"
    ))
    .execute(&lite)
    .await
    .expect("the SQLite migration");
    let filled: Vec<String> = sqlx::query_scalar("SELECT name_sort FROM patients ORDER BY n")
        .fetch_all(&lite)
        .await
        .expect("keys");
    assert_eq!(filled, expected, "SQLite");

    let Some(url) = postgres_or_skip("the_name_sort_migrations_fill_stored_rows") else {
        return;
    };
    use sqlx::Connection;
    let database = TestDatabase::create(&url).await;
    let mut pg = PgConnection::connect(&database.url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE TABLE patients (n bigint, id uuid, doctor_id uuid, name_folded text COLLATE \"C\")",
    )
    .execute(&mut pg)
    .await
    .expect("table");
    for (n, name) in SORT_NAMES.iter().enumerate() {
        sqlx::query("INSERT INTO patients (n, name_folded) VALUES ($1, $2)")
            .bind(n as i64)
            .bind(fold_name(name))
            .execute(&mut pg)
            .await
            .expect("row");
    }
    sqlx::raw_sql(include_str!(
        "../migrations/postgres/0005_patient_name_sort.sql"
    ))
    .execute(&mut pg)
    .await
    .expect("the PostgreSQL migration");
    let filled: Vec<String> = sqlx::query_scalar("SELECT name_sort FROM patients ORDER BY n")
        .fetch_all(&mut pg)
        .await
        .expect("keys");
    assert_eq!(filled, expected, "PostgreSQL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_cannot_be_changed_deleted_or_truncated() {
    let Some(url) = postgres_or_skip("audit_rows_cannot_be_changed_deleted_or_truncated") else {
        return;
    };
    let server = TestServer::start_postgres_on(&url, test_config()).await;
    server.login_new("doc@clinic.test", Role::Doctor).await;
    let common::Db::Postgres(pool) = server.db() else {
        panic!("a PostgreSQL server");
    };
    let before = server
        .sql_count("SELECT COUNT(*) FROM audit_events", &[])
        .await;
    assert!(before >= 1);
    for statement in [
        "UPDATE audit_events SET outcome = 'failure'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let refused = sqlx::raw_sql(statement).execute(pool).await;
        let message = refused.expect_err(statement).to_string();
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    assert_eq!(
        server
            .sql_count("SELECT COUNT(*) FROM audit_events", &[])
            .await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_demo_servers_starting_at_once_load_the_demo_once() {
    let Some(url) = postgres_or_skip("two_demo_servers_starting_at_once_load_the_demo_once") else {
        return;
    };
    let database = TestDatabase::create(&url).await;
    let (first, second) = tokio::join!(PgStore::open(&database.url), PgStore::open(&database.url));
    let (first, second) = (first.expect("open"), second.expect("open"));
    let (a, b) = tokio::join!(
        synapse::store::demo::load_demo(&first),
        synapse::store::demo::load_demo(&second)
    );
    let (a, b) = (a.expect("demo load"), b.expect("demo load"));
    assert!(
        a ^ b,
        "exactly one instance loads the demo (got {a} and {b})"
    );
    let doctors: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'doc@demo.com'")
            .fetch_one(first.pool())
            .await
            .expect("count");
    assert_eq!(doctors, 1);
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(first.pool())
        .await
        .expect("count");
    assert_eq!(
        patients, 400,
        "two doctors with 200 patients each, loaded once"
    );
    // A later start finds the marker and leaves the data alone.
    assert!(
        !synapse::store::demo::load_demo(&first)
            .await
            .expect("again")
    );
}

/// `value` without the ids of the patients' doctors: each engine made its own staff, so the
/// doctors' ids differ while everything else (their names too) is the same.
fn without_doctor_ids(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(doctor)) = map.get_mut("doctor") {
                    doctor.remove("id");
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}
