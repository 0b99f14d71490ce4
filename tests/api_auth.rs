//! The auth endpoints over HTTP: the shape of `Tokens` and `/auth/me`, failed logins that do not
//! tell an unknown email from a wrong password, lockout and its expiry, disabled accounts,
//! rotating refresh tokens with reuse detection, logout, change-password, expired and malformed
//! access tokens, the login rate limit, and the audit rows all of this leaves behind.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{PASSWORD, Reply, Session, TestServer, test_config};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;
use synapse::server::ServerConfig;
use synapse::server::tokens::TokenKeys;
use uuid::Uuid;

const NEW_PASSWORD: &str = "a-brand-new-passphrase";

async fn login(server: &TestServer, email: &str, password: &str) -> Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
}

async fn refresh(server: &TestServer, refresh_token: &str) -> Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh_token})),
        )
        .await
}

async fn me(server: &TestServer, access_token: &str) -> Reply {
    server
        .call(Method::GET, "/api/v1/auth/me", Some(access_token), None)
        .await
}

/// A call with this exact `Authorization` header value.
async fn me_with_authorization(server: &TestServer, authorization: &str) -> Reply {
    let response = server
        .http
        .get(format!("{}/api/v1/auth/me", server.base))
        .header("authorization", authorization)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.expect("body");
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        request_id,
        headers,
    }
}

async fn change_password(
    server: &TestServer,
    session: &Session,
    current: &str,
    new: &str,
) -> Reply {
    server
        .post(
            "/api/v1/auth/change-password",
            session,
            json!({"current_password": current, "new_password": new}),
        )
        .await
}

/// The session's access and refresh tokens from a `Tokens` reply.
fn session_of(email: &str, reply: &Reply) -> Session {
    reply.expect(200);
    let data = reply.data();
    Session {
        user_id: data["user_id"].as_str().unwrap().to_string(),
        email: email.to_string(),
        access_token: data["access_token"].as_str().unwrap().to_string(),
        refresh_token: data["refresh_token"].as_str().unwrap().to_string(),
    }
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A 401 with this code and the `WWW-Authenticate: Bearer` challenge.
#[track_caller]
fn expect_unauthorized(reply: &Reply, code: &str) {
    reply.expect_error(401, code);
    assert_eq!(
        header(reply, "www-authenticate"),
        Some("Bearer"),
        "{:#}",
        reply.body
    );
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("{value} is no time")),
    )
    .unwrap_or_else(|_| panic!("{value} is not RFC 3339"))
    .with_timezone(&Utc)
}

fn locked_until(reply: &Reply) -> DateTime<Utc> {
    reply.expect_error(423, "ACCOUNT_LOCKED");
    timestamp(&reply.body["error"]["details"]["locked_until"])
}

