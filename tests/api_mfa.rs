//! The TOTP second factor on a real server: enrolment (secret, URI, confirmation with a first
//! code, ten recovery codes), the two-step login, a code accepted once, recovery codes used
//! once, wrong codes counted towards the lockout, signing with a fresh code, the `require_mfa`
//! policy, and an administrator's reset. Codes are computed live from the enrolment's secret.
//! Runs on SQLite, and on PostgreSQL with `SYNAPSE_TEST_ENGINE=postgres`.

mod common;

use common::{PASSWORD, Session, TestServer, test_config};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::model::auth::Role;
use synapse::server::totp::{STEP_S, code_at};

/// Seconds since the epoch, waiting first when a step boundary is near: a test computes codes
/// for the steps around one moment, which must stay inside the server's window of ±1 step.
async fn steady_now() -> u64 {
    let now = chrono::Utc::now().timestamp() as u64;
    if now % STEP_S >= STEP_S - 5 {
        tokio::time::sleep(std::time::Duration::from_secs(STEP_S - now % STEP_S + 1)).await;
        return chrono::Utc::now().timestamp() as u64;
    }
    now
}

/// The code of the enrolment's `secret` (base32) `steps` steps from `now`.
fn code(secret: &str, now: u64, steps: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .expect("base32 secret")
        .as_bytes()
        .to_vec();
    code_at(&bytes, now.saturating_add_signed(steps * STEP_S as i64), 6).unwrap()
}

/// Enrols the session's account; answers the secret and the recovery codes. The confirmation
/// uses the code of the step before `now`, so the test's own logins use later steps.
async fn enrol(server: &TestServer, session: &Session, now: u64) -> (String, Vec<String>) {
    let enrolled = server
        .post("/api/v1/auth/mfa/enroll", session, json!(null))
        .await;
    enrolled.expect(200);
    let secret = enrolled.data()["secret"].as_str().unwrap().to_string();
    let confirmed = server
        .post(
            "/api/v1/auth/mfa/confirm",
            session,
            json!({"code": code(&secret, now, -1)}),
        )
        .await;
    confirmed.expect(200);
    let codes = confirmed.data()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

async fn login_reply(server: &TestServer, email: &str) -> common::Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await
}

