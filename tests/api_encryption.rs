//! Field encryption at rest through a real server: contacts, consultation notes and report
//! text reach the database sealed (the raw SQLite files, or every column of every PostgreSQL
//! table as text, hold none of them), read back in clear, are found by their blind indexes, a
//! value under a key the server lacks is a 500 naming the key, and `synapse admin rotate-key`
//! seals everything again under a new key while the server writes, losing nothing.
//! SQLite, or PostgreSQL with `SYNAPSE_TEST_ENGINE=postgres`.

mod common;

use std::time::Duration;

use common::served::{synapse, test_keys};
use common::{Db, Session, TestServer};
use serde_json::{Value, json};
use synapse::model::auth::Role;
use synapse::store::cipher;

const PHONE: &str = "+44 20 7946 0958";
const EMAIL: &str = "Zelda.Quill@Example.org";
const ADDRESS: &str = "17 Marigoldcrescent Lane";
const REFERRAL: &str = "Dr Okonkworeferral";
const COMPLAINT: &str = "Low mood";
const NOTES: &str = "History: insomnia since the Larkspurmill flood\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks\n\
Medications: sertraline 50 mg once daily\n\
Diagnosis: F32.1 Moderate depressive episode";
const ADDENDUM: &str = "Telephoned Quillsister about the Larkspurmill visit";

/// The texts no copy of the database may show. The phone is looked for as typed and as its
/// digits alone, eight digits long: a shorter fragment such as "7946" turns up by chance in
/// timestamps, ids and ciphertext, and failed a run that had sealed everything.
const NEEDLES: [&str; 8] = [
    "7946 0958",
    "79460958",
    "Zelda.Quill",
    "zelda.quill",
    "Marigoldcrescent",
    "Okonkworeferral",
    "Larkspurmill",
    "Quillsister",
];

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn register(server: &TestServer, doctor: &Session) -> String {
    let reply = server
        .post(
            "/api/v1/patients",
            doctor,
            json!({"full_name": "Zelda Quill", "date_of_birth": "1980-02-03", "sex": "female",
                   "phone": PHONE, "email": EMAIL, "address": ADDRESS, "referred_by": REFERRAL}),
        )
        .await;
    reply.expect(201);
    reply.data()["id"].as_str().unwrap().to_string()
}

async fn search(server: &TestServer, doctor: &Session, q: &str) -> Vec<String> {
    let reply = server
        .get(&format!("/api/v1/patients/search/?q={}", enc(q)), doctor)
        .await;
    reply.expect(200);
    reply.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["full_name"].as_str().unwrap().to_string())
        .collect()
}