fn field_names(reply: &Reply) -> Vec<String> {
    reply.body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.fields: {:#}", reply.body))
        .iter()
        .map(|f| f["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn without_request_id(body: &Value) -> Value {
    let mut body = body.clone();
    body.as_object_mut().unwrap().remove("request_id");
    body
}

fn config_with_lockout(duration: chrono::Duration) -> ServerConfig {
    let mut config = test_config();
    config.lockout.threshold = 5;
    config.lockout.duration = duration;
    config
}

async fn failed_logins(server: &TestServer, email: &str) -> i64 {
    server
        .sql_count(
            "SELECT CAST(failed_logins AS BIGINT) FROM users WHERE email = $1",
            &[email],
        )
        .await
}

async fn audit_count(
    server: &TestServer,
    action: &str,
    outcome: &str,
    user_id: Option<&str>,
) -> i64 {
    match user_id {
        Some(user_id) => {
            server
                .sql_count(
                    "SELECT COUNT(*) FROM audit_events \
                     WHERE action = $1 AND outcome = $2 AND CAST(user_id AS TEXT) = $3",
                    &[action, outcome, user_id],
                )
                .await
        }
        None => {
            server
                .sql_count(
                    "SELECT COUNT(*) FROM audit_events \
                     WHERE action = $1 AND outcome = $2 AND user_id IS NULL",
                    &[action, outcome],
                )
                .await
        }
    }
}

#[tokio::test]
async fn login_answers_tokens_field_by_field() {
    let server = TestServer::start().await;
    let user_id = server.user("doc@clinic.test", Role::Doctor).await;
    let before = Utc::now();
    let reply = login(&server, "doc@clinic.test", PASSWORD).await;
    reply.expect(200);
    assert_eq!(reply.body["status"], "success");
    assert_eq!(
        reply.body["request_id"].as_str(),
        reply.request_id.as_deref()
    );
    let data = reply.data();
    let mut keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_expires_in",
            "refresh_token",
            "role",
            "token_type",
            "user",
            "user_id"
        ]
    );
    let access = data["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let refresh_token = data["refresh_token"].as_str().unwrap();
    assert!(refresh_token.len() >= 32, "{refresh_token}");
    assert_ne!(access, refresh_token);
    assert_eq!(data["token_type"], "bearer");
    assert_eq!(data["expires_in"], 15 * 60);
    // The refresh token's 7 days, cut to the session's 12-hour lifetime.
    assert_eq!(data["refresh_expires_in"], 12 * 3600);
    assert_eq!(data["user_id"], user_id.as_str());
    assert_eq!(data["role"], "doctor");

    let user = &data["user"];
    let mut user_keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    user_keys.sort_unstable();
    assert_eq!(
        user_keys,
        ["created_at", "email", "full_name", "id", "role"]
    );
    assert_eq!(user["id"], user_id.as_str());
    assert_eq!(user["email"], "doc@clinic.test");
    assert_eq!(user["full_name"], "Test doc@clinic.test");
    assert_eq!(user["role"], "doctor");
    let created = timestamp(&user["created_at"]);
    assert!(created <= Utc::now() && created > before - chrono::Duration::minutes(1));

    // The token works, and a second login opens a second, independent session.
    me(&server, access).await.expect(200);
    let again = login(&server, "doc@clinic.test", PASSWORD).await;
    again.expect(200);
    assert_ne!(again.data()["access_token"], data["access_token"]);
    assert_ne!(again.data()["refresh_token"], data["refresh_token"]);
}

#[tokio::test]
async fn me_answers_the_callers_account() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let receptionist = server
        .login_new("desk@clinic.test", Role::Receptionist)
        .await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;

    let reply = me(&server, &doctor.access_token).await;
    reply.expect(200);
    let user = reply.data();
    assert_eq!(user.as_object().unwrap().len(), 5, "{user:#}");
    assert_eq!(user["id"], doctor.user_id.as_str());
    assert_eq!(user["email"], "doc@clinic.test");
    assert_eq!(user["full_name"], "Test doc@clinic.test");
    assert_eq!(user["role"], "doctor");
    timestamp(&user["created_at"]);

    // The same `User` as in the login answer.
    let logged_in = login(&server, "doc@clinic.test", PASSWORD).await;
    assert_eq!(&logged_in.data()["user"], user);

    // Every role may ask who it is.
    let reply = me(&server, &receptionist.access_token).await;
    reply.expect(200);
    assert_eq!(reply.data()["role"], "receptionist");
    assert_eq!(reply.data()["id"], receptionist.user_id.as_str());
    let reply = me(&server, &admin.access_token).await;
    reply.expect(200);
    assert_eq!(reply.data()["role"], "admin");

    // With and without a trailing slash.
    server
        .call(
            Method::GET,
            "/api/v1/auth/me/",
            Some(&doctor.access_token),
            None,
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn login_ignores_the_case_of_the_email() {
    let server = TestServer::start().await;
    let user_id = server.user("doc@clinic.test", Role::Doctor).await;
    let reply = login(&server, "Doc@Clinic.TEST", PASSWORD).await;
    reply.expect(200);
    assert_eq!(reply.data()["user_id"], user_id.as_str());
    assert_eq!(reply.data()["user"]["email"], "doc@clinic.test");
}

#[tokio::test]
async fn login_validates_its_body() {
    let server = TestServer::start().await;
    server.user("doc@clinic.test", Role::Doctor).await;

    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test"})),
        )
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"password".to_string()));

    let reply = login(&server, "doc@clinic.test", "").await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"password".to_string()));

    let reply = login(&server, "", PASSWORD).await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"email".to_string()));

    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test", "password": PASSWORD, "remember": true})),
        )
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"remember".to_string()));

    let reply = server
        .call(Method::POST, "/api/v1/auth/login", None, None)
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"body".to_string()));

    // None of these counted as a failed login.
    assert_eq!(failed_logins(&server, "doc@clinic.test").await, 0);
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_answer_the_same() {
    let server = TestServer::start().await;
    server.user("doc@clinic.test", Role::Doctor).await;

    let wrong_password = login(&server, "doc@clinic.test", "not-the-password").await;
    let unknown_email = login(&server, "nobody@clinic.test", "not-the-password").await;
    let unknown_with_real_password = login(&server, "nobody@clinic.test", PASSWORD).await;

    expect_unauthorized(&wrong_password, "INVALID_CREDENTIALS");
    for other in [&unknown_email, &unknown_with_real_password] {
        expect_unauthorized(other, "INVALID_CREDENTIALS");
        assert_eq!(other.status, wrong_password.status);
        assert_eq!(
            without_request_id(&other.body),
            without_request_id(&wrong_password.body)
        );
        assert_eq!(
            header(other, "www-authenticate"),
            header(&wrong_password, "www-authenticate")
        );
    }
    assert_eq!(wrong_password.body["error"]["details"], json!({}));
    // The request ids differ and are the ones in the headers.
    assert_ne!(unknown_email.request_id, wrong_password.request_id);
    assert_eq!(
        wrong_password.body["request_id"].as_str(),
        wrong_password.request_id.as_deref()
    );
}

