//! Migrations on a database an earlier release left: the search fold (SQLite 0008, PostgreSQL
//! 0006) refolds the names and emails stored before search ignored diacritics, and with them
//! the name order, the name words and the trigram indexes, so "muller" finds a Müller
//! registered back then. Runs
//! on a SQLite file, and on PostgreSQL when `SYNAPSE_TEST_POSTGRES_URL` is set (else it says
//! it skipped that half).

mod common;

use std::io::Write as _;

use common::{TestDatabase, postgres_url};
use synapse::model::auth::Role;
use synapse::model::time::{format_timestamp, now};
use synapse::store::postgres::{self, PgStore};
use synapse::store::sqlite::{self, SqliteStore};
use synapse::store::{Actor, Store};
use uuid::Uuid;

/// The last migration before the fold, per engine.
const SQLITE_BEFORE_FOLD: i64 = 7;
const POSTGRES_BEFORE_FOLD: i64 = 5;

/// The patients as the earlier release stored them: name and email lower-cased only.
/// (full name, email, name_folded, name_sort, email_folded)
const STORED_BEFORE: [(&str, &str, &str, &str, &str); 2] = [
    (
        "Hans Müller",
        "Jürgen.M@Example.de",
        " hans müller",
        " müller hans",
        "jürgen.m@example.de",
    ),
    (
        "Anna Smith",
        "anna@example.org",
        " anna smith",
        " smith anna",
        "anna@example.org",
    ),
];

const ALLERGIES: &str = r#"{"status":"not_recorded","items":[]}"#;

fn doctor(id: Uuid) -> Actor {
    Actor {
        user_id: id,
        role: Role::Doctor,
        request_id: "store-migrations-test".into(),
        client_request_id: None,
        ip: None,
    }
}