/// Every text a copy of the database holds: the SQLite files' bytes (data file, audit log file
/// and their WALs), or every row of every PostgreSQL table cast to text.
async fn database_texts(server: &TestServer) -> Vec<String> {
    match server.db() {
        Db::Sqlite(_) => {
            let path = server
                .database_url
                .strip_prefix("sqlite://")
                .expect("a sqlite URL")
                .to_string();
            ["", "-wal", "-audit", "-audit-wal"]
                .iter()
                .filter_map(|suffix| std::fs::read(format!("{path}{suffix}")).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .collect()
        }
        Db::Postgres(_) => {
            let tables = server
                .sql_rows(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                    &[],
                )
                .await;
            let mut texts = Vec::new();
            for table in tables {
                let table = table[0].clone().unwrap();
                let rows = server
                    .sql_rows(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"), &[])
                    .await;
                texts.extend(rows.into_iter().filter_map(|row| row[0].clone()));
            }
            texts
        }
    }
}

async fn assert_nothing_in_clear(server: &TestServer) {
    let texts = database_texts(server).await;
    assert!(!texts.is_empty());
    for needle in NEEDLES {
        assert!(
            !texts.iter().any(|text| text.contains(needle)),
            "{needle:?} is in the database in clear"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_notes_and_reports_are_sealed_in_the_database_and_read_back_in_clear() {
    let server = TestServer::start().await;
    let doctor = server.login_new("enc@clinic.test", Role::Doctor).await;
    let patient = register(&server, &doctor).await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let report_id = report["id"].as_str().unwrap().to_string();
    assert!(
        report["content"].to_string().contains("Larkspurmill"),
        "the report is drafted from the notes: {report:#}"
    );
    let signed = server
        .post(
            &format!("/api/v1/reports/{report_id}/sign"),
            &doctor,
            json!({"password": common::PASSWORD, "version": report["version"]}),
        )
        .await;
    signed.expect(200);
    server
        .post(
            &format!("/api/v1/reports/{report_id}/addenda"),
            &doctor,
            json!({"text": ADDENDUM}),
        )
        .await
        .expect(200);

    // Read back in clear through the API.
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), &doctor)
        .await;
    chart.expect(200);
    let chart = chart.data();
    assert_eq!(chart["phone"], PHONE);
    assert_eq!(chart["email"], EMAIL);
    assert_eq!(chart["address"], ADDRESS);
    assert_eq!(chart["referred_by"], REFERRAL);
    let report = server
        .get(&format!("/api/v1/reports/{report_id}"), &doctor)
        .await;
    report.expect(200);
    assert_eq!(report.data()["addenda"][0]["text"], ADDENDUM);
    assert_eq!(report.data()["consultation"]["chief_complaint"], COMPLAINT);

    // Stored sealed, each value naming its key.
    let stored = server
        .sql_rows(
            "SELECT phone, email, address, referred_by FROM patients",
            &[],
        )
        .await;
    for value in &stored[0] {
        assert!(
            value.as_deref().unwrap().starts_with("enc:v1:k1:"),
            "{value:?}"
        );
    }
    assert_nothing_in_clear(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_contacts_by_the_whole_phone_or_email_or_the_last_four_digits() {
    let server = TestServer::start().await;
    let doctor = server.login_new("find@clinic.test", Role::Doctor).await;
    register(&server, &doctor).await;
    server.patient(&doctor, "Other Person").await;
    for (q, found) in [
        (PHONE, vec!["Zelda Quill"]),
        ("442079460958", vec!["Zelda Quill"]),
        ("(44) 20-7946-0958", vec!["Zelda Quill"]),
        ("0958", vec!["Zelda Quill"]),
        ("zelda.quill@example.ORG", vec!["Zelda Quill"]),
        // Fragments no longer match: the stored forms are blind indexes.
        ("7946", vec![]),
        ("20 7946", vec![]),
        ("zelda.quill@", vec![]),
        ("example.org", vec![]),
        // Names still match by prefix and substring.
        ("zel", vec!["Zelda Quill"]),
        ("uill", vec!["Zelda Quill"]),
    ] {
        assert_eq!(search(&server, &doctor, q).await, found, "q={q:?}");
    }
    assert_nothing_in_clear(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_under_a_key_the_server_lacks_or_a_wrong_key_is_a_500_naming_the_key() {
    let server = TestServer::start().await;
    let doctor = server.login_new("keys@clinic.test", Role::Doctor).await;
    let patient = register(&server, &doctor).await;
    let other_keys = cipher::Keyring::parse(&cipher::new_key_file(), "other").unwrap();
    for (stored, key_id) in [
        (
            "enc:v1:k9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string(),
            "k9",
        ),
        // Sealed under another k1 than the server's.
        (other_keys.seal(ADDRESS), "k1"),
    ] {
        server
            .sql_execute(
                "UPDATE patients SET address = $1 WHERE CAST(id AS TEXT) = $2",
                &[&stored, &patient],
            )
            .await
            .expect("update");
        let chart = server
            .get(&format!("/api/v1/patients/{patient}"), &doctor)
            .await;
        chart.expect_error(500, "INTERNAL_ERROR");
        let message = chart.body["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(&format!("key {key_id}")), "{message}");
        assert!(message.contains("key file"), "{message}");
        assert!(!message.contains("Marigold"), "{message}");
    }
}

#[test]
fn serve_and_seed_refuse_to_start_without_keys_and_say_how_to_make_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nokeys.db").display());
    for args in [
        vec![
            "serve",
            "--database",
            url.as_str(),
            "--listen",
            "127.0.0.1:0",
        ],
        vec!["seed", "--database", url.as_str(), "--patients", "1"],
    ] {
        let out = synapse(dir.path())
            .env_remove(cipher::KEYS_VAR)
            .env(
                "SYNAPSE_JWT_SECRET",
                "a-signing-key-of-at-least-32-characters!",
            )
            .args(&args)
            .output()
            .expect("run synapse");
        assert!(!out.status.success(), "{args:?} started without keys");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("synapse admin keygen") && stderr.contains("SYNAPSE_KEY_FILE"),
            "{args:?}: {stderr}"
        );
    }
    // keygen writes a key file of mode 0600 that serve accepts.
    let keys = dir.path().join("keys");
    let out = synapse(dir.path())
        .args(["admin", "keygen", "--out"])
        .arg(&keys)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(cipher::Keyring::from_file(&keys).is_ok());
    // Never replaced.
    let again = synapse(dir.path())
        .args(["admin", "keygen", "--out"])
        .arg(&keys)
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_under_write_load_seals_everything_again_and_loses_nothing() {
    // The server reads its keys from a file, so it can take up the key rotate-key adds.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("data-keys");
    std::fs::write(&key_file, test_keys()).unwrap();
    let server = TestServer::start().await;
    cipher::install(cipher::Keyring::from_file(&key_file).unwrap());
    let doctor = server.login_new("rotate@clinic.test", Role::Doctor).await;
    let mut patients = Vec::new();
    for n in 0..12 {
        let reply = server
            .post(
                "/api/v1/patients",
                &doctor,
                json!({"full_name": format!("Rotate Person {n}"), "date_of_birth": "1980-02-03",
                       "sex": "female", "phone": format!("+1 555 010 {n:04}"),
                       "address": format!("{n} First Street")}),
            )
            .await;
        reply.expect(201);
        patients.push(reply.data()["id"].as_str().unwrap().to_string());
    }

    // The doctor has a second factor: its secret is sealed under the data keys too.
    let enrolled = server
        .post("/api/v1/auth/mfa/enroll", &doctor, json!(null))
        .await;
    enrolled.expect(200);
    let secret = totp_rs::Secret::try_from_base32(enrolled.data()["secret"].as_str().unwrap())
        .expect("base32")
        .as_bytes()
        .to_vec();
    let now = || chrono::Utc::now().timestamp() as u64;
    let code = synapse::server::totp::code_at(&secret, now(), 6).unwrap();
    server
        .post("/api/v1/auth/mfa/confirm", &doctor, json!({"code": code}))
        .await
        .expect(200);

    // Writers change every patient's address over and over while the key rotates.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, id) in patients.iter().enumerate() {
        let (server_base, token, id, stop) = (
            server.base.clone(),
            doctor.access_token.clone(),
            id.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut last = format!("{n} First Street");
            let mut round = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                round += 1;
                let address = format!("{n} Street number {round}");
                let reply = http
                    .patch(format!("{server_base}/api/v1/patients/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({"address": address}))
                    .send()
                    .await
                    .expect("patch");
                assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
                last = address;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (id, last)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let url = server.database_url.clone();
    let key_path = key_file.clone();
    let workdir = dir.path().to_path_buf();
    let rotated = tokio::task::spawn_blocking(move || {
        synapse(&workdir)
            .env_remove(cipher::KEYS_VAR)
            .env(cipher::KEY_FILE_VAR, &key_path)
            .args(["admin", "rotate-key", "--database", &url])
            .output()
            .expect("run rotate-key")
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut last = Vec::new();
    for writer in writers {
        last.push(writer.await.expect("writer"));
    }
    assert!(
        rotated.status.success(),
        "rotate-key: {}{}",
        String::from_utf8_lossy(&rotated.stdout),
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stderr).contains("Added key k2"));

    // Nothing lost: every patient has the address last written, read through the server.
    for (id, address) in &last {
        let chart = server.get(&format!("/api/v1/patients/{id}"), &doctor).await;
        chart.expect(200);
        let chart: &Value = chart.data();
        assert_eq!(chart["address"], address.as_str());
    }
    // Every sealed value is under the new key (writes after the rotation are too).
    let stored = server
        .sql_rows(
            "SELECT phone FROM patients UNION ALL SELECT address FROM patients \
             UNION ALL SELECT notes FROM consultations UNION ALL SELECT secret FROM user_mfa",
            &[],
        )
        .await;
    for value in stored.into_iter().filter_map(|row| row[0].clone()) {
        assert!(value.starts_with("enc:v1:k2:"), "{value}");
    }
    // And the second factor still checks out: a login with a code of a later step.
    let later = now() + synapse::server::totp::STEP_S;
    let login = server
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "rotate@clinic.test", "password": common::PASSWORD})),
        )
        .await;
    login.expect_error(401, "MFA_REQUIRED");
    let token = login.body["error"]["details"]["mfa_token"]
        .as_str()
        .unwrap();
    server
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/mfa/verify",
            None,
            Some(json!({"mfa_token": token,
                        "code": synapse::server::totp::code_at(&secret, later, 6).unwrap()})),
        )
        .await
        .expect(200);
}