#[tokio::test]
async fn five_consecutive_failures_lock_the_account_even_for_the_right_password() {
    let server = TestServer::start().await;
    server.user("doc@clinic.test", Role::Doctor).await;
    server.user("other@clinic.test", Role::Doctor).await;

    for attempt in 1..=4 {
        let reply = login(&server, "doc@clinic.test", "wrong-password").await;
        expect_unauthorized(&reply, "INVALID_CREDENTIALS");
        assert_eq!(failed_logins(&server, "doc@clinic.test").await, attempt);
    }
    // The fifth failure already answers 423.
    let before = Utc::now();
    let fifth = login(&server, "doc@clinic.test", "wrong-password").await;
    let until = locked_until(&fifth);
    assert!(
        until > Utc::now(),
        "locked_until {until} is not in the future"
    );
    // The default lock lasts 15 minutes.
    let span = until - before;
    assert!(
        span > chrono::Duration::minutes(14) && span <= chrono::Duration::minutes(16),
        "lock lasts {span}"
    );

    // While locked, the right password is refused too, with the same time.
    let right = login(&server, "doc@clinic.test", PASSWORD).await;
    assert_eq!(locked_until(&right), until);
    let wrong = login(&server, "doc@clinic.test", "wrong-password").await;
    assert_eq!(locked_until(&wrong), until);
    let right_again = login(&server, "doc@clinic.test", PASSWORD).await;
    assert_eq!(locked_until(&right_again), until);

    // Only that account is locked.
    login(&server, "other@clinic.test", PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_lock_expires_and_the_failure_count_starts_again() {
    let server = TestServer::start_with(config_with_lockout(chrono::Duration::seconds(1))).await;
    server.user("right@clinic.test", Role::Doctor).await;
    server.user("wrong@clinic.test", Role::Doctor).await;

    let mut until = Vec::new();
    for email in ["right@clinic.test", "wrong@clinic.test"] {
        for _ in 0..4 {
            let reply = login(&server, email, "wrong-password").await;
            expect_unauthorized(&reply, "INVALID_CREDENTIALS");
        }
        let before = Utc::now();
        let fifth = login(&server, email, "wrong-password").await;
        let locked = locked_until(&fifth);
        assert!(locked > before, "locked_until {locked} is in the past");
        until.push(locked);
    }

    // Wait a little past the later lock.
    let latest = until.iter().max().copied().unwrap();
    let wait = (latest - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300);
    assert!(
        wait < Duration::from_secs(3),
        "lock lasts too long: {wait:?}"
    );
    tokio::time::sleep(wait).await;

    // After expiry the right password works, and the count starts from zero: four more
    // failures do not lock again, the fifth does.
    login(&server, "right@clinic.test", PASSWORD)
        .await
        .expect(200);
    assert_eq!(failed_logins(&server, "right@clinic.test").await, 0);
    for _ in 0..4 {
        let reply = login(&server, "right@clinic.test", "wrong-password").await;
        expect_unauthorized(&reply, "INVALID_CREDENTIALS");
    }
    login(&server, "right@clinic.test", PASSWORD)
        .await
        .expect(200);

    // After expiry a wrong password is an ordinary failure (the first of a new count), not
    // another 423; four of them still leave the right password working.
    for attempt in 1..=4 {
        let reply = login(&server, "wrong@clinic.test", "wrong-password").await;
        expect_unauthorized(&reply, "INVALID_CREDENTIALS");
        assert_eq!(failed_logins(&server, "wrong@clinic.test").await, attempt);
    }
    login(&server, "wrong@clinic.test", PASSWORD)
        .await
        .expect(200);

    // And the threshold still applies afterwards.
    for _ in 0..4 {
        let reply = login(&server, "wrong@clinic.test", "wrong-password").await;
        expect_unauthorized(&reply, "INVALID_CREDENTIALS");
    }
    let fifth = login(&server, "wrong@clinic.test", "wrong-password").await;
    assert!(locked_until(&fifth) > Utc::now());
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let server = TestServer::start().await;
    server.user("doc@clinic.test", Role::Doctor).await;

    for round in 0..3 {
        for _ in 0..4 {
            let reply = login(&server, "doc@clinic.test", "wrong-password").await;
            expect_unauthorized(&reply, "INVALID_CREDENTIALS");
        }
        assert_eq!(failed_logins(&server, "doc@clinic.test").await, 4);
        let reply = login(&server, "doc@clinic.test", PASSWORD).await;
        assert_eq!(reply.status, 200, "round {round}: {:#}", reply.body);
        assert_eq!(failed_logins(&server, "doc@clinic.test").await, 0);
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_tokens_stop_working() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let second = server.login("doc@clinic.test", PASSWORD).await;
    me(&server, &doctor.access_token).await.expect(200);

    let disabled = server
        .call(
            Method::POST,
            &format!("/api/v1/admin/users/{}/disable", doctor.user_id),
            Some(&admin.access_token),
            None,
        )
        .await;
    disabled.expect(200);
    assert_eq!(disabled.data()["id"], doctor.user_id.as_str());
    assert_eq!(disabled.data()["disabled"], true);

    // The right password: 403 ACCOUNT_DISABLED. A wrong one says nothing about the account.
    login(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect_error(403, "ACCOUNT_DISABLED");
    expect_unauthorized(
        &login(&server, "doc@clinic.test", "wrong-password").await,
        "INVALID_CREDENTIALS",
    );

    // Every session's tokens stop working at once. API.md says a disabled account answers
    // 403 ACCOUNT_DISABLED to every authenticated call and to refresh; the sessions are also
    // revoked, which answers 401 SESSION_REVOKED. Either refusal is accepted here.
    for session in [&doctor, &second] {
        let reply = me(&server, &session.access_token).await;
        assert_refused_after_disable(&reply);
        let reply = server.get("/api/v1/patients/list", session).await;
        assert_refused_after_disable(&reply);
        let reply = refresh(&server, &session.refresh_token).await;
        assert_refused_after_disable(&reply);
    }

    // The admin's own session is untouched.
    me(&server, &admin.access_token).await.expect(200);
}

#[track_caller]
/// A disabled account's tokens answer 403 ACCOUNT_DISABLED (docs/API.md), so the workstation
/// can say why rather than just asking for the password again.
fn assert_refused_after_disable(reply: &Reply) {
    reply.expect_error(403, "ACCOUNT_DISABLED");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    let mut current = doctor.clone();
    let mut seen = vec![doctor.refresh_token.clone()];
    for _ in 0..3 {
        let reply = refresh(&server, &current.refresh_token).await;
        reply.expect(200);
        let data = reply.data();
        assert_eq!(data["token_type"], "bearer");
        assert_eq!(data["expires_in"], 15 * 60);
        // The refresh token's 7 days, cut to the session's 12-hour lifetime.
        assert_eq!(data["refresh_expires_in"], 12 * 3600);
        assert_eq!(data["user_id"], doctor.user_id.as_str());
        assert_eq!(data["role"], "doctor");
        assert_eq!(data["user"]["id"], doctor.user_id.as_str());
        assert_eq!(data["user"]["email"], "doc@clinic.test");
        let next = session_of("doc@clinic.test", &reply);
        assert!(
            !seen.contains(&next.refresh_token),
            "refresh token was not rotated"
        );
        seen.push(next.refresh_token.clone());
        assert_ne!(next.access_token, current.access_token);
        // The new access token works, and so does the earlier one of the same session.
        let who = me(&server, &next.access_token).await;
        who.expect(200);
        assert_eq!(who.data()["id"], doctor.user_id.as_str());
        me(&server, &doctor.access_token).await.expect(200);
        current = next;
    }
}

#[tokio::test]
async fn a_used_refresh_token_revokes_the_session() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other_session = server.login("doc@clinic.test", PASSWORD).await;

    let first = refresh(&server, &doctor.refresh_token).await;
    let rotated = session_of("doc@clinic.test", &first);
    let second = refresh(&server, &rotated.refresh_token).await;
    let newest = session_of("doc@clinic.test", &second);
    me(&server, &newest.access_token).await.expect(200);

    // Someone replays the original (spent) refresh token.
    let replay = refresh(&server, &doctor.refresh_token).await;
    expect_unauthorized(&replay, "SESSION_REVOKED");

    // The whole session is gone: the newest refresh token and every access token of it.
    expect_unauthorized(
        &refresh(&server, &newest.refresh_token).await,
        "SESSION_REVOKED",
    );
    for token in [
        &doctor.access_token,
        &rotated.access_token,
        &newest.access_token,
    ] {
        expect_unauthorized(&me(&server, token).await, "SESSION_REVOKED");
    }
    // A replay again is still refused.
    expect_unauthorized(
        &refresh(&server, &rotated.refresh_token).await,
        "SESSION_REVOKED",
    );

    // Other sessions of the same user keep working.
    me(&server, &other_session.access_token).await.expect(200);
    refresh(&server, &other_session.refresh_token)
        .await
        .expect(200);

    // The reuse is audited.
    assert_eq!(
        audit_count(
            &server,
            "auth.refresh_reuse",
            "revoked",
            Some(&doctor.user_id)
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_unknown_refresh_token_is_unauthenticated() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    expect_unauthorized(
        &refresh(&server, "this-token-was-never-issued").await,
        "UNAUTHENTICATED",
    );
    // One shaped like a real refresh token (43 URL-safe characters).
    expect_unauthorized(&refresh(&server, &"Q".repeat(43)).await, "UNAUTHENTICATED");
    // An access token is not a refresh token.
    let reply = refresh(&server, &doctor.access_token).await;
    assert!(
        matches!(reply.status.as_u16(), 401 | 422),
        "{:#}",
        reply.body
    );
    assert!(matches!(
        reply.code(),
        "UNAUTHENTICATED" | "VALIDATION_ERROR"
    ));

    let reply = refresh(&server, "").await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"refresh_token".to_string()));
    let reply = server
        .call(Method::POST, "/api/v1/auth/refresh", None, Some(json!({})))
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"refresh_token".to_string()));

    // None of this disturbed the real session.
    refresh(&server, &doctor.refresh_token).await.expect(200);
}

#[tokio::test]
async fn an_expired_refresh_token_is_unauthenticated() {
    let mut config = test_config();
    config.refresh_token_ttl_s = 1;
    let server = TestServer::start_with(config).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Never TOKEN_EXPIRED (which would tell a client to refresh).
    expect_unauthorized(
        &refresh(&server, &doctor.refresh_token).await,
        "UNAUTHENTICATED",
    );
    // Logging in again works.
    login(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn logout_with_a_bearer_token_revokes_that_session_only() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login("doc@clinic.test", PASSWORD).await;

    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&doctor.access_token),
            None,
        )
        .await;
    reply.expect(200);
    assert_eq!(reply.data(), &json!({"logged_out": true}));

    expect_unauthorized(&me(&server, &doctor.access_token).await, "SESSION_REVOKED");
    let refused = refresh(&server, &doctor.refresh_token).await;
    expect_unauthorized(&refused, "SESSION_REVOKED");
    // Logging out twice is refused like any revoked token.
    expect_unauthorized(
        &server
            .call(
                Method::POST,
                "/api/v1/auth/logout",
                Some(&doctor.access_token),
                None,
            )
            .await,
        "SESSION_REVOKED",
    );

    // The user's other session is untouched.
    me(&server, &other.access_token).await.expect(200);

    // An empty JSON body, and a body naming the refresh token, work as well.
    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&other.access_token),
            Some(json!({"refresh_token": other.refresh_token})),
        )
        .await;
    reply.expect(200);
    expect_unauthorized(&me(&server, &other.access_token).await, "SESSION_REVOKED");
    expect_unauthorized(
        &refresh(&server, &other.refresh_token).await,
        "SESSION_REVOKED",
    );
    let third = server.login("doc@clinic.test", PASSWORD).await;
    server
        .post("/api/v1/auth/logout", &third, json!({}))
        .await
        .expect(200);
    expect_unauthorized(&me(&server, &third.access_token).await, "SESSION_REVOKED");
}

