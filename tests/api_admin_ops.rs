//! Administration and operations over the real server: the users list, account creation,
//! unlocking and disabling, the audit trail (filters, order, paging by cursor, request ids,
//! append-only rows),
//! and the unauthenticated endpoints (`/health`, `/ready`, `/metrics`, the OpenAPI document),
//! including trailing-slash spellings of every route.

mod common;

use std::collections::BTreeSet;

use common::{PASSWORD, Reply, Session, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;

/// The field names of a 422 `VALIDATION_ERROR`.
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
}

/// A GET with a bearer token and a client-chosen `X-Request-ID`.
async fn get_with_request_id(
    server: &TestServer,
    path: &str,
    session: &Session,
    request_id: &str,
) -> (reqwest::StatusCode, Option<String>, Value) {
    let response = server
        .http
        .get(format!("{}{}", server.base, path))
        .bearer_auth(&session.access_token)
        .header("X-Request-ID", request_id)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let header = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.expect("JSON body");
    (status, header, body)
}

/// The admin's view of one account, found by email in the users list.
async fn admin_view(server: &TestServer, admin: &Session, email: &str) -> Value {
    let reply = server.get("/api/v1/admin/users?limit=100", admin).await;
    reply.expect(200);
    reply.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("{email} is not in {:#}", reply.body))
}

/// Every audit row matching `query` (a query string without `?`), newest first as served.
async fn audit(server: &TestServer, admin: &Session, query: &str) -> Vec<Value> {
    let reply = server
        .get(&format!("/api/v1/admin/audit?limit=100&{query}"), admin)
        .await;
    reply.expect(200);
    reply.data()["items"].as_array().unwrap().clone()
}

#[track_caller]
fn assert_newest_first(rows: &[Value]) {
    let times: Vec<&str> = rows.iter().map(|r| r["at"].as_str().unwrap()).collect();
    for pair in times.windows(2) {
        assert!(pair[0] >= pair[1], "audit rows out of order: {times:?}");
    }
}

