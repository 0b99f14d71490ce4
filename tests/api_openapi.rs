//! The OpenAPI document as served, the schema check every API suite runs through
//! (`common::contract`), and the browsable reference at `/docs` that must work offline.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use common::contract::check;
use reqwest::Method;
use serde_json::json;
use synapse::model::auth::Role;

#[tokio::test]
async fn the_contract_check_refuses_a_body_that_disagrees_with_the_schema() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let me = server.get("/api/v1/auth/me", &doctor).await;
    me.expect(200);
    let json = Some("application/json");

    // What the server sent passes, with or without a trailing slash and a query.
    check(&Method::GET, "/api/v1/auth/me", 200, json, &me.body).unwrap();
    check(&Method::GET, "/api/v1/auth/me/?x=1", 200, json, &me.body).unwrap();

    // A field of the wrong type, a missing field, a value outside its enum: each refused.
    let mut wrong_type = me.body.clone();
    wrong_type["data"]["created_at"] = json!(1_764_139_403);
    let mut missing = me.body.clone();
    missing["data"].as_object_mut().unwrap().remove("email");
    let mut not_a_role = me.body.clone();
    not_a_role["data"]["role"] = json!("superuser");
    let mut not_a_uuid = me.body.clone();
    not_a_uuid["data"]["id"] = json!("42");
    for (what, body) in [
        ("wrong type", wrong_type),
        ("missing field", missing),
        ("unknown enum value", not_a_role),
        ("bad format", not_a_uuid),
    ] {
        let refused = check(&Method::GET, "/api/v1/auth/me", 200, json, &body);
        assert!(refused.is_err(), "{what} passed: {body:#}");
    }

    // A success body where an error is due, and an error envelope with an unknown code.
    let denied = server
        .call(Method::GET, "/api/v1/auth/me", None, None)
        .await;
    denied.expect_error(401, "UNAUTHENTICATED");
    assert!(check(&Method::GET, "/api/v1/auth/me", 401, json, &me.body).is_err());
    let mut unknown_code = denied.body.clone();
    unknown_code["error"]["code"] = json!("TEAPOT");
    assert!(check(&Method::GET, "/api/v1/auth/me", 401, json, &unknown_code).is_err());

    // A status the operation does not declare is refused, whatever the body.
    let undeclared = check(&Method::GET, "/api/v1/auth/me", 409, json, &denied.body);
    assert!(
        undeclared.is_err_and(|e| e.contains("not declared")),
        "409 on /auth/me"
    );
    // 405 and 5xx fall back to `default`.
    check(&Method::GET, "/api/v1/auth/me", 503, json, &denied.body).unwrap();

    // A route template matches literal segments before parameters.
    let active = server.get("/api/v1/consultation/active", &doctor).await;
    active.expect(200);
    let as_one = check(
        &Method::GET,
        "/api/v1/consultation/active",
        200,
        json,
        &json!({ "status": "success", "data": { "id": "x" }, "request_id": "r" }),
    );
    assert!(as_one.is_err(), "matched /consultation/{{id}}");
}

#[tokio::test]
async fn unknown_routes_answer_the_404_envelope_and_point_at_the_reference() {
    let server = TestServer::start().await;
    let reply = server
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    reply.expect_error(404, "NOT_FOUND");
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("/docs"), "{message}");
    assert!(message.contains("/api/v1/openapi.json"), "{message}");
    assert_eq!(reply.body["error"]["details"]["reference"], "/docs");
    assert_eq!(
        reply.body["error"]["details"]["openapi"],
        "/api/v1/openapi.json"
    );
}

#[tokio::test]
async fn the_served_document_is_the_librarys_and_covers_every_route() {
    let server = TestServer::start().await;
    let reply = server
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    reply.expect(200);
    assert_eq!(reply.body, synapse::server::openapi::document());
    let documented: BTreeSet<(String, String)> = synapse::server::openapi::operations(&reply.body)
        .into_iter()
        .collect();
    let routed: BTreeSet<(String, String)> = synapse::server::routes()
        .into_iter()
        .map(|(method, path, _)| (method.as_str().to_lowercase(), path))
        .collect();
    assert_eq!(documented, routed);
}

/// Every `src="…"` and `href="…"` of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    found
}

#[tokio::test]
async fn the_reference_at_docs_is_html_that_loads_only_local_assets() {
    let server = TestServer::start().await;
    let http = &server.http;
    for path in ["/docs", "/docs/"] {
        let page = http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("request sent");
        assert_eq!(page.status(), 200, "{path}");
        let content_type = page.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let html = page.text().await.unwrap();
        assert!(html.contains("<html"), "{html}");
        assert!(html.contains("swagger-ui"), "{html}");

        let assets = references(&html);
        assert!(assets.len() >= 3, "{assets:?}");
        for asset in &assets {
            assert!(
                !asset.contains("//") && !asset.starts_with("data:"),
                "{path} references {asset}, which is not served here"
            );
            // Relative to the page's base, `/docs/`.
            let url = match asset.strip_prefix('/') {
                Some(_) => format!("{}{asset}", server.base),
                None => format!("{}/docs/{}", server.base, asset.trim_start_matches("./")),
            };
            if asset == "/docs/" {
                continue;
            }
            let file = http.get(&url).send().await.expect("request sent");
            assert_eq!(file.status(), 200, "{asset} ({url})");
        }
    }

    // The page's script points Swagger UI at this server's document, and at nothing else.
    let initializer = http
        .get(format!("{}/docs/swagger-initializer.js", server.base))
        .send()
        .await
        .expect("request sent");
    assert_eq!(initializer.status(), 200);
    let script = initializer.text().await.unwrap();
    assert!(script.contains("\"/api/v1/openapi.json\""), "{script}");
    assert!(
        !script.contains("http://") && !script.contains("https://"),
        "{script}"
    );

    // A file that is not part of the reference answers the 404 envelope.
    server
        .call(Method::GET, "/docs/no-such-file.js", None, None)
        .await
        .expect_error(404, "NOT_FOUND");
}