#[tokio::test]
async fn logout_with_only_the_refresh_token_revokes_its_session() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login("doc@clinic.test", PASSWORD).await;

    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": doctor.refresh_token})),
        )
        .await;
    reply.expect(200);
    assert_eq!(reply.data(), &json!({"logged_out": true}));

    expect_unauthorized(&me(&server, &doctor.access_token).await, "SESSION_REVOKED");
    expect_unauthorized(
        &refresh(&server, &doctor.refresh_token).await,
        "SESSION_REVOKED",
    );
    me(&server, &other.access_token).await.expect(200);

    // After a rotation, the newest refresh token names the same session: logging out with it
    // ends the access tokens from before and after the rotation.
    let rotated = session_of(
        "doc@clinic.test",
        &refresh(&server, &other.refresh_token).await,
    );
    server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": rotated.refresh_token})),
        )
        .await
        .expect(200);
    expect_unauthorized(&me(&server, &rotated.access_token).await, "SESSION_REVOKED");
    expect_unauthorized(&me(&server, &other.access_token).await, "SESSION_REVOKED");
    expect_unauthorized(
        &refresh(&server, &rotated.refresh_token).await,
        "SESSION_REVOKED",
    );

    assert_eq!(
        audit_count(&server, "auth.logout", "success", Some(&doctor.user_id)).await,
        2
    );
}