#[tokio::test]
async fn the_users_list_pages_by_offset_and_shows_lockout_state() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    for email in ["a@clinic.test", "b@clinic.test", "c@clinic.test"] {
        server.user(email, Role::Doctor).await;
    }

    let first = server.get("/api/v1/admin/users?limit=2", &admin).await;
    first.expect(200);
    assert_eq!(first.body["status"], "success");
    let items = first.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let pagination = &first.data()["pagination"];
    assert_eq!(pagination["total"], 4);
    assert_eq!(pagination["limit"], 2);
    assert_eq!(pagination["offset"], 0);
    assert_eq!(pagination["has_more"], true);
    for user in items {
        for key in [
            "id",
            "email",
            "full_name",
            "role",
            "created_at",
            "locked_until",
            "failed_logins",
            "disabled",
        ] {
            assert!(user.get(key).is_some(), "{key} missing in {user:#}");
        }
        assert!(user.get("password_hash").is_none(), "{user:#}");
        assert!(user.get("password").is_none(), "{user:#}");
        assert!(user["locked_until"].is_null());
        assert_eq!(user["failed_logins"], 0);
        assert_eq!(user["disabled"], false);
    }

    let second = server
        .get("/api/v1/admin/users?limit=2&offset=2", &admin)
        .await;
    second.expect(200);
    assert_eq!(second.data()["items"].as_array().unwrap().len(), 2);
    assert_eq!(second.data()["pagination"]["offset"], 2);
    assert_eq!(second.data()["pagination"]["has_more"], false);

    let emails: BTreeSet<String> = items
        .iter()
        .chain(second.data()["items"].as_array().unwrap())
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "a@clinic.test",
        "admin@clinic.test",
        "b@clinic.test",
        "c@clinic.test",
    ]
    .map(str::to_string)
    .into();
    assert_eq!(emails, expected, "pages overlap or miss accounts");

    let beyond = server
        .get("/api/v1/admin/users?limit=2&offset=10", &admin)
        .await;
    beyond.expect(200);
    assert!(beyond.data()["items"].as_array().unwrap().is_empty());

    expect_field_error(
        &server.get("/api/v1/admin/users?limit=0", &admin).await,
        "limit",
    );
    expect_field_error(
        &server.get("/api/v1/admin/users?limit=101", &admin).await,
        "limit",
    );
    server
        .get("/api/v1/admin/users?sort=email", &admin)
        .await
        .expect_error(422, "VALIDATION_ERROR");

    let doctor = server.login("a@clinic.test", PASSWORD).await;
    server
        .get("/api/v1/admin/users", &doctor)
        .await
        .expect_error(403, "FORBIDDEN");
    server
        .call(Method::GET, "/api/v1/admin/users", None, None)
        .await
        .expect_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_admin_creates_accounts_that_can_log_in() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;

    let created = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({
                "email": "new.reception@clinic.test",
                "full_name": "Nia Reception",
                "role": "receptionist",
                "password": "a-long-enough-password",
            }),
        )
        .await;
    created.expect(201);
    assert_eq!(created.body["status"], "success");
    let user = created.data();
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert_eq!(user["email"], "new.reception@clinic.test");
    assert_eq!(user["full_name"], "Nia Reception");
    assert_eq!(user["role"], "receptionist");
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(user["locked_until"].is_null());
    assert_eq!(user["failed_logins"], 0);
    assert_eq!(user["disabled"], false);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let login = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(
                json!({"email": "new.reception@clinic.test", "password": "a-long-enough-password"}),
            ),
        )
        .await;
    login.expect(200);
    assert_eq!(login.data()["user_id"], user["id"]);
    assert_eq!(login.data()["role"], "receptionist");

    let rows = audit(&server, &admin, "action=admin.user_create").await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["user_id"], admin.user_id.as_str());
    assert_eq!(rows[0]["resource_id"], user["id"]);
    assert_eq!(rows[0]["outcome"], "success");

    let duplicate = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({
                "email": "new.reception@clinic.test",
                "full_name": "Someone Else",
                "role": "doctor",
                "password": "another-long-password",
            }),
        )
        .await;
    expect_field_error(&duplicate, "email");

    let bad_role = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({
                "email": "root@clinic.test",
                "full_name": "Root",
                "role": "superuser",
                "password": "a-long-enough-password",
            }),
        )
        .await;
    expect_field_error(&bad_role, "role");

    let short = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({
                "email": "short@clinic.test",
                "full_name": "Short Password",
                "role": "doctor",
                "password": "short",
            }),
        )
        .await;
    expect_field_error(&short, "password");
    assert!(
        !short.body.to_string().contains("\"short\""),
        "the rejected password is echoed: {:#}",
        short.body
    );

    let unknown_field = server
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({
                "email": "extra@clinic.test",
                "full_name": "Extra Field",
                "role": "doctor",
                "password": "a-long-enough-password",
                "is_superuser": true,
            }),
        )
        .await;
    unknown_field.expect_error(422, "VALIDATION_ERROR");

    // Nothing of the refused requests was created.
    for email in ["root@clinic.test", "short@clinic.test", "extra@clinic.test"] {
        server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "a-long-enough-password"})),
            )
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
    let total = server.sql_count("SELECT COUNT(*) FROM users", &[]).await;
    assert_eq!(total, 2);

    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    server
        .post(
            "/api/v1/admin/users",
            &doctor,
            json!({
                "email": "sneaky@clinic.test",
                "full_name": "Sneaky",
                "role": "admin",
                "password": "a-long-enough-password",
            }),
        )
        .await
        .expect_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn an_admin_unlocks_a_locked_account() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor_id = server.user("doc@clinic.test", Role::Doctor).await;

    for attempt in 1..=5 {
        let reply = server
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "doc@clinic.test", "password": "wrong-password"})),
            )
            .await;
        if attempt < 5 {
            reply.expect_error(401, "INVALID_CREDENTIALS");
        } else {
            reply.expect_error(423, "ACCOUNT_LOCKED");
        }
    }
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test", "password": PASSWORD})),
        )
        .await
        .expect_error(423, "ACCOUNT_LOCKED");

    let locked = admin_view(&server, &admin, "doc@clinic.test").await;
    assert!(
        locked["locked_until"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{locked:#}"
    );
    assert_eq!(locked["failed_logins"], 5, "{locked:#}");
    assert_eq!(locked["disabled"], false);

    let unlocked = server
        .post(
            &format!("/api/v1/admin/users/{doctor_id}/unlock"),
            &admin,
            json!({}),
        )
        .await;
    unlocked.expect(200);
    assert_eq!(unlocked.data()["id"], doctor_id.as_str());
    assert!(unlocked.data()["locked_until"].is_null());
    assert_eq!(unlocked.data()["failed_logins"], 0);

    server.login("doc@clinic.test", PASSWORD).await;
    let after = admin_view(&server, &admin, "doc@clinic.test").await;
    assert!(after["locked_until"].is_null());
    assert_eq!(after["failed_logins"], 0);

    let rows = audit(&server, &admin, "action=admin.user_unlock").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["resource_id"], doctor_id.as_str());

    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/unlock"),
            &admin,
            json!({}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    expect_field_error(
        &server
            .post("/api/v1/admin/users/not-a-uuid/unlock", &admin, json!({}))
            .await,
        "id",
    );
}

#[tokio::test]
async fn disabling_an_account_revokes_its_sessions_and_blocks_login() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let second_session = server.login("doc@clinic.test", PASSWORD).await;
    server.get("/api/v1/auth/me", &doctor).await.expect(200);

    let disabled = server
        .post(
            &format!("/api/v1/admin/users/{}/disable", doctor.user_id),
            &admin,
            json!({}),
        )
        .await;
    disabled.expect(200);
    assert_eq!(disabled.data()["id"], doctor.user_id.as_str());
    assert_eq!(disabled.data()["disabled"], true);

    let open = server
        .sql_count(
            "SELECT COUNT(*) FROM sessions WHERE CAST(user_id AS TEXT) = $1 AND revoked_at IS NULL",
            &[&doctor.user_id],
        )
        .await;
    assert_eq!(open, 0, "the disabled account still has open sessions");

    for session in [&doctor, &second_session] {
        server
            .get("/api/v1/auth/me", session)
            .await
            .expect_error(403, "ACCOUNT_DISABLED");
        let refreshed = server
            .call(
                Method::POST,
                "/api/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": session.refresh_token})),
            )
            .await;
        refreshed.expect_error(403, "ACCOUNT_DISABLED");
    }
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test", "password": PASSWORD})),
        )
        .await
        .expect_error(403, "ACCOUNT_DISABLED");
    assert_eq!(
        admin_view(&server, &admin, "doc@clinic.test").await["disabled"],
        true
    );

    let rows = audit(&server, &admin, "action=admin.user_disable").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["resource_id"], doctor.user_id.as_str());
    assert_eq!(rows[0]["user_id"], admin.user_id.as_str());

    server
        .post(
            &format!("/api/v1/admin/users/{}/disable", admin.user_id),
            &admin,
            json!({}),
        )
        .await
        .expect_error(409, "INVALID_STATE");
    server.get("/api/v1/auth/me", &admin).await.expect(200);

    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/disable"),
            &admin,
            json!({}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
}