/// The `mfa_token` of a login that needs a code.
async fn challenge(server: &TestServer, email: &str) -> String {
    let reply = login_reply(server, email).await;
    reply.expect_error(401, "MFA_REQUIRED");
    assert_eq!(reply.body["error"]["details"]["expires_in"], 300);
    reply.body["error"]["details"]["mfa_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn verify(server: &TestServer, token: &str, code: &str) -> common::Reply {
    server
        .call(
            Method::POST,
            "/api/v1/auth/mfa/verify",
            None,
            Some(json!({"mfa_token": token, "code": code})),
        )
        .await
}

fn session_of(reply: &common::Reply, email: &str) -> Session {
    let data = reply.data();
    Session {
        user_id: data["user_id"].as_str().unwrap().to_string(),
        email: email.to_string(),
        access_token: data["access_token"].as_str().unwrap().to_string(),
        refresh_token: data["refresh_token"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn enrolment_makes_a_secret_a_first_code_turns_on_and_it_is_kept_sealed() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let now = steady_now().await;
    let enrolled = server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await;
    enrolled.expect(200);
    let secret = enrolled.data()["secret"].as_str().unwrap().to_string();
    let uri = enrolled.data()["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Synapse:doc%40clinic.test?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert_eq!(secret.len(), 32, "160 bits in base32");
    // Not in force yet: the password alone still logs in.
    server.login("doc@clinic.test", PASSWORD).await;

    // Enrolling again before confirming replaces the secret.
    let again = server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await;
    again.expect(200);
    let secret = again.data()["secret"].as_str().unwrap().to_string();

    let wrong = server
        .post(
            "/api/v1/auth/mfa/confirm",
            &doctor,
            json!({"code": "000000"}),
        )
        .await;
    if code(&secret, now, 0) != "000000" {
        wrong.expect_error(422, "VALIDATION_ERROR");
        assert_eq!(wrong.body["error"]["details"]["fields"][0]["field"], "code");
    }
    let confirmed = server
        .post(
            "/api/v1/auth/mfa/confirm",
            &doctor,
            json!({"code": code(&secret, now, 0)}),
        )
        .await;
    confirmed.expect(200);
    let codes = confirmed.data()["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);

    // The database holds neither the secret nor the recovery codes in the clear.
    let sealed = server
        .sql_text("SELECT secret FROM user_mfa", &[])
        .await
        .unwrap();
    // Sealed under the data keys, as contacts and notes are.
    assert!(
        sealed.starts_with(synapse::store::cipher::PREFIX) && !sealed.contains(&secret),
        "{sealed}"
    );
    let hashes = server
        .sql_rows("SELECT code_hash FROM mfa_recovery_codes", &[])
        .await;
    assert_eq!(hashes.len(), 10);
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(hashes.iter().all(|h| h[0].as_deref() != Some(code)));
    }

    // Once on, enrolling again is refused until an administrator resets it.
    server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await
        .expect_error(409, "MFA_ALREADY_ENABLED");
    server
        .post(
            "/api/v1/auth/mfa/confirm",
            &doctor,
            json!({"code": "123456"}),
        )
        .await
        .expect_error(409, "MFA_ALREADY_ENABLED");
}

/// A new token signing secret (`jwt_secret`, its previous one dropped once the old tokens have
/// expired) leaves second factors working: their secrets are sealed under the data keys, not
/// under a key derived from the signing secret, which made every code check a 500.
#[tokio::test]
async fn a_second_factor_outlives_a_change_of_the_token_signing_secret() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let now = steady_now().await;
    let (secret, _) = enrol(&server, &doctor, now).await;

    let mut config = test_config();
    config.jwt_secret = b"a-new-signing-secret-a-new-signing-secret".to_vec();
    config.jwt_previous_secret = None;
    let rotated = server.start_beside(config).await;
    let token = challenge(&rotated, "doc@clinic.test").await;
    let reply = verify(&rotated, &token, &code(&secret, now, 0)).await;
    reply.expect(200);
    let session = session_of(&reply, "doc@clinic.test");
    rotated.get("/api/v1/auth/me", &session).await.expect(200);
}

#[tokio::test]
async fn confirming_without_an_enrolment_says_to_enrol_first() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    server
        .post(
            "/api/v1/auth/mfa/confirm",
            &doctor,
            json!({"code": "123456"}),
        )
        .await
        .expect_error(409, "INVALID_STATE");
}

#[tokio::test]
async fn a_login_needs_a_live_code_after_the_password_and_each_code_works_once() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let now = steady_now().await;
    let (secret, _) = enrol(&server, &doctor, now).await;

    // A wrong password still answers as before: the second step is only for the right one.
    server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "doc@clinic.test", "password": "not-the-password"})),
        )
        .await
        .expect_error(401, "INVALID_CREDENTIALS");

    let token = challenge(&server, "doc@clinic.test").await;
    // The mfa_token opens nothing by itself.
    server
        .call(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await
        .expect_error(401, "UNAUTHENTICATED");
    // The confirmation's code (the step before now) was used already.
    verify(&server, &token, &code(&secret, now, -1))
        .await
        .expect_error(401, "MFA_CODE_INVALID");
    let reply = verify(&server, &token, &code(&secret, now, 0)).await;
    reply.expect(200);
    let session = session_of(&reply, "doc@clinic.test");
    server.get("/api/v1/auth/me", &session).await.expect(200);

    // The same code again, even with a new login, is a replay.
    let token = challenge(&server, "doc@clinic.test").await;
    let replay = verify(&server, &token, &code(&secret, now, 0)).await;
    replay.expect_error(401, "MFA_CODE_INVALID");
    assert!(
        replay.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    // The next step's code (a phone a little ahead) is fresh.
    verify(&server, &token, &code(&secret, now, 1))
        .await
        .expect(200);

    // A token that is not one of the server's is refused.
    verify(&server, "not-a-token", &code(&secret, now, 1))
        .await
        .expect_error(401, "UNAUTHENTICATED");
    // An access token is not an mfa_token.
    verify(&server, &session.access_token, "123456")
        .await
        .expect_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_recovery_code_logs_in_once() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let now = steady_now().await;
    let (_, codes) = enrol(&server, &doctor, now).await;
    let token = challenge(&server, "doc@clinic.test").await;
    // Typed in capitals, without the dash: the same code.
    let typed = codes[3].replace('-', "").to_uppercase();
    verify(&server, &token, &typed).await.expect(200);
    let token = challenge(&server, "doc@clinic.test").await;
    verify(&server, &token, &codes[3])
        .await
        .expect_error(401, "MFA_CODE_INVALID");
    verify(&server, &token, &codes[4]).await.expect(200);
    let used = server
        .sql_count(
            "SELECT COUNT(*) FROM mfa_recovery_codes WHERE used_at IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(used, 2);
}

#[tokio::test]
async fn wrong_codes_count_towards_the_lockout() {
    let mut config = test_config();
    config.lockout.threshold = 3;
    let server = TestServer::start_with(config).await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let now = steady_now().await;
    let (secret, _) = enrol(&server, &doctor, now).await;
    let token = challenge(&server, "doc@clinic.test").await;
    let right = code(&secret, now, 0);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    for _ in 0..2 {
        verify(&server, &token, wrong)
            .await
            .expect_error(401, "MFA_CODE_INVALID");
    }
    let third = verify(&server, &token, wrong).await;
    third.expect_error(423, "ACCOUNT_LOCKED");
    assert!(third.body["error"]["details"]["locked_until"].is_string());
    // Locked: even the right code is refused, and so is the password.
    verify(&server, &token, &right)
        .await
        .expect_error(423, "ACCOUNT_LOCKED");
    login_reply(&server, "doc@clinic.test")
        .await
        .expect_error(423, "ACCOUNT_LOCKED");
}

#[tokio::test]
async fn signing_needs_a_fresh_code_when_the_signer_has_a_second_factor() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server
        .consultation_report(
            &doctor,
            &patient,
            "Low mood for two weeks. Sleeping poorly.",
        )
        .await;
    let id = report["id"].as_str().unwrap().to_string();
    let version = report["version"].clone();
    let now = steady_now().await;
    let (secret, _) = enrol(&server, &doctor, now).await;
    let path = format!("/api/v1/reports/{id}/sign");

    let missing = server
        .post(
            &path,
            &doctor,
            json!({"password": PASSWORD, "version": version}),
        )
        .await;
    missing.expect_error(422, "VALIDATION_ERROR");
    assert_eq!(
        missing.body["error"]["details"]["fields"][0]["field"],
        "code"
    );
    let right = code(&secret, now, 0);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    server
        .post(
            &path,
            &doctor,
            json!({"password": PASSWORD, "version": version, "code": wrong}),
        )
        .await
        .expect_error(401, "MFA_CODE_INVALID");
    // The confirmation's code is spent.
    server
        .post(
            &path,
            &doctor,
            json!({"password": PASSWORD, "version": version, "code": code(&secret, now, -1)}),
        )
        .await
        .expect_error(401, "MFA_CODE_INVALID");
    let signed = server
        .post(
            &path,
            &doctor,
            json!({"password": PASSWORD, "version": version, "code": right}),
        )
        .await;
    signed.expect(200);
    assert_eq!(signed.data()["status"], "signed");
}

#[tokio::test]
async fn signing_without_a_second_factor_needs_no_code() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server
        .consultation_report(
            &doctor,
            &patient,
            "Low mood for two weeks. Sleeping poorly.",
        )
        .await;
    server
        .post(
            &format!("/api/v1/reports/{}/sign", report["id"].as_str().unwrap()),
            &doctor,
            json!({"password": PASSWORD, "version": report["version"]}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_role_that_requires_a_second_factor_can_only_enrol_until_it_has_one() {
    let mut config = test_config();
    config.require_mfa = vec![Role::Doctor];
    let server = TestServer::start_with(config).await;
    server.user("doc@clinic.test", Role::Doctor).await;
    server.user("desk@clinic.test", Role::Receptionist).await;
    let reply = login_reply(&server, "doc@clinic.test").await;
    reply.expect(200);
    assert_eq!(reply.data()["mfa_enrollment_required"], true);
    let doctor = session_of(&reply, "doc@clinic.test");
    server
        .get("/api/v1/patients/list", &doctor)
        .await
        .expect_error(403, "MFA_ENROLLMENT_REQUIRED");
    server.get("/api/v1/auth/me", &doctor).await.expect(200);
    server
        .get("/api/v1/auth/sessions", &doctor)
        .await
        .expect(200);
    // A refresh keeps saying so.
    let refreshed = server
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": doctor.refresh_token})),
        )
        .await;
    refreshed.expect(200);
    assert_eq!(refreshed.data()["mfa_enrollment_required"], true);
    let doctor = session_of(&refreshed, "doc@clinic.test");

    // Another role is not concerned.
    let desk = login_reply(&server, "desk@clinic.test").await;
    desk.expect(200);
    assert!(desk.data().get("mfa_enrollment_required").is_none());

    let now = steady_now().await;
    let (secret, _) = enrol(&server, &doctor, now).await;
    // The same session goes on, now enrolled.
    server
        .get("/api/v1/patients/list", &doctor)
        .await
        .expect(200);
    let token = challenge(&server, "doc@clinic.test").await;
    let reply = verify(&server, &token, &code(&secret, now, 0)).await;
    reply.expect(200);
    assert!(reply.data().get("mfa_enrollment_required").is_none());
}

#[tokio::test]
async fn an_administrator_resets_a_second_factor_and_it_is_audited() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let admin = server.login_new("admin@clinic.test", Role::Admin).await;
    let now = steady_now().await;
    enrol(&server, &doctor, now).await;
    challenge(&server, "doc@clinic.test").await;

    let path = format!("/api/v1/admin/users/{}/reset-mfa", doctor.user_id);
    server
        .post(&path, &doctor, json!(null))
        .await
        .expect_error(403, "FORBIDDEN");
    let reset = server.post(&path, &admin, json!(null)).await;
    reset.expect(200);
    assert_eq!(reset.data()["had_mfa"], true);
    assert_eq!(reset.data()["user_id"], doctor.user_id.as_str());
    // The password alone logs in again, and the doctor can enrol anew.
    let doctor = server.login("doc@clinic.test", PASSWORD).await;
    server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await
        .expect(200);
    let again = server.post(&path, &admin, json!(null)).await;
    again.expect(200);
    assert_eq!(
        again.data()["had_mfa"],
        true,
        "a pending enrolment is removed too"
    );

    let audit = server
        .get(
            "/api/v1/admin/audit?limit=100&action=admin.mfa_reset",
            &admin,
        )
        .await;
    audit.expect(200);
    let rows: &Vec<Value> = audit.data()["items"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["resource_id"], doctor.user_id.as_str());

    let unknown = uuid::Uuid::now_v7();
    server
        .post(
            &format!("/api/v1/admin/users/{unknown}/reset-mfa"),
            &admin,
            json!(null),
        )
        .await
        .expect_error(404, "NOT_FOUND");
}