#[tokio::test]
async fn logout_without_credentials_is_unauthenticated() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    let reply = server
        .call(Method::POST, "/api/v1/auth/logout", None, None)
        .await;
    expect_unauthorized(&reply, "UNAUTHENTICATED");
    let reply = server
        .call(Method::POST, "/api/v1/auth/logout", None, Some(json!({})))
        .await;
    expect_unauthorized(&reply, "UNAUTHENTICATED");
    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": "never-issued"})),
        )
        .await;
    expect_unauthorized(&reply, "UNAUTHENTICATED");
    let reply = server
        .call(Method::POST, "/api/v1/auth/logout", Some("garbage"), None)
        .await;
    expect_unauthorized(&reply, "UNAUTHENTICATED");

    // Nothing was logged out.
    me(&server, &doctor.access_token).await.expect(200);
    refresh(&server, &doctor.refresh_token).await.expect(200);
}

#[tokio::test]
async fn change_password_with_a_wrong_current_password_is_refused() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    let reply = change_password(&server, &doctor, "not-my-password", NEW_PASSWORD).await;
    reply.expect_error(401, "INVALID_CREDENTIALS");
    // Nothing changed: the session works, the old password still logs in, the new one not.
    me(&server, &doctor.access_token).await.expect(200);
    login(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect(200);
    expect_unauthorized(
        &login(&server, "doc@clinic.test", NEW_PASSWORD).await,
        "INVALID_CREDENTIALS",
    );

    // Without a token it is 401 UNAUTHENTICATED.
    let reply = server
        .call(
            Method::POST,
            "/api/v1/auth/change-password",
            None,
            Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    expect_unauthorized(&reply, "UNAUTHENTICATED");
}

#[tokio::test]
async fn change_password_validates_the_new_password() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    let reply = change_password(&server, &doctor, PASSWORD, "short").await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert_eq!(field_names(&reply), ["new_password"]);
    // The message never echoes the rejected value.
    assert!(!reply.body.to_string().contains("\"short\""));

    let reply = change_password(&server, &doctor, PASSWORD, PASSWORD).await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"new_password".to_string()));

    let reply = server
        .post(
            "/api/v1/auth/change-password",
            &doctor,
            json!({"current_password": PASSWORD}),
        )
        .await;
    reply.expect_error(422, "VALIDATION_ERROR");
    assert!(field_names(&reply).contains(&"new_password".to_string()));

    // The password is unchanged.
    login(&server, "doc@clinic.test", PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn change_password_revokes_other_sessions_and_keeps_this_one() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login("doc@clinic.test", PASSWORD).await;
    let colleague = server
        .login_new("colleague@clinic.test", Role::Doctor)
        .await;

    let reply = change_password(&server, &doctor, PASSWORD, NEW_PASSWORD).await;
    reply.expect(200);
    assert_eq!(reply.data(), &json!({"changed": true}));

    // The other session is over, access and refresh.
    expect_unauthorized(&me(&server, &other.access_token).await, "SESSION_REVOKED");
    expect_unauthorized(
        &refresh(&server, &other.refresh_token).await,
        "SESSION_REVOKED",
    );
    // This one keeps working, refresh included.
    me(&server, &doctor.access_token).await.expect(200);
    let rotated = session_of(
        "doc@clinic.test",
        &refresh(&server, &doctor.refresh_token).await,
    );
    me(&server, &rotated.access_token).await.expect(200);
    // Another user's session is untouched.
    me(&server, &colleague.access_token).await.expect(200);

    // The new password logs in, the old one no longer does.
    expect_unauthorized(
        &login(&server, "doc@clinic.test", PASSWORD).await,
        "INVALID_CREDENTIALS",
    );
    login(&server, "doc@clinic.test", NEW_PASSWORD)
        .await
        .expect(200);

    assert_eq!(
        audit_count(
            &server,
            "auth.change_password",
            "success",
            Some(&doctor.user_id)
        )
        .await,
        1
    );
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_lockout() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    for _ in 0..4 {
        change_password(&server, &doctor, "not-my-password", NEW_PASSWORD)
            .await
            .expect_error(401, "INVALID_CREDENTIALS");
    }
    let fifth = change_password(&server, &doctor, "not-my-password", NEW_PASSWORD).await;
    let until = locked_until(&fifth);
    assert!(until > Utc::now());
    // Now the login is locked even with the right password, and so is change-password.
    assert_eq!(
        locked_until(&login(&server, "doc@clinic.test", PASSWORD).await),
        until
    );
    assert_eq!(
        locked_until(&change_password(&server, &doctor, PASSWORD, NEW_PASSWORD).await),
        until
    );
}