/// The open sessions of a user, counted in the database.
async fn open_sessions(server: &TestServer, user_id: &str) -> i64 {
    server
        .sql_count(
            "SELECT COUNT(*) FROM sessions WHERE CAST(user_id AS TEXT) = $1 AND revoked_at IS NULL",
            &[user_id],
        )
        .await
}

async fn login_reply(server: &TestServer, email: &str, password: &str) -> Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
}

#[tokio::test]
async fn enabling_a_disabled_account_lets_it_log_in_again() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let path = |action: &str| format!("/api/v1/admin/users/{}/{action}", doctor.user_id);
    server
        .post(&path("disable"), &admin, json!({}))
        .await
        .expect(200);
    login_reply(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect_error(403, "ACCOUNT_DISABLED");

    let enabled = server.post(&path("enable"), &admin, json!({})).await;
    enabled.expect(200);
    assert_eq!(enabled.data()["id"], doctor.user_id.as_str());
    assert_eq!(enabled.data()["disabled"], false);
    let again = server.login("doc@clinic.test", PASSWORD).await;
    server.get("/api/v1/auth/me", &again).await.expect(200);
    // The sessions disabling revoked stay revoked.
    server
        .get("/api/v1/auth/me", &doctor)
        .await
        .expect_error(401, "SESSION_REVOKED");
    // Enabling an enabled account changes nothing and answers the same.
    server
        .post(&path("enable"), &admin, json!({}))
        .await
        .expect(200);

    let rows = audit(&server, &admin, "action=admin.user_enable").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["resource_id"], doctor.user_id.as_str());
    assert_eq!(rows[0]["user_id"], admin.user_id.as_str());
    assert_eq!(rows[0]["resource_type"], "user");

    server
        .post(&path("enable"), &again, json!({}))
        .await
        .expect_error(403, "FORBIDDEN");
    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/enable"),
            &admin,
            json!({}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_password_reset_ends_the_sessions_and_the_lockout() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for _ in 0..5 {
        login_reply(&server, "doc@clinic.test", "wrong-password").await;
    }
    login_reply(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect_error(423, "ACCOUNT_LOCKED");
    let path = format!("/api/v1/admin/users/{}/reset-password", doctor.user_id);

    // The rules of a new account's password; unknown fields refused.
    let short = server
        .post(&path, &admin, json!({"password": "short"}))
        .await;
    expect_field_error(&short, "password");
    server
        .post(
            &path,
            &admin,
            json!({"password": "long-enough-1", "extra": 1}),
        )
        .await
        .expect_error(422, "VALIDATION_ERROR");
    server
        .post(&path, &admin, json!({}))
        .await
        .expect_error(422, "VALIDATION_ERROR");

    let reset = server
        .post(&path, &admin, json!({"password": "a-new-password-1"}))
        .await;
    reset.expect(200);
    assert_eq!(reset.data()["id"], doctor.user_id.as_str());
    assert_eq!(reset.data()["failed_logins"], 0);
    assert!(reset.data()["locked_until"].is_null());
    assert_eq!(open_sessions(&server, &doctor.user_id).await, 0);
    server
        .get("/api/v1/auth/me", &doctor)
        .await
        .expect_error(401, "SESSION_REVOKED");
    login_reply(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect_error(401, "INVALID_CREDENTIALS");
    server.login("doc@clinic.test", "a-new-password-1").await;

    let rows = audit(&server, &admin, "action=admin.user_password_reset").await;
    assert_eq!(rows.len(), 1, "refused resets are not changes");
    assert_eq!(rows[0]["resource_id"], doctor.user_id.as_str());
    assert_eq!(rows[0]["user_id"], admin.user_id.as_str());

    // Your own password goes through change-password, which asks for the current one.
    server
        .post(
            &format!("/api/v1/admin/users/{}/reset-password", admin.user_id),
            &admin,
            json!({"password": "a-new-password-2"}),
        )
        .await
        .expect_error(409, "INVALID_STATE");
    server.get("/api/v1/auth/me", &admin).await.expect(200);
    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/reset-password"),
            &admin,
            json!({"password": "a-new-password-3"}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    let doctor = server.login("doc@clinic.test", "a-new-password-1").await;
    server
        .post(&path, &doctor, json!({"password": "a-new-password-4"}))
        .await
        .expect_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn revoking_sessions_logs_an_account_out_everywhere() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let second = server.login("doc@clinic.test", PASSWORD).await;
    let path = format!("/api/v1/admin/users/{}/revoke-sessions", doctor.user_id);

    let revoked = server.post(&path, &admin, json!({})).await;
    revoked.expect(200);
    assert_eq!(revoked.data()["user_id"], doctor.user_id.as_str());
    assert_eq!(revoked.data()["revoked"], 2);
    assert_eq!(open_sessions(&server, &doctor.user_id).await, 0);
    for session in [&doctor, &second] {
        server
            .get("/api/v1/auth/me", session)
            .await
            .expect_error(401, "SESSION_REVOKED");
        server
            .call(
                Method::POST,
                "/api/v1/auth/refresh",
                None,
                Some(json!({"refresh_token": session.refresh_token})),
            )
            .await
            .expect_error(401, "SESSION_REVOKED");
    }
    // The account itself is fine: it logs in again.
    server.login("doc@clinic.test", PASSWORD).await;
    let again = server.post(&path, &admin, json!({})).await;
    assert_eq!(again.data()["revoked"], 1);

    let rows = audit(&server, &admin, "action=admin.user_sessions_revoke").await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["resource_id"], doctor.user_id.as_str());
    assert_eq!(rows[0]["user_id"], admin.user_id.as_str());

    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/revoke-sessions"),
            &admin,
            json!({}),
        )
        .await
        .expect_error(404, "NOT_FOUND");
    let doctor = server.login("doc@clinic.test", PASSWORD).await;
    server
        .post(&path, &doctor, json!({}))
        .await
        .expect_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn the_audit_query_filters_and_lists_newest_first() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let alice = server.login_new("alice@clinic.test", Role::Doctor).await;
    let bob = server.login_new("bob@clinic.test", Role::Doctor).await;
    let alices_patient = server.patient(&alice, "Anna Smith").await;
    let bobs_patient = server.patient(&bob, "Boris Brown").await;
    let before_reads = server.get("/api/v1/admin/audit?limit=1", &admin).await;
    before_reads.expect(200);
    let marker = before_reads.data()["items"][0]["at"]
        .as_str()
        .unwrap()
        .to_string();

    server
        .get(&format!("/api/v1/patients/{alices_patient}"), &alice)
        .await
        .expect(200);
    server
        .get(&format!("/api/v1/patients/{bobs_patient}"), &bob)
        .await
        .expect(200);
    // Bob may not see Alice's patient: a 404, audited as denied.
    server
        .get(&format!("/api/v1/patients/{alices_patient}"), &bob)
        .await
        .expect_error(404, "NOT_FOUND");

    let everything = audit(&server, &admin, "").await;
    assert!(everything.len() >= 8, "{everything:#?}");
    assert_newest_first(&everything);
    for row in &everything {
        for key in [
            "id",
            "at",
            "user_id",
            "action",
            "resource_type",
            "resource_id",
            "patient_id",
            "outcome",
            "request_id",
            "ip",
        ] {
            assert!(row.get(key).is_some(), "{key} missing in {row:#}");
        }
        assert!(
            ["success", "failure", "denied", "locked"].contains(&row["outcome"].as_str().unwrap()),
            "{row:#}"
        );
    }
    let logins: Vec<&Value> = everything
        .iter()
        .filter(|r| r["action"] == "auth.login")
        .collect();
    assert_eq!(logins.len(), 3, "one login row per login: {everything:#?}");

    let by_bob = audit(&server, &admin, &format!("user_id={}", bob.user_id)).await;
    assert!(!by_bob.is_empty());
    assert!(by_bob.iter().all(|r| r["user_id"] == bob.user_id.as_str()));
    assert_newest_first(&by_bob);
    assert!(
        by_bob
            .iter()
            .any(|r| r["action"] == "patient.read" && r["outcome"] == "denied"),
        "the denied read is missing: {by_bob:#?}"
    );

    let about_alices = audit(&server, &admin, &format!("patient_id={alices_patient}")).await;
    assert!(
        about_alices
            .iter()
            .all(|r| r["patient_id"] == alices_patient.as_str())
    );
    assert!(
        about_alices
            .iter()
            .any(|r| r["action"] == "patient.read" && r["user_id"] == alice.user_id.as_str()),
        "{about_alices:#?}"
    );
    assert!(
        about_alices
            .iter()
            .all(|r| r["user_id"] != bob.user_id.as_str() || r["outcome"] == "denied"),
        "{about_alices:#?}"
    );

    // The trail holds writes (stored with the change) and reads (stored by the audit queue)
    // as one list: on SQLite they are in different files.
    assert!(
        about_alices
            .iter()
            .any(|r| r["action"] == "patient.create" && r["user_id"] == alice.user_id.as_str()),
        "{about_alices:#?}"
    );
    assert_newest_first(&about_alices);
    if !server.store.is_postgres() {
        // Reads commit nothing to the data file: a commit there would empty every read
        // connection's page cache (store/sqlite/audit_log.rs).
        for (table, reads) in [("main.audit_events", 0), ("audit_log.audit_events", 3)] {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE action = 'patient.read'");
            assert_eq!(server.sql_count(&sql, &[]).await, reads, "{table}");
        }
    }

    let reads = audit(&server, &admin, "action=patient.read").await;
    assert_eq!(reads.len(), 3, "{reads:#?}");
    assert!(reads.iter().all(|r| r["action"] == "patient.read"));
    assert_newest_first(&reads);
    let alice_reads = audit(
        &server,
        &admin,
        &format!("action=patient.read&user_id={}", alice.user_id),
    )
    .await;
    assert_eq!(alice_reads.len(), 1);
    assert_eq!(alice_reads[0]["patient_id"], alices_patient.as_str());
    assert_eq!(alice_reads[0]["resource_id"], alices_patient.as_str());
    assert_eq!(alice_reads[0]["outcome"], "success");

    // `since` includes its instant; the reads all happened at or after the marker.
    let since: Vec<Value> = audit(
        &server,
        &admin,
        &format!("action=patient.read&since={marker}"),
    )
    .await;
    assert_eq!(since.len(), 3, "{since:#?}");
    let after_marker = audit(&server, &admin, &format!("since={marker}")).await;
    assert!(
        after_marker
            .iter()
            .all(|r| r["at"].as_str().unwrap() >= marker.as_str())
    );
    let until_marker = audit(&server, &admin, &format!("until={marker}")).await;
    assert!(
        until_marker
            .iter()
            .all(|r| r["at"].as_str().unwrap() <= marker.as_str())
    );
    assert!(
        until_marker.iter().all(|r| r["action"] != "patient.read"),
        "{until_marker:#?}"
    );
    assert!(until_marker.iter().any(|r| r["action"] == "auth.login"));

    // Bare dates: `until` today includes the whole day, `until` yesterday excludes it.
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        audit(
            &server,
            &admin,
            &format!("action=patient.read&since={today}&until={today}")
        )
        .await
        .len(),
        3
    );
    assert!(
        audit(&server, &admin, &format!("until={yesterday}"))
            .await
            .is_empty()
    );
    assert!(
        audit(&server, &admin, &format!("since={tomorrow}"))
            .await
            .is_empty()
    );

    let paged = server
        .get("/api/v1/admin/audit?limit=2&offset=1", &admin)
        .await;
    paged.expect(200);
    assert_eq!(paged.data()["items"].as_array().unwrap().len(), 2);
    assert_eq!(paged.data()["pagination"]["offset"], 1);
    assert_eq!(paged.data()["pagination"]["has_more"], true);

    expect_field_error(
        &server
            .get("/api/v1/admin/audit?user_id=not-a-uuid", &admin)
            .await,
        "user_id",
    );
    expect_field_error(
        &server
            .get("/api/v1/admin/audit?since=yesterday", &admin)
            .await,
        "since",
    );
    server
        .get("/api/v1/admin/audit?who=bob", &admin)
        .await
        .expect_error(422, "VALIDATION_ERROR");
    server
        .get("/api/v1/admin/audit", &alice)
        .await
        .expect_error(403, "FORBIDDEN");
}

