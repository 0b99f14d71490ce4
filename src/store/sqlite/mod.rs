//! The embedded engine: one SQLite file in WAL mode with foreign keys on, and beside it the
//! audit log file (`audit_log`). Reads run concurrently on connections of their own
//! (`reader`); every write runs in a `BEGIN IMMEDIATE` transaction, one at a time (`write_tx`),
//! so writers queue in the process instead of failing when a read snapshot would have to be
//! upgraded.

mod audit_log;
mod bulk;
mod bulk_load;
mod conn;
mod reader;
mod substring;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqliteConnection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use super::audit_queue::{AuditQueue, audit_row};
use super::*;

use crate::store::patients;

/// The embedded migrations, in order: version, description, SQL.
const MIGRATIONS: [(i64, &str, &str); 6] = [
    (
        1,
        "schema",
        include_str!("../../../migrations/sqlite/0001_schema.sql"),
    ),
    (
        2,
        "report stats index",
        include_str!("../../../migrations/sqlite/0002_report_stats_index.sql"),
    ),
    (
        3,
        "patient name words",
        include_str!("../../../migrations/sqlite/0003_patient_name_words.sql"),
    ),
    (
        4,
        "tallies",
        include_str!("../../../migrations/sqlite/0004_tallies.sql"),
    ),
    (
        5,
        "patient trigrams",
        include_str!("../../../migrations/sqlite/0005_patient_trigrams.sql"),
    ),
    (
        6,
        "search covering indexes",
        include_str!("../../../migrations/sqlite/0006_search_covering_indexes.sql"),
    ),
];

#[derive(Clone)]
pub struct SqliteStore {
    /// Writes, migrations and the audit trail.
    pool: SqlitePool,
    /// Reads (`reader`).
    readers: Arc<reader::Readers>,
    /// One writer at a time, queued here rather than in SQLite: SQLite's busy handler sleeps
    /// in growing steps while the write lock is taken, which under load turns a wait of
    /// microseconds into tens of milliseconds.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The audit rows of reads, refusals and sign-ins, stored in shared transactions in the
    /// audit log file (`audit_log`).
    audit: AuditQueue,
    /// From how many prefix candidates a search reads in last-visit order (see `patients`).
    dense_prefix_candidates: i64,
    /// The audit log file beside the data file.
    audit_log_path: Arc<std::path::Path>,
}

/// Connections for reads: enough that a read waiting on the disk leaves others running.
const READ_CONNECTIONS: usize = 8;

/// A write transaction holding the writer's turn until it commits or rolls back.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> StoreResult<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:///path/file.db`) and brings
    /// its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<SqliteStore> {
        Self::open_with(url, false).await
    }

    /// Opens the database for loading a large data set (`synapse seed`): the page cache is
    /// larger, and the WAL is checkpointed rarely and without waiting for the disk, trading
    /// durability of a crashed load (which is simply run again) for speed.
    pub async fn open_for_bulk_load(url: &str) -> anyhow::Result<SqliteStore> {
        Self::open_with(url, true).await
    }

    async fn open_with(url: &str, bulk: bool) -> anyhow::Result<SqliteStore> {
        let mut options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            // NORMAL in WAL mode survives process crashes; only a power loss can roll back the
            // last commits, and never corrupts the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        if bulk {
            options = options
                .synchronous(SqliteSynchronous::Off)
                .pragma("cache_size", "-262144")
                .pragma("wal_autocheckpoint", "100000");
        }
        // A load runs on one connection: it has one writer anyway, and with several, about
        // one seed in ten had a connection fail with "no such table: patients" on its first
        // insert right after another connection set the indexes aside (`bulk_load`).
        let pool = SqlitePoolOptions::new()
            .max_connections(if bulk { 1 } else { 8 })
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        migrator().run(&pool).await?;
        let audit_log_path = audit_log::path_for(options.get_filename());
        let audit_log = audit_log::open(&audit_log_path).await?;
        let pairing = audit_log::pair(&pool, &audit_log).await?;
        audit_log::warn_unless_paired(pairing, &audit_log_path);
        let readers = Arc::new(reader::Readers::open(
            options.get_filename(),
            (&audit_log_path, audit_log::SCHEMA),
            READ_CONNECTIONS,
        )?);
        let writer = Arc::new(tokio::sync::Mutex::new(()));
        let audit = AuditQueue::start(audit_log::AuditLogSink { pool: audit_log });
        let store = SqliteStore {
            pool,
            readers,
            writer,
            audit,
            dense_prefix_candidates: patients::DENSE_PREFIX_CANDIDATES,
            audit_log_path: audit_log_path.into(),
        };
        let built = bulk_load::finish(&store).await?;
        if built > 0 {
            tracing::info!(
                indexes = built,
                "built the indexes an interrupted load set aside"
            );
        }
        Ok(store)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The audit log file (`audit_log`): the audit rows of reads, refusals and sign-ins.
    pub fn audit_log_path(&self) -> &std::path::Path {
        &self.audit_log_path
    }

    /// Sets from how many prefix candidates a search reads patients in last-visit order
    /// rather than ranking every candidate. Both ways give the same answer; tests set 1 to
    /// check that on small data.
    pub fn set_dense_prefix_candidates(&mut self, candidates: i64) {
        self.dense_prefix_candidates = candidates.max(1);
    }

    async fn write_tx(&self) -> StoreResult<WriteTx> {
        let turn = self.writer.clone().lock_owned().await;
        Ok(WriteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _turn: turn,
        })
    }
}

