//! The server engine: PostgreSQL, for one or many `synapse serve` instances on one database.
//!
//! It behaves exactly like the SQLite engine (same answers, same order, same cursors); what
//! differs is how the database is asked. Reads run concurrently on the pool at READ COMMITTED.
//! A write runs in one transaction with its audit row and first locks the rows it decides on
//! (`SELECT … FOR NO KEY UPDATE`), so concurrent writers queue on that row and then see the
//! committed state: of eight simultaneous starts for one patient, one starts and seven find it
//! running; of two edits of version 1, one saves and one gets the version conflict. Everything
//! another instance needs (sessions, refresh tokens, lockout counters) lives in the database.
//! Search uses B-tree prefix ranges in `COLLATE "C"` and pg_trgm indexes (see `patients`).

mod bulk;
mod bulk_load;
mod conn;
mod listen;
mod reachability;
mod substring;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgConnection;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use uuid::Uuid;

use super::audit_queue::{AuditQueue, AuditRow, AuditSink};
use super::events::EventSignal;
use super::*;
use crate::store::patients;
use reachability::Reachability;

/// The embedded migrations, in order: version, description, SQL.
const MIGRATIONS: [(i64, &str, &str); 13] = [
    (
        1,
        "schema",
        include_str!("../../../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        "tallies",
        include_str!("../../../migrations/postgres/0002_tallies.sql"),
    ),
    (
        3,
        "search indexes",
        include_str!("../../../migrations/postgres/0003_search_indexes.sql"),
    ),
    (
        4,
        "derived data rebuild",
        include_str!("../../../migrations/postgres/0004_derived_data_rebuild.sql"),
    ),
    (
        5,
        "patient name sort",
        include_str!("../../../migrations/postgres/0005_patient_name_sort.sql"),
    ),
    (
        6,
        "search fold",
        include_str!("../../../migrations/postgres/0006_search_fold.sql"),
    ),
    (
        7,
        "events",
        include_str!("../../../migrations/postgres/0007_events.sql"),
    ),
    (
        8,
        "login locks",
        include_str!("../../../migrations/postgres/0008_login_locks.sql"),
    ),
    (
        9,
        "audit client request id",
        include_str!("../../../migrations/postgres/0009_audit_client_request_id.sql"),
    ),
    (
        10,
        "audit chain",
        include_str!("../../../migrations/postgres/0010_audit_chain.sql"),
    ),
    (
        11,
        "session activity",
        include_str!("../../../migrations/postgres/0011_session_activity.sql"),
    ),
    (
        12,
        "second factor",
        include_str!("../../../migrations/postgres/0012_mfa.sql"),
    ),
    (
        13,
        "field encryption",
        include_str!("../../../migrations/postgres/0013_field_encryption.sql"),
    ),
];

/// The SQL of the list and search statements, built exactly as the engine runs them, so tests
/// can check their plans with `EXPLAIN` (every one must use an index under a generic plan).
pub mod statements {
    pub use super::substring::{
        SearchStatements, list_statements as patient_list, search_statements as patient_search,
    };
    pub use crate::store::consultations::history_statements as consultation_history;
    pub use crate::store::reports::{
        list_statements as report_list, stats_statements as report_stats,
    };
    pub use crate::store::sql::{Statement, Value};
}

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The audit rows of reads, stored in shared transactions (one WAL flush per batch).
    audit: AuditQueue,
    /// The names of the patients' doctors (`doctor_names`).
    doctor_names: crate::store::doctor_names::DoctorNames,
    /// From how many prefix candidates a search reads in last-visit order (see `patients`).
    dense_prefix_candidates: u64,
    /// Wakes the server's event reader; fed by the listener (`listen`), started on first use.
    events: EventSignal,
    listening: Arc<AtomicBool>,
    /// Answers 503 within a second when the database is down (`reachability`).
    reachability: Arc<Reachability>,
}

