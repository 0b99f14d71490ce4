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
use synapse::model::patient::PatientSort;
use synapse::model::report::{ReportFilter, ReportStatus};
use synapse::model::time::now;
use synapse::store::postgres::PgStore;
use synapse::store::postgres::statements::{self, Statement};
use synapse::store::sqlite::SqliteStore;
use synapse::store::synth::{self, SynthPlan};
use synapse::store::{Actor, PageStart, PatientListQuery, ReportListQuery, Store};
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

fn actor(user_id: Uuid, role: Role) -> Actor {
    Actor {
        user_id,
        role,
        request_id: "store-postgres-test".into(),
        ip: None,
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
                    search: search.map(str::to_string),
                    sort,
                    limit: 37,
                    start: start.clone(),
                },
            )
            .await
            .expect("list page");
        let next = page.pagination.next_cursor.clone();
        out.push(serde_json::to_value(&page).unwrap());
        match next {
            Some(cursor) => start = PageStart::Cursor(cursor),
            None => return out,
        }
    }
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
                    serde_json::to_value(&on_pg).unwrap(),
                    serde_json::to_value(&on_lite).unwrap(),
                    "search {term:?} limit {limit} as {:?}",
                    pg_actor.role
                );
                let on_pg_dense = pg_dense
                    .search_patients(pg_actor, term, limit)
                    .await
                    .expect("pg search in last-visit order");
                assert_eq!(
                    serde_json::to_value(&on_pg).unwrap(),
                    serde_json::to_value(&on_pg_dense).unwrap(),
                    "search {term:?} limit {limit} as {:?}, read in last-visit order on PostgreSQL",
                    pg_actor.role
                );
                let on_lite_dense = lite_dense
                    .search_patients(lite_actor, term, limit)
                    .await
                    .expect("sqlite search in last-visit order");
                assert_eq!(
                    serde_json::to_value(&on_lite).unwrap(),
                    serde_json::to_value(&on_lite_dense).unwrap(),
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

    // Charts, a refused chart, and a patient created then edited the same way on both.
    let (pg_doc, lite_doc) = &who[0];
    for p in &sample {
        let on_pg = pg.get_patient(pg_doc, p.id).await;
        let on_lite = lite.get_patient(lite_doc, p.id).await;
        match (on_pg, on_lite) {
            (Ok(on_pg), Ok(on_lite)) => assert_eq!(on_pg, on_lite, "chart of {}", p.id),
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
        let mut value = serde_json::to_value(patient).unwrap();
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

    // Reports of a doctor, page by page with the same cursors, plain and filtered.
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
            match on_pg.pagination.next_cursor {
                Some(cursor) => start = PageStart::Cursor(cursor),
                None => break,
            }
        }
    }
    let on_pg = pg.report_stats(pg_doc, None, 90).await.expect("pg stats");
    let on_lite = lite
        .report_stats(lite_doc, None, 90)
        .await
        .expect("sqlite stats");
    assert_eq!(on_pg, on_lite);

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
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

/// The generic plan of `statement` (what a prepared statement runs after its first executions),
/// from `EXPLAIN EXECUTE` with `plan_cache_mode = force_generic_plan` set on `conn`.
async fn generic_plan(conn: &mut PgConnection, statement: &Statement) -> String {
    let (types, values) = if statement.args().is_empty() {
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
                let statement = Statement::from(statement);
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
                    let (page, count) = (Statement::from(page), Statement::from(count));
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
            let (page, count) = statements::report_list(&doctor, &query).expect("statements");
            for (name, statement) in [("report page", &page), ("report count", &count)] {
                let plan = generic_plan(&mut conn, statement).await;
                assert_indexed(&plan, &format!("{name} {:?}", query.filter), statement);
                checked += 1;
            }
        }
    }
    for patient in [None, Some(sample_patient)] {
        let window = synapse::store::values::StatsWindow::new(at, 30);
        let [by_status, recent, daily] = statements::report_stats(&doctor, patient, window);
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
    let (page, count) = (Statement::from(page), Statement::from(count));
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
    assert_eq!(applied, vec![(1, true), (2, true), (3, true), (4, true)]);
    for store in &stores {
        store.ping().await.expect("usable");
    }
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