#[tokio::test]
async fn an_expired_access_token_answers_token_expired_and_refresh_still_works() {
    let mut config = test_config();
    config.access_token_ttl_s = 1;
    config.refresh_token_ttl_s = 120;
    let server = TestServer::start_with(config).await;
    server.user("doc@clinic.test", Role::Doctor).await;
    let reply = login(&server, "doc@clinic.test", PASSWORD).await;
    assert_eq!(reply.data()["expires_in"], 1);
    assert_eq!(reply.data()["refresh_expires_in"], 120);
    let doctor = session_of("doc@clinic.test", &reply);

    // Expiry is checked in whole seconds; 2.1 s is always past it. Poll a little beyond that
    // in case the machine is slow, but never forever.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut expired = me(&server, &doctor.access_token).await;
    for _ in 0..20 {
        if expired.status != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        expired = me(&server, &doctor.access_token).await;
    }
    expect_unauthorized(&expired, "TOKEN_EXPIRED");
    expect_unauthorized(
        &server.get("/api/v1/patients/list", &doctor).await,
        "TOKEN_EXPIRED",
    );
    // An expired token cannot log out either.
    expect_unauthorized(
        &server
            .call(
                Method::POST,
                "/api/v1/auth/logout",
                Some(&doctor.access_token),
                None,
            )
            .await,
        "TOKEN_EXPIRED",
    );

    // The refresh token still works and gives a fresh access token.
    let refreshed = refresh(&server, &doctor.refresh_token).await;
    refreshed.expect(200);
    assert_eq!(refreshed.data()["expires_in"], 1);
    let renewed = session_of("doc@clinic.test", &refreshed);
    let who = me(&server, &renewed.access_token).await;
    who.expect(200);
    assert_eq!(who.data()["id"], doctor.user_id.as_str());
}

#[tokio::test]
async fn the_login_rate_limit_answers_429_with_retry_after() {
    let mut config = test_config();
    config.login_attempts_per_minute = 3;
    let server = TestServer::start_with(config).await;
    server.user("doc@clinic.test", Role::Doctor).await;

    let doctor = session_of(
        "doc@clinic.test",
        &login(&server, "doc@clinic.test", PASSWORD).await,
    );
    for _ in 0..2 {
        expect_unauthorized(
            &login(&server, "doc@clinic.test", "wrong-password").await,
            "INVALID_CREDENTIALS",
        );
    }
    // The fourth attempt in the minute is refused, whatever the password.
    for password in [PASSWORD, "wrong-password", PASSWORD] {
        let limited = login(&server, "doc@clinic.test", password).await;
        limited.expect_error(429, "RATE_LIMITED");
        let retry_after_s = limited.body["error"]["details"]["retry_after_s"]
            .as_u64()
            .unwrap_or_else(|| panic!("no details.retry_after_s: {:#}", limited.body));
        assert!((1..=60).contains(&retry_after_s), "{retry_after_s}");
        let header_value: u64 = header(&limited, "retry-after")
            .expect("Retry-After header")
            .parse()
            .expect("Retry-After in seconds");
        assert_eq!(header_value, retry_after_s);
    }
    // Refused attempts never reached the password check, so they did not count as failures.
    assert_eq!(failed_logins(&server, "doc@clinic.test").await, 2);
    // Only logging in is limited: the session keeps working.
    me(&server, &doctor.access_token).await.expect(200);
    refresh(&server, &doctor.refresh_token).await.expect(200);
}

#[tokio::test]
async fn a_request_without_a_token_is_challenged_with_bearer() {
    let server = TestServer::start().await;
    for path in [
        "/api/v1/auth/me",
        "/api/v1/patients/list",
        "/api/v1/reports/stats",
        "/api/v1/admin/users",
    ] {
        let reply = server.call(Method::GET, path, None, None).await;
        expect_unauthorized(&reply, "UNAUTHENTICATED");
        assert_eq!(reply.body["error"]["details"], json!({}), "{path}");
    }
}

#[tokio::test]
async fn malformed_or_foreign_tokens_are_unauthenticated() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    // Not a JWT at all.
    expect_unauthorized(&me(&server, "garbage").await, "UNAUTHENTICATED");
    expect_unauthorized(&me(&server, "a.b.c").await, "UNAUTHENTICATED");
    // The refresh token is not an access token.
    expect_unauthorized(&me(&server, &doctor.refresh_token).await, "UNAUTHENTICATED");
    // A tampered payload breaks the signature.
    let mut parts: Vec<String> = doctor.access_token.split('.').map(str::to_string).collect();
    let payload = &mut parts[1];
    let last = payload.pop().unwrap();
    payload.push(if last == 'A' { 'B' } else { 'A' });
    expect_unauthorized(&me(&server, &parts.join(".")).await, "UNAUTHENTICATED");
    // Signed with another secret.
    let foreign = TokenKeys::new(b"some-other-secret-some-other-secret!", 900, 3600)
        .issue_access(
            Uuid::parse_str(&doctor.user_id).unwrap(),
            Role::Doctor,
            Uuid::now_v7(),
        )
        .unwrap();
    expect_unauthorized(&me(&server, &foreign).await, "UNAUTHENTICATED");
    // Another scheme, or no token after the scheme.
    expect_unauthorized(
        &me_with_authorization(&server, "Basic ZG9jOnB3").await,
        "UNAUTHENTICATED",
    );
    expect_unauthorized(
        &me_with_authorization(&server, &doctor.access_token).await,
        "UNAUTHENTICATED",
    );
    expect_unauthorized(
        &me_with_authorization(&server, "Bearer ").await,
        "UNAUTHENTICATED",
    );

    // The real token is fine after all this.
    me(&server, &doctor.access_token).await.expect(200);
}