/// The rows of a page and its `next_cursor`.
fn page_of(reply: &Reply) -> (Vec<Value>, Option<String>) {
    reply.expect(200);
    let data = reply.data();
    (
        data["items"].as_array().unwrap().clone(),
        data["pagination"]["next_cursor"]
            .as_str()
            .map(str::to_string),
    )
}

#[tokio::test]
async fn the_audit_trail_pages_by_cursor_while_rows_are_written() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let alice = server.login_new("alice@clinic.test", Role::Doctor).await;
    let patient = server.patient(&alice, "Cursor Patient").await;
    for _ in 0..7 {
        server
            .get(&format!("/api/v1/patients/{patient}"), &alice)
            .await
            .expect(200);
    }
    let today = chrono::Utc::now().date_naive();
    let filter = format!(
        "user_id={}&patient_id={patient}&action=patient.read&outcome=success&since={today}&until={today}",
        alice.user_id
    );
    let before: Vec<String> = audit(&server, &admin, &filter)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(before.len(), 7, "{before:?}");

    // Pages of 3 by cursor; between pages, the same doctor reads the same patient again: a
    // row every filter keeps, written while paging. It is newer than every row shown, so no
    // page repeats a row and none skips one of the rows there were.
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut offsets = Vec::new();
    loop {
        let path = match &cursor {
            None => format!("/api/v1/admin/audit?limit=3&{filter}"),
            Some(c) => format!("/api/v1/admin/audit?limit=3&{filter}&cursor={c}"),
        };
        let reply = server.get(&path, &admin).await;
        let (rows, next) = page_of(&reply);
        offsets.push(reply.data()["pagination"]["offset"].as_u64().unwrap());
        assert!(rows.len() <= 3);
        seen.extend(rows);
        server
            .get(&format!("/api/v1/patients/{patient}"), &alice)
            .await
            .expect(200);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(offsets.len() < 10, "the pages never end: {offsets:?}");
    }
    let ids: Vec<String> = seen
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, before, "each older row once, newest first");
    assert_eq!(offsets, vec![0, 3, 6]);
    assert_newest_first(&seen);
    assert!(seen.iter().all(|r| r["action"] == "patient.read"
        && r["outcome"] == "success"
        && r["user_id"] == alice.user_id.as_str()
        && r["patient_id"] == patient.as_str()));
    // The rows written while paging are there, newer than all of them.
    assert_eq!(audit(&server, &admin, &filter).await.len(), 7 + 3);

    // Without filters, over every table of the trail (on SQLite two files) and more rows
    // than a page: the whole trail by cursor is the whole trail, each row once, although each
    // page read writes a row of its own.
    let everything = audit(&server, &admin, "").await;
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/admin/audit?limit=4".to_string(),
            Some(c) => format!("/api/v1/admin/audit?limit=4&cursor={c}"),
        };
        let (rows, next) = page_of(&server.get(&path, &admin).await);
        all.extend(rows);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // The first page starts after the row of the query that read `everything`.
    let ids: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a row repeated: {ids:?}");
    for row in &everything {
        assert!(
            unique.contains(row["id"].as_str().unwrap()),
            "skipped {row:#}"
        );
    }
    assert_newest_first(&all);
}

