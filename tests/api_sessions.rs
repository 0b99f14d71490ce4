//! Sessions as the server keeps them: the role and lifetime come from the session, not from the
//! token (a token re-signed with another role or a far expiry gets nothing more); the idle
//! timeout and the absolute lifetime; which calls count as use; the caller's list of sessions
//! and ending one; and rotating the signing key without signing anybody out. Runs on SQLite,
//! and on PostgreSQL with `SYNAPSE_TEST_ENGINE=postgres`.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use common::{Session, TestServer, test_config};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;
use synapse::server::tokens::TokenKeys;
use uuid::Uuid;

/// The secret `test_config` signs with.
const TEST_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// The claims of an access token, read without checking it.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("JSON")
}

fn session_id(session: &Session) -> String {
    claims(&session.access_token)["sid"]
        .as_str()
        .expect("sid")
        .to_string()
}

fn user_id(session: &Session) -> Uuid {
    Uuid::parse_str(&session.user_id).unwrap()
}

fn sql_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Sets a column of the session to a time `ago` in the past.
async fn backdate(server: &TestServer, session: &Session, column: &str, ago: chrono::Duration) {
    let sql = format!(
        "UPDATE sessions SET {column} = {} WHERE CAST(id AS TEXT) = $2",
        server.sql_time("$1")
    );
    let changed = server
        .sql_execute(
            &sql,
            &[&sql_timestamp(Utc::now() - ago), &session_id(session)],
        )
        .await
        .expect("update");
    assert_eq!(changed, 1);
}

async fn last_used(server: &TestServer, session: &Session) -> DateTime<Utc> {
    let text = server
        .sql_text(
            "SELECT CAST(last_used_at AS TEXT) FROM sessions WHERE CAST(id AS TEXT) = $1",
            &[&session_id(session)],
        )
        .await
        .expect("last_used_at");
    // SQLite keeps RFC 3339 text; PostgreSQL's text form has a space and a +00 offset.
    DateTime::parse_from_rfc3339(&text)
        .or_else(|_| DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

async fn me(server: &TestServer, token: &str) -> common::Reply {
    server
        .call(Method::GET, "/api/v1/auth/me", Some(token), None)
        .await
}

async fn refresh(server: &TestServer, session: &Session) -> common::Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": session.refresh_token})),
        )
        .await
}

#[tokio::test]
async fn a_token_re_signed_with_another_role_gets_the_role_of_its_account() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    // Whoever holds the signing key makes the doctor's own session claim to be an admin's.
    let forged = TokenKeys::new(TEST_SECRET, 900, 3600)
        .issue_access(
            user_id(&doctor),
            Role::Admin,
            Uuid::parse_str(&session_id(&doctor)).unwrap(),
        )
        .unwrap();
    assert_eq!(claims(&forged)["role"], "admin");
    server
        .get(
            "/api/v1/admin/users",
            &Session {
                access_token: forged.clone(),
                ..doctor.clone()
            },
        )
        .await
        .expect_error(403, "FORBIDDEN");
    // The doctor's own reads still work with it: only the role claim is ignored.
    me(&server, &forged).await.expect(200);
}

#[tokio::test]
async fn a_token_claiming_a_longer_life_than_the_server_gives_is_refused() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    let sid = Uuid::parse_str(&session_id(&doctor)).unwrap();
    // 10^8 s ahead: signed with the right key, but the server gives 15 minutes.
    let far = TokenKeys::new(TEST_SECRET, 100_000_000, 100_000_000)
        .issue_access(user_id(&doctor), Role::Doctor, sid)
        .unwrap();
    me(&server, &far).await.expect_error(401, "UNAUTHENTICATED");
    let fair = TokenKeys::new(TEST_SECRET, 900, 3600)
        .issue_access(user_id(&doctor), Role::Doctor, sid)
        .unwrap();
    me(&server, &fair).await.expect(200);
}

#[tokio::test]
async fn a_session_unused_for_the_idle_timeout_ends() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    me(&server, &doctor.access_token).await.expect(200);
    backdate(
        &server,
        &doctor,
        "last_used_at",
        chrono::Duration::minutes(31),
    )
    .await;
    me(&server, &doctor.access_token)
        .await
        .expect_error(401, "SESSION_EXPIRED");
    // Ended for good: the refresh token no longer works either, and the row says why.
    refresh(&server, &doctor)
        .await
        .expect_error(401, "SESSION_EXPIRED");
    let reason = server
        .sql_text(
            "SELECT revoke_reason FROM sessions WHERE CAST(id AS TEXT) = $1",
            &[&session_id(&doctor)],
        )
        .await;
    assert_eq!(reason.as_deref(), Some("idle timeout"));
}

#[tokio::test]
async fn a_refresh_after_the_idle_timeout_is_refused() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    backdate(
        &server,
        &doctor,
        "last_used_at",
        chrono::Duration::minutes(31),
    )
    .await;
    refresh(&server, &doctor)
        .await
        .expect_error(401, "SESSION_EXPIRED");
    // And stays ended, saying why.
    me(&server, &doctor.access_token)
        .await
        .expect_error(401, "SESSION_EXPIRED");
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_however_busy() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    backdate(&server, &doctor, "created_at", chrono::Duration::hours(12)).await;
    // Used a moment ago, but opened twelve hours ago.
    me(&server, &doctor.access_token)
        .await
        .expect_error(401, "SESSION_EXPIRED");
    let reason = server
        .sql_text(
            "SELECT revoke_reason FROM sessions WHERE CAST(id AS TEXT) = $1",
            &[&session_id(&doctor)],
        )
        .await;
    assert_eq!(reason.as_deref(), Some("lifetime reached"));
}