impl crate::store::engine::Engine for SqliteStore {
    type Tx = WriteTx;
    type Reader = conn::ReadConnection;

    fn dialect(&self) -> crate::store::sql::Dialect {
        crate::store::sql::Dialect::Sqlite
    }

    fn write_tx(&self) -> impl std::future::Future<Output = StoreResult<WriteTx>> + Send {
        SqliteStore::write_tx(self)
    }

    fn read<T: Send + 'static>(
        &self,
        read: impl crate::store::engine::ReadFn<conn::ReadConnection, T>,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send {
        self.readers.run(read)
    }

    fn audit_queue(&self) -> &AuditQueue {
        &self.audit
    }

    fn dense_prefix_candidates(&self) -> u64 {
        self.dense_prefix_candidates.max(1) as u64
    }

    fn patient_substrings<'c>(
        conn: &'c mut conn::ReadConnection,
        search: &'c patients::Search,
        rest: u32,
    ) -> impl std::future::Future<Output = StoreResult<Vec<PatientSummary>>> + Send + 'c {
        substring::substring_matches(conn, search, rest)
    }
}

/// The embedded migrations of the SQLite engine.
fn migrator() -> Migrator {
    Migrator {
        migrations: embedded_migrations(&MIGRATIONS),
        ..Migrator::DEFAULT
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        crate::store::settings::ping(self).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        crate::store::auth::user_by_email(self, email).await
    }
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        crate::store::auth::user_by_id(self, id).await
    }
    async fn create_user(
        &self,
        actor: Option<&Actor>,
        user: &NewUser,
        password_hash: &str,
    ) -> StoreResult<AdminUser> {
        crate::store::admin::create_user(self, actor, user, password_hash).await
    }
    async fn record_login_failure(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        policy: LockoutPolicy,
    ) -> StoreResult<LoginFailure> {
        crate::store::auth::record_login_failure(self, ctx, user_id, policy).await
    }
    async fn open_session(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        refresh: &NewRefreshToken,
    ) -> StoreResult<Uuid> {
        crate::store::auth::open_session(self, ctx, user_id, refresh).await
    }
    async fn rotate_refresh_token(
        &self,
        ctx: &RequestContext,
        presented_hash: &str,
        next: &NewRefreshToken,
    ) -> StoreResult<RefreshOutcome> {
        crate::store::auth::rotate_refresh_token(self, ctx, presented_hash, next).await
    }
    async fn session_state(&self, session_id: Uuid, user_id: Uuid) -> StoreResult<SessionState> {
        crate::store::auth::session_state(self, session_id, user_id).await
    }
    async fn session_of_refresh_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(Uuid, Uuid)>> {
        crate::store::auth::session_of_refresh_token(self, token_hash).await
    }
    async fn revoke_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
        reason: &str,
    ) -> StoreResult<()> {
        crate::store::auth::revoke_session(self, actor, session_id, reason).await
    }
    async fn change_password(
        &self,
        actor: &Actor,
        keep_session: Uuid,
        password_hash: &str,
    ) -> StoreResult<()> {
        crate::store::auth::change_password(self, actor, keep_session, password_hash).await
    }
    async fn audit(&self, ctx: &RequestContext, entry: AuditEntry<'_>) -> StoreResult<()> {
        self.audit
            .record(audit_row(&ctx.request_id, ctx.ip.as_deref(), &entry))
            .await
    }

    async fn list_users(
        &self,
        actor: &Actor,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AdminUser>> {
        crate::store::admin::list_users(self, actor, limit, offset).await
    }
    async fn unlock_user(&self, actor: &Actor, user_id: Uuid) -> StoreResult<AdminUser> {
        crate::store::admin::unlock_user(self, actor, user_id).await
    }
    async fn disable_user(&self, actor: &Actor, user_id: Uuid) -> StoreResult<AdminUser> {
        crate::store::admin::disable_user(self, actor, user_id).await
    }
    async fn query_audit(
        &self,
        actor: &Actor,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditEvent>> {
        crate::store::admin::query_audit(self, actor, query).await
    }

    async fn list_patients(
        &self,
        actor: &Actor,
        query: &PatientListQuery,
    ) -> StoreResult<Page<PatientSummary>> {
        patients::list(self, actor, query).await
    }
    async fn search_patients(
        &self,
        actor: &Actor,
        term: &str,
        limit: u32,
    ) -> StoreResult<Vec<PatientSummary>> {
        patients::search(self, actor, term, limit).await
    }
    async fn get_patient(&self, actor: &Actor, id: Uuid) -> StoreResult<Patient> {
        patients::get(self, actor, id).await
    }
    async fn create_patient(
        &self,
        actor: &Actor,
        doctor_id: Uuid,
        patient: &NewPatient,
    ) -> StoreResult<Patient> {
        patients::create(self, actor, doctor_id, patient).await
    }
    async fn update_patient(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &PatientUpdate,
    ) -> StoreResult<Patient> {
        patients::update(self, actor, id, update).await
    }

    async fn start_consultation(
        &self,
        actor: &Actor,
        start: &StartConsultation,
    ) -> StoreResult<Consultation> {
        crate::store::consultations::start(self, actor, start).await
    }
    async fn active_consultations(&self, actor: &Actor) -> StoreResult<Vec<Consultation>> {
        crate::store::consultations::active(self, actor).await
    }
    async fn get_consultation(&self, actor: &Actor, id: Uuid) -> StoreResult<Consultation> {
        crate::store::consultations::get(self, actor, id).await
    }
    async fn update_notes(
        &self,
        actor: &Actor,
        id: Uuid,
        notes: &str,
    ) -> StoreResult<Consultation> {
        crate::store::consultations::update_notes(self, actor, id, notes).await
    }
    async fn stop_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        notes: Option<&str>,
    ) -> StoreResult<Consultation> {
        crate::store::consultations::stop(self, actor, id, notes).await
    }
    async fn cancel_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        reason: &str,
    ) -> StoreResult<Consultation> {
        crate::store::consultations::cancel(self, actor, id, reason).await
    }
    async fn consultation_history(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        limit: u32,
        offset: u64,
    ) -> StoreResult<ConsultationHistory> {
        crate::store::consultations::history(self, actor, patient_id, limit, offset).await
    }

    async fn list_reports(
        &self,
        actor: &Actor,
        query: &ReportListQuery,
    ) -> StoreResult<ReportPage> {
        crate::store::reports::list(self, actor, query).await
    }
    async fn report_stats(
        &self,
        actor: &Actor,
        patient_id: Option<Uuid>,
        days: u32,
    ) -> StoreResult<ReportStats> {
        crate::store::reports::stats(self, actor, patient_id, days).await
    }
    async fn get_report(&self, actor: &Actor, id: Uuid) -> StoreResult<Report> {
        crate::store::reports::get(self, actor, id).await
    }
    async fn edit_report(
        &self,
        actor: &Actor,
        id: Uuid,
        content: &ReportContent,
        version: u32,
    ) -> StoreResult<Report> {
        crate::store::reports::edit(self, actor, id, content, version).await
    }
    async fn sign_report(&self, actor: &Actor, id: Uuid) -> StoreResult<Report> {
        crate::store::reports::sign(self, actor, id).await
    }
    async fn add_addendum(&self, actor: &Actor, id: Uuid, text: &str) -> StoreResult<Report> {
        crate::store::reports::add_addendum(self, actor, id, text).await
    }

    async fn queued_reports(&self) -> StoreResult<Vec<Uuid>> {
        crate::store::reports::queued(self).await
    }
    async fn claim_generation(&self, report_id: Uuid) -> StoreResult<Option<GenerationJob>> {
        crate::store::reports::claim_generation(self, report_id).await
    }
    async fn finish_generation(
        &self,
        report_id: Uuid,
        result: Result<(&ReportContent, f64, &str), &str>,
    ) -> StoreResult<()> {
        crate::store::reports::finish_generation(self, report_id, result).await
    }

    async fn insert_synthetic(
        &self,
        doctor_ids: &[Uuid],
        patients: &[synth::SynthPatient],
    ) -> StoreResult<()> {
        bulk::insert_synthetic(self, doctor_ids, patients).await
    }
    async fn prepare_bulk_load(&self) -> StoreResult<bool> {
        bulk_load::prepare(self).await
    }
    async fn finish_bulk_load(&self) -> StoreResult<usize> {
        let built = bulk_load::finish(self).await?;
        // A load checkpoints rarely (`open_for_bulk_load`), so the loaded rows are still in
        // the WAL; servers would read every page through the WAL's index until a checkpoint
        // they might never complete while reads keep coming. Moved into the file now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(built)
    }
    async fn next_mrn_seq(&self) -> StoreResult<i64> {
        crate::store::settings::next_mrn_seq(self).await
    }
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        crate::store::settings::setting(self, key).await
    }
    async fn claim_setting(&self, key: &str, value: &str) -> StoreResult<bool> {
        crate::store::settings::claim_setting(self, key, value).await
    }
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        crate::store::settings::set_setting(self, key, value).await
    }
}