/// The database straight in SQL, for what the store does not show.
enum Database {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    async fn texts(&self, sql: &'static str) -> Vec<String> {
        match self {
            Database::Sqlite(pool) => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// What the refold must leave, whatever the engine: the folded forms, the name words built
/// from them, no refold still due, and searches that find the patient however the name is
/// typed, at a word start (name words), inside a word (the trigram index) and in the email.
async fn refolded(store: &dyn Store, database: &Database, doctor: &Actor) {
    assert_eq!(
        database
            .texts("SELECT name_folded FROM patients ORDER BY mrn_seq")
            .await,
        [" hans muller", " anna smith"]
    );
    assert_eq!(
        database
            .texts("SELECT name_sort FROM patients ORDER BY mrn_seq")
            .await,
        [" muller hans", " smith anna"]
    );
    assert_eq!(
        database
            .texts("SELECT email_folded FROM patients ORDER BY mrn_seq")
            .await,
        ["jurgen.m@example.de", "anna@example.org"]
    );
    assert_eq!(
        database
            .texts("SELECT word FROM patient_name_words ORDER BY word")
            .await,
        ["anna", "hans", "muller", "smith"]
    );
    assert!(
        database
            .texts("SELECT key FROM settings WHERE key LIKE 'search%'")
            .await
            .is_empty(),
        "the refold is done"
    );
    for (term, found) in [
        ("muller", vec!["Hans Müller"]),
        ("MÜLLER", vec!["Hans Müller"]),
        ("hans mül", vec!["Hans Müller"]),
        ("uller", vec!["Hans Müller"]),
        ("üll", vec!["Hans Müller"]),
        ("jurgen.m@", vec!["Hans Müller"]),
        ("jürgen", vec!["Hans Müller"]),
        ("anna", vec!["Anna Smith"]),
        ("mith", vec!["Anna Smith"]),
    ] {
        let names: Vec<String> = store
            .search_patients(doctor, term, 10)
            .await
            .expect("search")
            .into_iter()
            .map(|p| p.full_name)
            .collect();
        assert_eq!(names, found, "search {term:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refolds_the_names_stored_before_search_ignored_diacritics() {
    use std::str::FromStr;

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let doctor_id = Uuid::now_v7();
    {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
            .expect("url")
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = sqlx::SqlitePool::connect_with(options)
            .await
            .expect("create the file");
        sqlite::migrator()
            .run_to(SQLITE_BEFORE_FOLD, &pool)
            .await
            .expect("the migrations of the earlier release");
        let at = format_timestamp(now());
        sqlx::query(
            "INSERT INTO users (id, email, full_name, role, password_hash, created_at, updated_at) \
             VALUES ($1, 'doc@clinic.test', 'Dr. Doc', 'doctor', 'not-a-real-hash', $2, $2)",
        )
        .bind(doctor_id.to_string())
        .bind(&at)
        .execute(&pool)
        .await
        .expect("doctor");
        for (n, (name, email, name_folded, name_sort, email_folded)) in
            STORED_BEFORE.iter().enumerate()
        {
            let seq = n as i64 + 1;
            sqlx::query(
                "INSERT INTO patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, \
                 date_of_birth, sex, email, email_folded, allergies, alerts, symptoms, \
                 created_at, updated_at, name_sort) \
                 VALUES ($1, $2, $3, $4, $5, $6, '1970-01-02', 'male', $7, $8, $9, '[]', '[]', $10, $10, $11)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(doctor_id.to_string())
            .bind(seq)
            .bind(format!("MRN-{seq:06}"))
            .bind(name)
            .bind(name_folded)
            .bind(email)
            .bind(email_folded)
            .bind(ALLERGIES)
            .bind(&at)
            .bind(name_sort)
            .execute(&pool)
            .await
            .expect("patient as stored before");
        }
        // What the earlier release's triggers derived: the words as they were folded then.
        let words: Vec<String> =
            sqlx::query_scalar("SELECT word FROM patient_name_words ORDER BY word")
                .fetch_all(&pool)
                .await
                .expect("words");
        assert_eq!(words, ["anna", "hans", "müller", "smith"]);
        pool.close().await;
    }

    let store = SqliteStore::open(&url).await.expect("open and migrate");
    let database = Database::Sqlite(store.pool().clone());
    assert_eq!(
        database
            .texts("SELECT CAST(MAX(version) AS TEXT) FROM _sqlx_migrations")
            .await,
        ["14"]
    );
    refolded(&store, &database, &doctor(doctor_id)).await;
    // Opened again, nothing is due and nothing changes.
    let again = SqliteStore::open(&url).await.expect("open again");
    refolded(&again, &database, &doctor(doctor_id)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refolds_the_names_stored_before_search_ignored_diacritics() {
    let Some(admin_url) = postgres_url() else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped the PostgreSQL migration test: set SYNAPSE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
        );
        return;
    };
    let test_database = TestDatabase::create(&admin_url).await;
    let doctor_id = Uuid::now_v7();
    {
        let pool = sqlx::PgPool::connect(&test_database.url)
            .await
            .expect("connect");
        postgres::migrator()
            .run_to(POSTGRES_BEFORE_FOLD, &pool)
            .await
            .expect("the migrations of the earlier release");
        let at = now();
        sqlx::query(
            "INSERT INTO users (id, email, full_name, role, password_hash, created_at, updated_at) \
             VALUES ($1, 'doc@clinic.test', 'Dr. Doc', 'doctor', 'not-a-real-hash', $2, $2)",
        )
        .bind(doctor_id)
        .bind(at)
        .execute(&pool)
        .await
        .expect("doctor");
        for (n, (name, email, name_folded, name_sort, email_folded)) in
            STORED_BEFORE.iter().enumerate()
        {
            let seq = n as i64 + 1;
            sqlx::query(
                "INSERT INTO patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, \
                 date_of_birth, sex, email, email_folded, allergies, alerts, symptoms, \
                 created_at, updated_at, name_sort) \
                 VALUES ($1, $2, $3, $4, $5, $6, '1970-01-02', 'male', $7, $8, $9::jsonb, '[]', '[]', $10, $10, $11)",
            )
            .bind(Uuid::now_v7())
            .bind(doctor_id)
            .bind(seq)
            .bind(format!("MRN-{seq:06}"))
            .bind(name)
            .bind(name_folded)
            .bind(email)
            .bind(email_folded)
            .bind(ALLERGIES)
            .bind(at)
            .bind(name_sort)
            .execute(&pool)
            .await
            .expect("patient as stored before");
        }
        let words: Vec<String> =
            sqlx::query_scalar("SELECT word FROM patient_name_words ORDER BY word")
                .fetch_all(&pool)
                .await
                .expect("words");
        assert_eq!(words, ["anna", "hans", "müller", "smith"]);
        pool.close().await;
    }

    let store = PgStore::open(&test_database.url)
        .await
        .expect("open and migrate");
    let database = Database::Postgres(store.pool().clone());
    assert_eq!(
        database
            .texts("SELECT MAX(version)::text FROM _sqlx_migrations")
            .await,
        ["12"]
    );
    refolded(&store, &database, &doctor(doctor_id)).await;
    let again = PgStore::open(&test_database.url).await.expect("open again");
    refolded(&again, &database, &doctor(doctor_id)).await;
}