#[tokio::test]
async fn a_bad_audit_cursor_is_refused_in_the_error_envelope() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    for n in 0..3 {
        server.patient(&doctor, &format!("Patient {n}")).await;
    }
    let patients = server.get("/api/v1/patients/list/?limit=1", &doctor).await;
    patients.expect(200);
    let patients_cursor = patients.data()["pagination"]["next_cursor"]
        .as_str()
        .expect("a cursor of the patients list")
        .to_string();
    for bad in ["not-a-cursor", "e30", patients_cursor.as_str()] {
        let reply = server
            .get(&format!("/api/v1/admin/audit?cursor={bad}"), &admin)
            .await;
        expect_field_error(&reply, "cursor");
        let message = reply.body["error"]["details"]["fields"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("start again without a cursor"),
            "{:#}",
            reply.body
        );
    }
    let (_, next) = page_of(&server.get("/api/v1/admin/audit?limit=1", &admin).await);
    let next = next.expect("more than one audit row");
    expect_field_error(
        &server
            .get(
                &format!("/api/v1/admin/audit?offset=1&cursor={next}"),
                &admin,
            )
            .await,
        "cursor",
    );
    expect_field_error(
        &server.get("/api/v1/admin/audit?cursor=", &admin).await,
        "cursor",
    );
    // The audit's own cursor pages on.
    server
        .get(
            &format!("/api/v1/admin/audit?limit=1&cursor={next}"),
            &admin,
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn the_audit_query_filters_by_outcome() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let alice = server.login_new("alice@clinic.test", Role::Doctor).await;
    let bob = server.login_new("bob@clinic.test", Role::Doctor).await;
    let alices_patient = server.patient(&alice, "Anna Smith").await;
    // Bob may not see Alice's patient: audited as denied.
    server
        .get(&format!("/api/v1/patients/{alices_patient}"), &bob)
        .await
        .expect_error(404, "NOT_FOUND");

    let denied = audit(&server, &admin, "outcome=denied").await;
    assert!(!denied.is_empty());
    assert!(
        denied.iter().all(|r| r["outcome"] == "denied"),
        "{denied:#?}"
    );
    assert!(
        denied
            .iter()
            .any(|r| r["user_id"] == bob.user_id.as_str() && r["action"] == "patient.read"),
        "{denied:#?}"
    );
    let bobs_successes = audit(
        &server,
        &admin,
        &format!("outcome=success&user_id={}", bob.user_id),
    )
    .await;
    assert!(!bobs_successes.is_empty());
    assert!(bobs_successes.iter().all(|r| r["outcome"] == "success"));
    assert!(
        audit(&server, &admin, "outcome=nothing-like-this")
            .await
            .is_empty()
    );
    expect_field_error(
        &server.get("/api/v1/admin/audit?outcome=", &admin).await,
        "outcome",
    );
}