/// Stores a batch of audit rows and their links (`audit_chain`) in one transaction of four
/// round trips, the fewest the chain allows: the transaction begun with the chain's lock in
/// one simple query; the head read under that lock (it must be read after the lock is held,
/// so not in the same statement, whose snapshot would be taken first); rows and links in one
/// statement, the columns as arrays that `UNNEST` turns back into rows, so the statement is the
/// same whatever the batch size; the commit. Every read waits for its row, so each round trip
/// saved here is saved on a lone read's latency (docs/PERFORMANCE.md).
struct PgAuditSink {
    pool: PgPool,
    reachability: Arc<Reachability>,
}

#[async_trait]
impl AuditSink for PgAuditSink {
    async fn write_batch(&self, batch: &[AuditRow]) -> StoreResult<()> {
        use crate::store::audit_chain::{self, CHAIN_LOCK};
        let column =
            |get: fn(&AuditRow) -> Option<String>| batch.iter().map(get).collect::<Vec<_>>();
        // The key is a constant of ours: nothing from outside is written into this text.
        let begin = format!("BEGIN; SELECT pg_advisory_xact_lock({CHAIN_LOCK})");
        let mut tx = self
            .reachability
            .connection(self.pool.begin_with(sqlx::AssertSqlSafe(begin)))
            .await?;
        let head = audit_chain::head(&mut *tx, "audit_chain").await?;
        let (links, _) = audit_chain::next_links(head, batch);
        sqlx::query(
            "WITH stored AS (INSERT INTO audit_events (id, at, user_id, action, resource_type, \
             resource_id, patient_id, outcome, request_id, ip, client_request_id) \
             SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], \
             $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::text[], $11::text[])) \
             INSERT INTO audit_chain (seq, event_id, hash) \
             SELECT * FROM UNNEST($12::bigint[], $13::uuid[], $14::text[])",
        )
        .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(batch.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(batch.iter().map(|r| r.user_id).collect::<Vec<_>>())
        .bind(column(|r| Some(r.action.clone())))
        .bind(column(|r| r.resource_type.clone()))
        .bind(column(|r| r.resource_id.clone()))
        .bind(batch.iter().map(|r| r.patient_id).collect::<Vec<_>>())
        .bind(column(|r| Some(r.outcome.clone())))
        .bind(column(|r| Some(r.request_id.clone())))
        .bind(column(|r| r.ip.clone()))
        .bind(column(|r| r.client_request_id.clone()))
        .bind(links.iter().map(|(seq, _, _)| *seq).collect::<Vec<_>>())
        .bind(links.iter().map(|(_, id, _)| *id).collect::<Vec<_>>())
        .bind(links.iter().map(|(_, _, hash)| hash.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/database`) and brings the schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<PgStore> {
        let options = PgConnectOptions::from_str(url)?.application_name("synapse");
        let reachability = Arc::new(Reachability::new(options.clone()));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            // A request waits this long for a connection before the server answers 503.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        let built = bulk_load::finish(&pool).await?;
        if built > 0 {
            tracing::info!(
                indexes = built,
                "built the indexes an interrupted load set aside"
            );
        }
        let mut tx = pool.begin().await?;
        let chained = crate::store::audit_chain::chain_if_due(
            &mut *tx,
            &crate::store::audit_chain::DUE_IN_SETTINGS,
            "audit_events",
            "audit_chain",
        )
        .await?;
        tx.commit().await?;
        if chained > 0 {
            tracing::info!(
                rows = chained,
                "linked the earlier audit rows into the audit chain"
            );
        }
        let audit = AuditQueue::start(PgAuditSink {
            pool: pool.clone(),
            reachability: reachability.clone(),
        });
        let store = PgStore {
            pool,
            audit,
            doctor_names: Default::default(),
            dense_prefix_candidates: patients::DENSE_PREFIX_CANDIDATES as u64,
            events: EventSignal::default(),
            listening: Arc::new(AtomicBool::new(false)),
            reachability,
        };
        log_refold(refold::run_if_due(&store).await?);
        log_reseal(super::reseal::run_if_due(&store).await?);
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Lowers from how many prefix candidates a search reads patients in last-visit order
    /// rather than ranking every candidate. Both ways give the same answer; tests set 1 to
    /// check that on small data.
    pub fn set_dense_prefix_candidates(&mut self, candidates: u64) {
        self.dense_prefix_candidates = candidates.max(1);
    }

    async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.reachability.connection(self.pool.begin()).await
    }
}

impl crate::store::engine::Engine for PgStore {
    type Tx = conn::PgTx;
    type Reader = PgConnection;

    fn dialect(&self) -> crate::store::sql::Dialect {
        crate::store::sql::Dialect::Postgres
    }

    async fn write_tx(&self) -> StoreResult<conn::PgTx> {
        Ok(conn::PgTx(
            self.reachability.connection(self.pool.begin()).await?,
        ))
    }

    async fn read<T: Send + 'static>(
        &self,
        read: impl crate::store::engine::ReadFn<PgConnection, T>,
    ) -> StoreResult<T> {
        let mut connection = self.reachability.connection(self.pool.acquire()).await?;
        read(&mut connection).await
    }

    fn audit_queue(&self) -> &AuditQueue {
        &self.audit
    }

    fn data_file_name(&self) -> String {
        let options = self.pool.connect_options();
        format!(
            "the PostgreSQL database {} on {}:{} as {}",
            options.get_database().unwrap_or("(default)"),
            options.get_host(),
            options.get_port(),
            options.get_username()
        )
    }

    async fn check_writable(&self) -> StoreResult<()> {
        // The audit trail is in the same database: `settings::writable` has tried it.
        Ok(())
    }

    fn write_pool(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    fn doctor_names(&self) -> &crate::store::doctor_names::DoctorNames {
        &self.doctor_names
    }

    fn event_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        // Only a server listens (not `seed` or the scripting tools), so on first use.
        let signal = self.events.subscribe();
        if !self.listening.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen::listen_for_events(
                self.pool.clone(),
                self.events.clone(),
            ));
        }
        signal
    }

    async fn bulk_insert(
        &self,
        doctor_ids: &[Uuid],
        patients: &[synth::SynthPatient],
    ) -> StoreResult<()> {
        bulk::insert_synthetic(self, doctor_ids, patients).await
    }

    async fn bulk_prepare(&self) -> StoreResult<bool> {
        bulk_load::prepare(&self.pool).await
    }

    async fn bulk_finish(&self) -> StoreResult<usize> {
        bulk_load::finish(&self.pool).await
    }

    fn dense_prefix_candidates(&self) -> u64 {
        self.dense_prefix_candidates
    }

    fn patient_substrings<'c>(
        conn: &'c mut PgConnection,
        search: &'c patients::Search,
        rest: u32,
    ) -> impl std::future::Future<Output = StoreResult<Vec<PatientSummary>>> + Send + 'c {
        substring::substring_matches(conn, search, rest)
    }
}

/// The embedded migrations of the PostgreSQL engine.
pub fn migrator() -> Migrator {
    Migrator {
        migrations: embedded_migrations(&MIGRATIONS),
        // The migrator holds a PostgreSQL advisory lock (keyed by the database name) from
        // before it creates its bookkeeping table until it is done, so instances starting at
        // once take turns: the first applies the schema, the others find it applied.
        locking: true,
        ..Migrator::DEFAULT
    }
}

/// Applies the pending migrations under the migrator's advisory lock. When every migration is
/// applied already (the same versions, the same checksums) the migrator is not run: it starts
/// with `CREATE TABLE IF NOT EXISTS _sqlx_migrations`, which PostgreSQL refuses to a role
/// without CREATE on the schema even when the table exists, and a server may run as a role
/// that cannot change the schema (docs/SECURITY.md) once the owner has migrated.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    if all_applied(pool).await {
        return Ok(());
    }
    migrator().run(pool).await
}

/// Whether the database's migrations are exactly this release's (else the migrator runs, and
/// applies what is missing or reports what differs).
async fn all_applied(pool: &PgPool) -> bool {
    let applied: Result<Vec<(i64, Vec<u8>)>, _> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await;
    let Ok(applied) = applied else {
        return false;
    };
    let migrator = migrator();
    applied.len() == migrator.migrations.len()
        && migrator.migrations.iter().all(|migration| {
            applied.iter().any(|(version, checksum)| {
                *version == migration.version && checksum[..] == migration.checksum[..]
            })
        })
}