#[tokio::test]
async fn the_limits_are_configurable() {
    let mut config = test_config();
    config.sessions.idle = chrono::Duration::minutes(5);
    let server = TestServer::start_with(config).await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    backdate(
        &server,
        &doctor,
        "last_used_at",
        chrono::Duration::minutes(4),
    )
    .await;
    me(&server, &doctor.access_token).await.expect(200);
    backdate(
        &server,
        &doctor,
        "last_used_at",
        chrono::Duration::minutes(6),
    )
    .await;
    me(&server, &doctor.access_token)
        .await
        .expect_error(401, "SESSION_EXPIRED");
}

#[tokio::test]
async fn requests_keep_a_session_alive_and_event_streams_do_not() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    let ten_minutes = chrono::Duration::minutes(10);

    backdate(&server, &doctor, "last_used_at", ten_minutes).await;
    me(&server, &doctor.access_token).await.expect(200);
    let after_request = last_used(&server, &doctor).await;
    assert!(Utc::now() - after_request < chrono::Duration::seconds(30));

    // A workstation reopens its event stream at every token refresh, left alone or not: that
    // must not keep the session open.
    backdate(&server, &doctor, "last_used_at", ten_minutes).await;
    let before = last_used(&server, &doctor).await;
    let stream = server
        .http
        .get(format!("{}/api/v1/events", server.base))
        .bearer_auth(&doctor.access_token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), 200);
    drop(stream);
    assert_eq!(last_used(&server, &doctor).await, before);

    // Nor does a refresh of the tokens.
    let refreshed = refresh(&server, &doctor).await;
    refreshed.expect(200);
    assert_eq!(last_used(&server, &doctor).await, before);
}

#[tokio::test]
async fn the_caller_lists_and_ends_own_sessions() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    let laptop = server
        .http
        .post(format!("{}/api/v1/auth/login", server.base))
        .header("user-agent", "synapse-cli/test (laptop)")
        .json(&json!({"email": "doc@example.com", "password": common::PASSWORD}))
        .send()
        .await
        .expect("login")
        .json::<Value>()
        .await
        .expect("json");
    let laptop_token = laptop["data"]["access_token"].as_str().unwrap().to_string();
    let laptop_sid = claims(&laptop_token)["sid"].as_str().unwrap().to_string();
    let colleague = server.login_new("doc2@example.com", Role::Doctor).await;

    let listed = server.get("/api/v1/auth/sessions", &doctor).await;
    listed.expect(200);
    let items = listed.data()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    // Newest first: the laptop's login came second.
    assert_eq!(items[0]["id"], laptop_sid.as_str());
    assert_eq!(items[0]["client"], "synapse-cli/test (laptop)");
    assert_eq!(items[0]["ip"], "127.0.0.1");
    assert_eq!(items[0]["current"], false);
    assert_eq!(items[1]["id"], session_id(&doctor).as_str());
    assert_eq!(items[1]["current"], true);
    for item in &items {
        let created: DateTime<Utc> = item["created_at"].as_str().unwrap().parse().unwrap();
        let ends: DateTime<Utc> = item["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(ends - created, chrono::Duration::hours(12));
        assert!(item["idle_expires_at"].is_string());
    }

    // Ending another account's session is as if it did not exist.
    let path = format!("/api/v1/auth/sessions/{}", session_id(&colleague));
    server
        .call(Method::DELETE, &path, Some(&doctor.access_token), None)
        .await
        .expect_error(404, "NOT_FOUND");
    server.get("/api/v1/auth/me", &colleague).await.expect(200);

    let path = format!("/api/v1/auth/sessions/{laptop_sid}");
    let ended = server
        .call(Method::DELETE, &path, Some(&doctor.access_token), None)
        .await;
    ended.expect(200);
    assert_eq!(ended.data()["ended"], true);
    me(&server, &laptop_token)
        .await
        .expect_error(401, "SESSION_REVOKED");
    server
        .call(Method::DELETE, &path, Some(&doctor.access_token), None)
        .await
        .expect_error(404, "NOT_FOUND");
    let listed = server.get("/api/v1/auth/sessions", &doctor).await;
    assert_eq!(listed.data()["items"].as_array().unwrap().len(), 1);
    server
        .call(
            Method::DELETE,
            "/api/v1/auth/sessions/not-a-uuid",
            Some(&doctor.access_token),
            None,
        )
        .await
        .expect(422);
}

#[tokio::test]
async fn the_signing_key_rotates_without_signing_anybody_out() {
    let old = test_config();
    let server = TestServer::start_with(old).await;
    let doctor = server.login_new("doc@example.com", Role::Doctor).await;
    let old_kid = jsonwebtoken::decode_header(&doctor.access_token)
        .unwrap()
        .kid
        .expect("a key id");

    // The same database behind a server with a new key, the old one kept as previous.
    let new_secret = b"a-brand-new-signing-key-of-32-chars!!".to_vec();
    let mut rotating = test_config();
    rotating.jwt_secret = new_secret.clone();
    rotating.jwt_previous_secret = Some(TEST_SECRET.to_vec());
    let beside = server.start_beside(rotating).await;
    me(&beside, &doctor.access_token).await.expect(200);
    let refreshed = refresh(&beside, &doctor).await;
    refreshed.expect(200);
    let new_token = refreshed.data()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let new_kid = jsonwebtoken::decode_header(&new_token)
        .unwrap()
        .kid
        .expect("a key id");
    assert_ne!(new_kid, old_kid);
    me(&beside, &new_token).await.expect(200);

    // Once the previous key is dropped, its tokens stop working; the new ones go on.
    let mut rotated = test_config();
    rotated.jwt_secret = new_secret;
    let after = server.start_beside(rotated).await;
    me(&after, &doctor.access_token)
        .await
        .expect_error(401, "UNAUTHENTICATED");
    me(&after, &new_token).await.expect(200);
}