#[tokio::test]
async fn every_chart_read_is_audited_with_the_request_id_of_its_response() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Clara Oswald").await;

    let mut served_ids = BTreeSet::new();
    for _ in 0..3 {
        let reply = server
            .get(&format!("/api/v1/patients/{patient}"), &doctor)
            .await;
        reply.expect(200);
        let id = reply.request_id.clone().expect("X-Request-ID header");
        assert_eq!(reply.body["request_id"], id.as_str());
        served_ids.insert(id);
    }
    assert_eq!(served_ids.len(), 3, "request ids are not unique");

    let (status, header, body) = get_with_request_id(
        &server,
        &format!("/api/v1/patients/{patient}"),
        &doctor,
        "test-req-123",
    )
    .await;
    assert_eq!(status, 200);
    // The server's own id answers; the client's is kept beside it in the audit row.
    let own = header.expect("X-Request-ID header");
    assert_ne!(own, "test-req-123");
    assert_eq!(body["request_id"], own.as_str());
    served_ids.insert(own.clone());

    let rows = audit(
        &server,
        &admin,
        &format!("action=patient.read&patient_id={patient}"),
    )
    .await;
    let audited: BTreeSet<String> = rows
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!(audited, served_ids);
    for row in &rows {
        assert_eq!(row["user_id"], doctor.user_id.as_str());
        assert_eq!(row["patient_id"], patient.as_str());
        assert_eq!(row["resource_type"], "patient");
        assert_eq!(row["resource_id"], patient.as_str());
        assert_eq!(row["outcome"], "success");
        assert_eq!(row["ip"], "127.0.0.1");
    }
    assert_eq!(
        rows[0]["request_id"],
        own.as_str(),
        "the newest read comes first"
    );
    assert_eq!(rows[0]["client_request_id"], "test-req-123");

    // An unacceptable client id is replaced by one the server makes.
    let (status, header, body) = get_with_request_id(
        &server,
        &format!("/api/v1/patients/{patient}"),
        &doctor,
        "has spaces and is not allowed",
    )
    .await;
    assert_eq!(status, 200);
    let header = header.expect("X-Request-ID header");
    assert_ne!(header, "has spaces and is not allowed");
    assert_eq!(body["request_id"], header.as_str());
    let rows = audit(&server, &admin, &format!("patient_id={patient}")).await;
    assert!(rows.iter().any(|r| r["request_id"] == header.as_str()));

    // Errors carry the server's id too, the same in the header and the body.
    let (status, header, body) = get_with_request_id(
        &server,
        &format!("/api/v1/patients/{}", uuid::Uuid::now_v7()),
        &doctor,
        "test-req-404",
    )
    .await;
    assert_eq!(status, 404);
    let header = header.expect("X-Request-ID header");
    assert_ne!(header, "test-req-404");
    assert_eq!(body["request_id"], header.as_str());
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_deleted() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    // A write (audited with the change) and a read (audited through the queue).
    let patient = server.patient(&doctor, "Audit Trail").await;
    server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await
        .expect(200);
    let count = || server.sql_count("SELECT COUNT(*) FROM audit_events", &[]);
    let before = count().await;
    assert!(before >= 1);

    // On SQLite the trail is two tables: the data file's (writes) and the audit log file's
    // (reads, refusals, sign-ins).
    let tables: &[&str] = if server.store.is_postgres() {
        &["audit_events"]
    } else {
        &["main.audit_events", "audit_log.audit_events"]
    };
    for table in tables {
        assert!(
            server
                .sql_count(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await
                >= 1,
            "{table} holds no row to try"
        );
        let update = server
            .sql_execute(&format!("UPDATE {table} SET outcome = 'failure'"), &[])
            .await;
        let refusal = update.expect_err("an audit row was updated");
        assert!(refusal.contains("append-only"), "{table}: {refusal}");
        let delete = server
            .sql_execute(&format!("DELETE FROM {table}"), &[])
            .await;
        let refusal = delete.expect_err("an audit row was deleted");
        assert!(refusal.contains("append-only"), "{table}: {refusal}");
    }

    assert_eq!(count().await, before);
    let changed = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE outcome <> 'success'",
            &[],
        )
        .await;
    assert_eq!(changed, 0);
}

