//! What every answer of the real server carries besides its body: patient data is never cached
//! (`Cache-Control: no-store`) or sniffed (`X-Content-Type-Options: nosniff`), on successes,
//! errors and the unauthenticated endpoints alike, and no server banner. And `/metrics` stays
//! bounded: an invented HTTP method is counted under one `other` label, and the families say
//! what they count.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;
use synapse::model::auth::Role;

/// The failures from one address that lock an email out (`ServerConfig`'s default).
const LOCKOUT_THRESHOLD: usize = 5;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_answer_forbids_caching_and_sniffing_and_names_no_server() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Ottilie Brennwald").await;
    let asks = [
        // Patient data.
        (format!("/api/v1/patients/{patient}"), true, 200),
        // An error from a handler, and one from below the handlers (no route).
        (format!("/api/v1/patients/{}", uuid::Uuid::nil()), true, 404),
        ("/api/v1/no-such-thing".to_string(), true, 404),
        // Unauthenticated.
        ("/api/v1/patients/list".to_string(), false, 401),
        ("/health".to_string(), false, 200),
    ];
    for (path, authenticated, status) in asks {
        let mut request = server.http.get(format!("{}{path}", server.base));
        if authenticated {
            request = request.bearer_auth(&doctor.access_token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            header(&response, "cache-control"),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            header(&response, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&response, "server"), None, "{path}");
    }
}

#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics_and_the_families_say_what_they_count() {
    let server = TestServer::start().await;
    for n in 0..50 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{n}").as_bytes()).unwrap();
        let response = server
            .http
            .request(method, format!("{}/health", server.base))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let text = metrics_text(&server).await;
    assert!(
        !text.contains("INVENTED"),
        "a label per invented method:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("http_requests_total") && l.contains("method=\"other\"")),
        "{text}"
    );
    for family in ["http_requests_total", "http_request_duration_seconds"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {family} "))),
            "no HELP for {family}:\n{text}"
        );
    }
}

#[tokio::test]
async fn the_metrics_count_sign_ins_lockouts_generation_and_show_the_pool_queue_streams_build_and_process()
 {
    let server = TestServer::start().await;
    let doctor = server.login_new("metrics@clinic.test", Role::Doctor).await;
    // Failures up to the lockout threshold of one address.
    for _ in 0..LOCKOUT_THRESHOLD {
        let _ = server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "metrics@clinic.test", "password": "not the password"})),
            )
            .await;
    }
    let patient = server.patient(&doctor, "Metric Patient").await;
    let report = server
        .consultation_report(&doctor, &patient, "Cough for three days. Chest clear.")
        .await;
    server
        .wait_for_report(&doctor, report["id"].as_str().unwrap())
        .await;
    let text = metrics_text(&server).await;
    let has = |prefix: &str| text.lines().any(|line| line.starts_with(prefix));
    for sample in [
        "synapse_logins_total{outcome=\"success\"}",
        "synapse_logins_total{outcome=\"failure\"}",
        "synapse_lockouts_total",
        "synapse_report_generations_total{outcome=\"completed\"}",
        "synapse_audit_batches_total{outcome=\"stored\"}",
        "synapse_db_connections{state=\"open\"}",
        "synapse_audit_queue_rows",
        "synapse_event_streams",
        &format!(
            "synapse_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(has(sample), "no {sample}:\n{text}");
    }
    for family in [
        "synapse_logins_total",
        "synapse_lockouts_total",
        "synapse_report_generations_total",
        "synapse_audit_batches_total",
        "synapse_db_connections",
        "synapse_audit_queue_rows",
        "synapse_event_streams",
        "synapse_build_info",
    ] {
        assert!(
            has(&format!("# HELP {family} ")),
            "no HELP for {family}:\n{text}"
        );
    }
}

async fn metrics_text(server: &TestServer) -> String {
    server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
