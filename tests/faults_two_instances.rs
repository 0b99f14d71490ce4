//! Two `synapse serve` processes on one PostgreSQL database (two instances behind one load
//! balancer), and concurrent edits and signs of the same report sent through both: in every
//! round exactly one request wins, every loser gets 409, exactly one sign ever succeeds, and
//! the versions the winners produced run without a gap up to the stored one.

use std::time::Duration;

use serde_json::{Value, json};

mod common;

use common::TestDatabase;
use common::load::login;
use common::served::{Served, http_client};

const SECRET: &str = "a-fault-test-signing-key-of-enough-length";
/// Requests racing in each round, half of them through each instance.
const RACERS: usize = 8;

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let reply = http
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request answered");
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_and_signs_through_two_instances_have_one_winner_and_no_gap() {
    let Some(admin_url) = common::postgres_url() else {
        eprintln!("skipped: set {} to run it", common::POSTGRES_URL_VAR);
        return;
    };
    let database = TestDatabase::create(&admin_url).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let envs = [
        ("SYNAPSE_JWT_SECRET", SECRET),
        ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "1000000"),
        ("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "1000000"),
    ];
    let args = ["--demo", "--database", &database.url];
    let first = Served::start_async(
        dir.path(),
        &dir.path().join("a"),
        &args,
        &envs,
        Duration::from_secs(60),
    )
    .await;
    let second = Served::start_async(
        dir.path(),
        &dir.path().join("b"),
        &args,
        &envs,
        Duration::from_secs(60),
    )
    .await;
    let servers = [&first, &second];
    let http = http_client(Some(Duration::from_secs(30)));
    let token = login(&http, &first.base, "doc@demo.com").await;

    // A report to race on: a consultation through the first instance, generated.
    let (status, body) = send(
        &http,
        reqwest::Method::POST,
        first.url("/api/v1/patients"),
        &token,
        json!({"full_name": "Race Patient", "date_of_birth": "1970-05-06", "sex": "male"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let patient = body["data"]["id"].as_str().expect("patient id").to_string();
    let (status, body) = send(
        &http,
        reqwest::Method::POST,
        first.url("/api/v1/consultation/start"),
        &token,
        json!({"patient_id": patient, "session_type": "follow_up"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let consultation = body["data"]["id"].as_str().expect("id").to_string();
    let (status, body) = send(
        &http,
        reqwest::Method::POST,
        first.url(&format!("/api/v1/consultation/{consultation}/stop")),
        &token,
        json!({"notes": "Low mood for three weeks, sleeping poorly. Start talking therapy."}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report = body["data"]["report_id"]
        .as_str()
        .expect("report")
        .to_string();
    let path = format!("/api/v1/reports/{report}");
    let mut current = Value::Null;
    for _ in 0..200 {
        let reply = http
            .get(second.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("report read");
        current = reply.json().await.expect("report body");
        if current["data"]["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(current["data"]["status"], "completed", "{current}");
    let first_version = current["data"]["version"].as_i64().expect("version");
    let content = current["data"]["content"].clone();

    let mut version = first_version;
    let mut edit_versions = Vec::new();
    let mut signs = 0;
    // Signs re-check the password first, so edits tend to win the mixed rounds; from the
    // fourth round only signs race.
    for round in 0..5 {
        let signs_only = round >= 3;
        let racers = (0..RACERS).map(|n| {
            let (http, token, content) = (http.clone(), token.clone(), content.clone());
            let server = servers[n % 2];
            let path = path.clone();
            let is_sign = signs_only || n % 4 >= 2;
            let (method, url, body) = if !is_sign {
                let mut content = content;
                content["follow_up"] = json!(format!("Round {round}, editor {n}"));
                (
                    reqwest::Method::PATCH,
                    server.url(&path),
                    json!({"content": content, "version": version}),
                )
            } else {
                (
                    reqwest::Method::POST,
                    server.url(&format!("{path}/sign")),
                    json!({"password": "password123", "version": version}),
                )
            };
            tokio::spawn(async move {
                let (status, body) = send(&http, method, url, &token, body).await;
                (is_sign, status, body)
            })
        });
        let answers: Vec<_> = futures_util::future::join_all(racers)
            .await
            .into_iter()
            .map(|answer| answer.expect("racer"))
            .collect();
        let winners: Vec<_> = answers.iter().filter(|(_, s, _)| *s == 200).collect();
        for (_, status, body) in &answers {
            assert!(
                *status == 200 || *status == 409,
                "round {round}: a loser answered {status}: {body}"
            );
        }
        assert_eq!(winners.len(), 1, "round {round}: one winner: {answers:#?}");
        let (is_sign, _, body) = winners[0];
        let won = body["data"]["version"].as_i64().expect("version");
        if *is_sign {
            signs += 1;
            assert_eq!(body["data"]["status"], "signed");
            break;
        }
        edit_versions.push(won);
        version = won;
    }
    assert_eq!(signs, 1, "a sign won one of the rounds");
    // After the sign, every further edit or sign through either instance is refused.
    for server in servers {
        let (status, body) = send(
            &http,
            reqwest::Method::POST,
            server.url(&format!("{path}/sign")),
            &token,
            json!({"password": "password123", "version": version}),
        )
        .await;
        assert_eq!(status, 409, "{body}");
    }
    // No gap: each winning edit moved the version on by one, and the stored version is the
    // last of them.
    let expected: Vec<i64> = (1..=edit_versions.len() as i64)
        .map(|n| first_version + n)
        .collect();
    assert_eq!(edit_versions, expected, "the versions the edits produced");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await
        .expect("connect");
    let (stored, status): (i32, String) =
        sqlx::query_as("SELECT version, status FROM reports WHERE id::text = $1")
            .bind(&report)
            .fetch_one(&pool)
            .await
            .expect("the report row");
    assert_eq!((stored as i64, status.as_str()), (version, "signed"));
    let signed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'report.sign' \
         AND outcome = 'success' AND resource_id = $1",
    )
    .bind(&report)
    .fetch_one(&pool)
    .await
    .expect("sign audit rows");
    assert_eq!(signed, 1, "one successful sign in the audit trail");
    pool.close().await;
    eprintln!(
        "{} edits won before the sign, versions {first_version}→{version}",
        edit_versions.len()
    );
    drop((first, second));
}