#[tokio::test]
async fn health_and_readiness_answer_without_auth() {
    let server = TestServer::start().await;
    for path in ["/health", "/health/"] {
        let reply = server.call(Method::GET, path, None, None).await;
        reply.expect(200);
        assert_eq!(reply.body, json!({"status": "ok"}));
        assert!(reply.request_id.is_some());
    }
    for path in ["/ready", "/ready/"] {
        let reply = server.call(Method::GET, path, None, None).await;
        reply.expect(200);
        assert_eq!(reply.body, json!({"status": "ready"}));
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_without_patient_data() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    server.patient(&doctor, "Zephyrine Quillfeather").await;
    let found = server
        .get("/api/v1/patients/search/?q=Zephyrine", &doctor)
        .await;
    found.expect(200);
    assert_eq!(found.data()["count"], 1);
    server
        .get(
            "/api/v1/patients/list/?search=Quillfeather&limit=5",
            &doctor,
        )
        .await
        .expect(200);
    server
        .get("/api/v1/patients/list?search=Quillfeather", &doctor)
        .await
        .expect(200);

    let response = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();

    assert!(
        text.contains("http_requests_total"),
        "no request counter in:\n{text}"
    );
    let list_counter = text.lines().find(|line| {
        line.starts_with("http_requests_total")
            && line.contains("route=\"/api/v1/patients/list\"")
            && line.contains("status=\"200\"")
    });
    assert!(
        list_counter.is_some(),
        "no counter for the patients list route in:\n{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with("http_requests_total")
                && line.contains("route=\"/api/v1/patients/search\"")),
        "no counter for the search route in:\n{text}"
    );
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    let lower = text.to_lowercase();
    for secret in ["zephyrine", "quillfeather", "mrn-"] {
        assert!(
            !lower.contains(secret),
            "{secret} leaked into the metrics:\n{text}"
        );
    }
    // Labels carry route patterns, never concrete ids.
    assert!(!text.contains(&doctor.user_id), "{text}");
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let server = TestServer::start().await;
    let reply = server
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    reply.expect(200);
    let doc = &reply.body;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert!(doc.get("status").is_none(), "the document is not enveloped");
    assert!(doc["paths"].is_object());

    // The document spells the list and search paths the canonical way, with a trailing slash
    // (the server answers both), so compare without trailing slashes.
    let trim = |path: &str| -> String {
        if path.len() > 1 {
            path.trim_end_matches('/').to_string()
        } else {
            path.to_string()
        }
    };
    let documented: BTreeSet<(String, String)> = synapse::server::openapi::operations(doc)
        .into_iter()
        .map(|(method, path)| (method, trim(&path)))
        .collect();
    let routed: BTreeSet<(String, String)> = synapse::server::routes()
        .into_iter()
        .map(|(method, path, _)| (method.as_str().to_lowercase(), path.to_string()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from the document: {undocumented:?}; documented but not routed: {unrouted:?}"
    );
    assert_eq!(
        synapse::server::openapi::operations(doc).len(),
        routed.len(),
        "a route is documented twice"
    );
    // The served document is the library's document.
    assert_eq!(doc, &synapse::server::openapi::document());
}

#[tokio::test]
async fn every_route_answers_with_and_without_a_trailing_slash() {
    let server = TestServer::start().await;
    let id = uuid::Uuid::now_v7().to_string();
    for (method, path, _) in synapse::server::routes() {
        let path = path.replace("{id}", &id).replace("{patient_id}", &id);
        let bare = server.call(method.clone(), &path, None, None).await;
        let slashed = server
            .call(method.clone(), &format!("{path}/"), None, None)
            .await;
        for reply in [&bare, &slashed] {
            assert!(
                !matches!(reply.status.as_u16(), 404 | 405),
                "{method} {path}: {} {:#}",
                reply.status,
                reply.body
            );
        }
        assert_eq!(
            bare.status, slashed.status,
            "{method} {path} answers differently with a trailing slash: {:#} vs {:#}",
            bare.body, slashed.body
        );
        assert_eq!(bare.code(), slashed.code(), "{method} {path}");
    }

    // With a session, both spellings give the same data.
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    server.patient(&doctor, "Anna Smith").await;
    for path in [
        "/api/v1/patients/list",
        "/api/v1/patients/search?q=anna",
        "/api/v1/reports/stats",
        "/api/v1/auth/me",
    ] {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let bare = server.get(&format!("{route}{query}"), &doctor).await;
        let slashed = server.get(&format!("{route}/{query}"), &doctor).await;
        bare.expect(200);
        slashed.expect(200);
        assert_eq!(bare.data(), slashed.data(), "{path}");
    }

    // Unknown paths still answer the 404 envelope, with or without a slash.
    for path in ["/api/v1/nothing-here", "/api/v1/nothing-here/"] {
        server
            .call(Method::GET, path, None, None)
            .await
            .expect_error(404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn role_refusals_on_clinical_data_are_audited_like_refused_records() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let desk = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let patient = server.patient(&doctor, "Clara Oswald").await;
    for session in [&desk, &admin] {
        server
            .get(&format!("/api/v1/patients/{patient}"), session)
            .await
            .expect_error(403, "FORBIDDEN");
    }
    let rows = audit(
        &server,
        &admin,
        &format!("patient_id={patient}&outcome=forbidden"),
    )
    .await;
    let who: BTreeSet<String> = rows
        .iter()
        .map(|r| r["user_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        who,
        BTreeSet::from([desk.user_id.clone(), admin.user_id.clone()]),
        "{rows:#?}"
    );
    for row in &rows {
        assert_eq!(row["resource_type"], "patient");
        assert_eq!(row["resource_id"], patient.as_str());
        assert_eq!(row["action"], "GET /api/v1/patients/{id}");
    }
}

#[tokio::test]
async fn the_audit_request_id_is_the_servers_own_whatever_the_client_sends() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Clara Oswald").await;
    let mut served = BTreeSet::new();
    for _ in 0..2 {
        let (status, header, body) = get_with_request_id(
            &server,
            &format!("/api/v1/patients/{patient}"),
            &doctor,
            "forged-req-0001",
        )
        .await;
        assert_eq!(status, 200);
        let header = header.expect("X-Request-ID");
        assert_ne!(header, "forged-req-0001");
        assert_eq!(body["request_id"], header.as_str());
        served.insert(header);
    }
    let rows = audit(
        &server,
        &admin,
        &format!("action=patient.read&patient_id={patient}"),
    )
    .await;
    let audited: BTreeSet<String> = rows
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(audited, served);
    // The client's id is kept beside the server's.
    for row in &rows {
        assert_eq!(row["client_request_id"], "forged-req-0001", "{row:#}");
    }
}
