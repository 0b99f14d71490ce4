//! What every answer of the real server carries besides its body: patient data is never cached
//! (`Cache-Control: no-store`) or sniffed (`X-Content-Type-Options: nosniff`), on successes,
//! errors and the unauthenticated endpoints alike, and no server banner. And `/metrics` stays
//! bounded: an invented HTTP method is counted under one `other` label, and the families say
//! what they count.

mod common;

use common::TestServer;
use synapse::model::auth::Role;

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
    let text = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