#[tokio::test]
async fn logins_failures_and_lockouts_are_audited() {
    let server = TestServer::start().await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;

    let unknown = login(&server, "nobody@clinic.test", "wrong-password").await;
    expect_unauthorized(&unknown, "INVALID_CREDENTIALS");
    let mut failures = Vec::new();
    for _ in 0..5 {
        failures.push(login(&server, "doc@clinic.test", "wrong-password").await);
    }
    let lock = failures.last().unwrap();
    let until = locked_until(lock);
    let refused = login(&server, "doc@clinic.test", PASSWORD).await;
    assert_eq!(locked_until(&refused), until);

    // The lockout, through the admin API.
    let reply = server
        .get("/api/v1/admin/audit?action=auth.lockout", &admin)
        .await;
    reply.expect(200);
    let items = reply.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:#}", reply.data());
    assert_eq!(reply.data()["pagination"]["total"], 1);
    let row = &items[0];
    assert_eq!(row["action"], "auth.lockout");
    assert_eq!(row["outcome"], "locked");
    assert_eq!(row["user_id"], doctor.user_id.as_str());
    assert_eq!(row["resource_type"], "user");
    assert_eq!(row["resource_id"], doctor.user_id.as_str());
    assert_eq!(row["request_id"].as_str(), lock.request_id.as_deref());
    assert_eq!(row["ip"], "127.0.0.1");
    timestamp(&row["at"]);

    // The doctor's logins, newest first: locked, five failures, the first success.
    let reply = server
        .get(
            &format!(
                "/api/v1/admin/audit?action=auth.login&user_id={}",
                doctor.user_id
            ),
            &admin,
        )
        .await;
    reply.expect(200);
    let outcomes: Vec<&str> = reply.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "locked", "failure", "failure", "failure", "failure", "failure", "success"
        ]
    );
    let items = reply.data()["items"].as_array().unwrap();
    assert_eq!(
        items[0]["request_id"].as_str(),
        refused.request_id.as_deref()
    );
    for (row, failure) in items[1..6].iter().zip(failures.iter().rev()) {
        assert_eq!(row["request_id"].as_str(), failure.request_id.as_deref());
        assert_eq!(row["user_id"], doctor.user_id.as_str());
    }
    assert_eq!(items[6]["resource_type"], "session");

    // Counted straight in the table: the unknown email left a failure without a user.
    assert_eq!(audit_count(&server, "auth.login", "failure", None).await, 1);
    let unknown_row = server
        .sql_rows(
            "SELECT CAST(user_id AS TEXT), request_id FROM audit_events WHERE action = 'auth.login' AND outcome = 'failure' AND user_id IS NULL",
            &[],
        )
        .await;
    assert_eq!(unknown_row.len(), 1, "{unknown_row:?}");
    let unknown_row = (
        unknown_row[0][0].clone(),
        unknown_row[0][1].clone().unwrap(),
    );
    assert_eq!(unknown_row.0, None);
    assert_eq!(Some(unknown_row.1), unknown.request_id);
    assert_eq!(
        audit_count(&server, "auth.login", "success", Some(&admin.user_id)).await,
        1
    );
    assert_eq!(
        audit_count(&server, "auth.login", "success", Some(&doctor.user_id)).await,
        1
    );
    assert_eq!(
        audit_count(&server, "auth.login", "failure", Some(&doctor.user_id)).await,
        5
    );
    assert_eq!(
        audit_count(&server, "auth.lockout", "locked", Some(&doctor.user_id)).await,
        1
    );
    assert_eq!(
        audit_count(&server, "auth.login", "locked", Some(&doctor.user_id)).await,
        1
    );
}

// --- the lockout behind a reverse proxy: per account and address, and from everywhere

/// A test server that trusts its own address (127.0.0.1) as a reverse proxy, so a request's
/// `X-Forwarded-For` names the client.
async fn behind_a_proxy(mut config: ServerConfig) -> TestServer {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    TestServer::start_with(config).await
}

/// A login from `client` (through the trusted proxy): status, headers and body.
async fn login_from(
    server: &TestServer,
    client: &str,
    email: &str,
    password: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = server
        .http
        .post(format!("{}/api/v1/auth/login", server.base))
        .header("x-forwarded-for", client)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("JSON body"))
}

/// A body without what differs between any two answers (the request id, the lock's time).
fn comparable(body: &Value) -> Value {
    let mut body = without_request_id(body);
    if let Some(details) = body["error"]["details"].as_object_mut() {
        for (_, value) in details.iter_mut() {
            *value = json!("…");
        }
    }
    if let Some(message) = body["error"]["message"].as_str() {
        let message: String = message.chars().filter(|c| !c.is_ascii_digit()).collect();
        body["error"]["message"] = json!(message);
    }
    body
}

fn header_names(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k != "date" && k != "content-length")
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_from_another() {
    let server = behind_a_proxy(test_config()).await;
    server.user("doc@clinic.test", Role::Doctor).await;
    for _ in 0..5 {
        login_from(&server, "203.0.113.7", "doc@clinic.test", "wrong-password").await;
    }
    let (status, _, body) = login_from(&server, "203.0.113.7", "doc@clinic.test", PASSWORD).await;
    assert_eq!(status, 423, "{body:#}");
    // The doctor, at their own desk, is not locked out by someone else's guesses.
    let (status, _, body) = login_from(&server, "192.0.2.10", "doc@clinic.test", PASSWORD).await;
    assert_eq!(status, 200, "{body:#}");
}

