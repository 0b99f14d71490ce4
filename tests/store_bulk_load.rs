//! A load into an empty database (`synapse seed`) sets indexes (and, on PostgreSQL, foreign
//! keys and derived-data triggers) aside and restores them; a load interrupted before that is
//! restored by the next start. Runs on a SQLite file, and on PostgreSQL when
//! `SYNAPSE_TEST_POSTGRES_URL` is set (else it says it skipped that half).

mod common;

use std::io::Write as _;

use common::{TestDatabase, postgres_url};
use synapse::model::admin::NewUser;
use synapse::model::auth::Role;
use synapse::model::time::now;
use synapse::store::Store;
use synapse::store::postgres::PgStore;
use synapse::store::sqlite::SqliteStore;
use synapse::store::synth::{self, SynthPlan};
use uuid::Uuid;

/// What must come back: every index, constraint and trigger, by name and definition (and on
/// PostgreSQL, whether the trigger is enabled).
const SQLITE_SCHEMA: &str = "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') \
     FROM sqlite_schema WHERE type IN ('index', 'trigger') ORDER BY 1";
const POSTGRES_SCHEMA: &str = "SELECT indexname || ': ' || indexdef FROM pg_indexes \
     WHERE schemaname = current_schema() \
     UNION ALL SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
     WHERE connamespace = current_schema()::regnamespace \
     UNION ALL SELECT tgname || ': ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal \
     ORDER BY 1";

/// Derived data checked against the rows: name words, patient and report tallies. Each query
/// gives the number of disagreements.
const DERIVED_DATA_CHECKS: [&str; 3] = [
    "SELECT COUNT(*) FROM patients p WHERE (SELECT COUNT(*) FROM patient_name_words w \
     WHERE w.patient_id = p.id) = 0",
    "SELECT COUNT(*) FROM (SELECT doctor_id, COUNT(*) AS n FROM patients GROUP BY doctor_id) c \
     LEFT JOIN patient_tallies t ON t.doctor_id = c.doctor_id \
     WHERE t.patients IS NULL OR t.patients <> c.n",
    "SELECT CAST((SELECT COUNT(*) FROM reports) \
     - (SELECT COALESCE(SUM(reports), 0) FROM report_tallies) AS BIGINT)",
];

async fn doctors(store: &dyn Store) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for n in 0..2 {
        let user = NewUser {
            email: format!("doctor-{n}@clinic.test"),
            full_name: "Test Doctor".into(),
            role: Role::Doctor,
            password: String::new(),
        };
        ids.push(
            store
                .create_user(None, &user, "not-a-real-hash")
                .await
                .expect("doctor")
                .id,
        );
    }
    ids
}

async fn insert_patients(store: &dyn Store, doctors: &[Uuid], seed: u64, first_mrn_seq: i64) {
    let plan = SynthPlan {
        seed,
        doctors: doctors.len(),
        patients_per_doctor: 150,
        now: now(),
        first_mrn_seq,
    };
    let patients: Vec<_> = synth::patients(&plan).collect();
    store
        .insert_synthetic(doctors, &patients)
        .await
        .expect("synthetic patients");
}

/// The database behind the store under test, read straight in SQL.
enum Database {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Database {
    async fn texts(&self, sql: &'static str) -> Vec<String> {
        match self {
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .expect(sql)
    }

    async fn number(&self, sql: &'static str) -> i64 {
        match self {
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect(sql)
    }

    /// Every index and constraint (and trigger), by name and definition.
    async fn schema(&self) -> Vec<String> {
        match self {
            Database::Sqlite(_) => self.texts(SQLITE_SCHEMA).await,
            Database::Postgres(_) => self.texts(POSTGRES_SCHEMA).await,
        }
    }

    /// How many rows of each derived data set disagree with the rows they derive from.
    async fn disagreements(&self) -> Vec<i64> {
        let mut found = Vec::new();
        for check in DERIVED_DATA_CHECKS {
            found.push(self.number(check).await);
        }
        found
    }
}

async fn interrupted_load_is_restored_at_the_next_start(
    store: &dyn Store,
    database: &Database,
    reopen: impl AsyncFnOnce() -> Box<dyn Store>,
) {
    let fresh = database.schema().await;
    let doctors = doctors(store).await;

    assert!(
        store.prepare_bulk_load().await.expect("prepare"),
        "an empty database sets its indexes aside"
    );
    let during = database.schema().await;
    assert!(
        during.len() < fresh.len(),
        "nothing was set aside: {during:#?}"
    );
    insert_patients(store, &doctors, 7, 1).await;

    // The load stops here, without finishing: the next start restores what it set aside.
    let reopened = reopen().await;
    assert_eq!(database.schema().await, fresh, "not restored at start");
    assert_eq!(database.disagreements().await, [0, 0, 0]);
    assert_eq!(
        reopened.finish_bulk_load().await.expect("finish"),
        0,
        "nothing is left to restore"
    );

    // A second load finds patients: it sets nothing aside, and its rows keep the derived data.
    assert!(!reopened.prepare_bulk_load().await.expect("prepare again"));
    assert_eq!(database.schema().await, fresh);
    insert_patients(reopened.as_ref(), &doctors, 8, 301).await;
    assert_eq!(database.disagreements().await, [0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_load_sets_indexes_aside_and_an_interrupted_one_is_restored_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    common::served::install_test_keys();
    // As `synapse seed` opens it: one connection. On a pool of several, the insert right after
    // the indexes were dropped on another connection failed about one time in six with "no such
    // table: patients" (seed met the same, and loads on one connection since).
    let store = SqliteStore::open_for_bulk_load(&url).await.expect("open");
    let database = Database::Sqlite(store.pool().clone());
    let reopen = async || -> Box<dyn Store> {
        let store: Box<dyn Store> = Box::new(SqliteStore::open(&url).await.expect("reopen"));
        store
    };
    interrupted_load_is_restored_at_the_next_start(&store, &database, reopen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_load_sets_indexes_keys_and_triggers_aside_and_an_interrupted_one_is_restored_at_start()
 {
    let Some(admin_url) = postgres_url() else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped the PostgreSQL bulk load test: set SYNAPSE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
        );
        return;
    };
    let test_database = TestDatabase::create(&admin_url).await;
    let store = PgStore::open(&test_database.url).await.expect("open");
    let database = Database::Postgres(store.pool().clone());
    let reopen = async || -> Box<dyn Store> {
        let store: Box<dyn Store> =
            Box::new(PgStore::open(&test_database.url).await.expect("reopen"));
        store
    };
    interrupted_load_is_restored_at_the_next_start(&store, &database, reopen).await;
}