#[tokio::test]
async fn unknown_and_known_emails_answer_alike_at_every_step_of_the_lockout() {
    let server = behind_a_proxy(test_config()).await;
    server.user("doc@clinic.test", Role::Doctor).await;
    for attempt in 1..=7 {
        let known = login_from(&server, "203.0.113.8", "doc@clinic.test", "wrong-password").await;
        let unknown = login_from(
            &server,
            "203.0.113.8",
            "nobody@clinic.test",
            "wrong-password",
        )
        .await;
        assert_eq!(
            known.0, unknown.0,
            "attempt {attempt}: {:#} / {:#}",
            known.2, unknown.2
        );
        assert_eq!(
            comparable(&known.2),
            comparable(&unknown.2),
            "attempt {attempt}"
        );
        assert_eq!(
            header_names(&known.1),
            header_names(&unknown.1),
            "attempt {attempt}"
        );
        let expected = if attempt < 5 { 401 } else { 423 };
        assert_eq!(known.0, expected, "attempt {attempt}: {:#}", known.2);
    }
    // The right password of the known account is refused like any password of the unknown.
    let known = login_from(&server, "203.0.113.8", "doc@clinic.test", PASSWORD).await;
    let unknown = login_from(&server, "203.0.113.8", "nobody@clinic.test", PASSWORD).await;
    assert_eq!((known.0, unknown.0), (423, 423));
    assert_eq!(comparable(&known.2), comparable(&unknown.2));
}

#[tokio::test]
async fn failures_from_many_addresses_back_the_account_off_until_an_administrator_unlocks_it() {
    let mut config = test_config();
    config.lockout.threshold = 3;
    config.lockout.account_threshold = 6;
    let server = behind_a_proxy(config).await;
    let doctor = server.user("doc@clinic.test", Role::Doctor).await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..3 {
            login_from(&server, client, "doc@clinic.test", "wrong-password").await;
        }
    }
    // Six failures in all: refused from everywhere, and the unknown email alike.
    let (status, _, body) = login_from(&server, "192.0.2.10", "doc@clinic.test", PASSWORD).await;
    assert_eq!(status, 423, "{body:#}");
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..3 {
            login_from(&server, client, "nobody@clinic.test", "wrong-password").await;
        }
    }
    let (status, _, _) = login_from(&server, "192.0.2.10", "nobody@clinic.test", PASSWORD).await;
    assert_eq!(status, 423);

    // The administrators see the back-off on the account, and unlocking clears every lock.
    let users = server.get("/api/v1/admin/users?limit=100", &admin).await;
    let row = users.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "doc@clinic.test")
        .cloned()
        .unwrap();
    assert!(row["locked_until"].is_string(), "{row:#}");
    server
        .post(
            &format!("/api/v1/admin/users/{doctor}/unlock"),
            &admin,
            json!({}),
        )
        .await
        .expect(200);
    let (status, _, body) = login_from(&server, "203.0.113.1", "doc@clinic.test", PASSWORD).await;
    assert_eq!(status, 200, "{body:#}");
}

// --- the client's address behind a reverse proxy

#[tokio::test]
async fn forwarding_headers_are_honoured_only_from_trusted_proxies() {
    let mut config = test_config();
    config.login_attempts_per_minute = 2;
    // Not trusted: a client's own X-Forwarded-For does not get it a fresh bucket.
    let direct = TestServer::start_with(config.clone()).await;
    let statuses = {
        let mut statuses = Vec::new();
        for n in 0..3 {
            let (status, _, _) = login_from(
                &direct,
                &format!("198.51.100.{n}"),
                "x@clinic.test",
                "wrong",
            )
            .await;
            statuses.push(status);
        }
        statuses
    };
    assert_eq!(statuses, vec![401, 401, 429]);
    let ips = direct
        .sql_rows(
            "SELECT ip FROM audit_events WHERE action = 'auth.login'",
            &[],
        )
        .await;
    assert!(!ips.is_empty());
    assert!(
        ips.iter().all(|r| r[0].as_deref() == Some("127.0.0.1")),
        "{ips:?}"
    );

    // Trusted: each forwarded client has its own bucket, and the audit names it.
    let proxied = behind_a_proxy(config).await;
    for n in 0..3 {
        let (status, _, _) = login_from(
            &proxied,
            &format!("198.51.100.{n}"),
            "x@clinic.test",
            "wrong",
        )
        .await;
        assert_eq!(status, 401);
    }
    let ips = proxied
        .sql_rows(
            "SELECT ip FROM audit_events WHERE action = 'auth.login' ORDER BY ip",
            &[],
        )
        .await;
    let ips: Vec<_> = ips.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(ips, vec!["198.51.100.0", "198.51.100.1", "198.51.100.2"]);
}

// --- rate limits of the whole API

#[tokio::test]
async fn every_call_is_rate_limited_per_user_and_per_address() {
    let mut config = test_config();
    config.rate_limits.per_user = 5;
    config.rate_limits.per_address = 8;
    let server = TestServer::start_with(config).await;
    let a = server.login_new("a@clinic.test", Role::Doctor).await;
    let b = server.login_new("b@clinic.test", Role::Doctor).await;
    for _ in 0..5 {
        server.get("/api/v1/auth/me", &a).await.expect(200);
    }
    let limited = server.get("/api/v1/auth/me", &a).await;
    limited.expect_error(429, "RATE_LIMITED");
    let wait = limited.body["error"]["details"]["retry_after_s"]
        .as_u64()
        .unwrap();
    assert!(wait >= 1);
    assert_eq!(
        header(&limited, "retry-after"),
        Some(wait.to_string().as_str())
    );
    assert!(
        limited.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "Wait {wait} second{}",
                if wait == 1 { "" } else { "s" }
            )),
        "{:#}",
        limited.body
    );
    // Another user is not held back by the first.
    server.get("/api/v1/auth/me", &b).await.expect(200);

    // Without a token, the address is counted: two logins spent 2 of its 8 above.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            server
                .call(Method::GET, "/health", None, None)
                .await
                .status
                .as_u16(),
        );
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert_eq!(statuses.last().copied(), Some(429), "{statuses:?}");
}
