//! The embedded engine: one SQLite file in WAL mode with foreign keys on, and beside it the
//! audit log file (`audit_log`). Reads run concurrently on connections of their own
//! (`reader`); every write runs in a `BEGIN IMMEDIATE` transaction, one at a time (`write_tx`),
//! so writers queue in the process instead of failing when a read snapshot would have to be
//! upgraded.

mod audit_checkpoint;
mod audit_log;
mod audit_reserve;
mod bulk;
mod bulk_load;
mod conn;
mod reader;
mod substring;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqliteConnection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use super::audit_queue::AuditQueue;
use super::events::EventSignal;
use super::*;

use crate::store::patients;

/// The embedded migrations, in order: version, description, SQL.
const MIGRATIONS: [(i64, &str, &str); 15] = [
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
    (
        7,
        "patient name sort",
        include_str!("../../../migrations/sqlite/0007_patient_name_sort.sql"),
    ),
    (
        8,
        "search fold",
        include_str!("../../../migrations/sqlite/0008_search_fold.sql"),
    ),
    (
        9,
        "events",
        include_str!("../../../migrations/sqlite/0009_events.sql"),
    ),
    (
        10,
        "login locks",
        include_str!("../../../migrations/sqlite/0010_login_locks.sql"),
    ),
    (
        11,
        "audit client request id",
        include_str!("../../../migrations/sqlite/0011_audit_client_request_id.sql"),
    ),
    (
        12,
        "session activity",
        include_str!("../../../migrations/sqlite/0012_session_activity.sql"),
    ),
    (
        13,
        "audit chain",
        include_str!("../../../migrations/sqlite/0013_audit_chain.sql"),
    ),
    (
        14,
        "second factor",
        include_str!("../../../migrations/sqlite/0014_mfa.sql"),
    ),
    (
        15,
        "field encryption",
        include_str!("../../../migrations/sqlite/0015_field_encryption.sql"),
    ),
];

/// Creates the database file at `path` readable and writable by its owner only (0600) when it
/// does not exist yet. SQLite gives a database's `-wal` and `-shm` files the mode of the
/// database file, so they are private too. A file that exists keeps the mode it has: its
/// operator chose it.
pub(super) fn create_private(path: &std::path::Path) -> anyhow::Result<()> {
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Ok(());
    }
    match crate::private_file::options().create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context(format!(
            "cannot create the database file {}: choose a directory the server can write to",
            path.display()
        ))),
    }
}

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
    /// The names of the patients' doctors (`doctor_names`).
    doctor_names: crate::store::doctor_names::DoctorNames,
    /// From how many prefix candidates a search reads in last-visit order (see `patients`).
    dense_prefix_candidates: i64,
    /// The audit log file beside the data file.
    audit_log_path: Arc<std::path::Path>,
    /// The audit log file's pool, shared with the audit queue's sink, for `check_writable`.
    audit_log: SqlitePool,
    /// Wakes the server's event reader after a commit that wrote events: every writer is in
    /// this process.
    events: EventSignal,
    /// Disk space held back for the audit rows of reads when the disk fills (`audit_reserve`).
    reserve: Arc<audit_reserve::AuditReserve>,
}

/// Connections for reads: enough that a read waiting on the disk leaves others running.
const READ_CONNECTIONS: usize = 8;

/// Whether a connection coming back to the pool is out of its transaction, so it may serve
/// the next one. A COMMIT that fails for want of disk space (SQLITE_FULL) leaves sqlx
/// counting a transaction SQLite has already rolled back: the ROLLBACK sent when the
/// transaction is dropped fails in turn, and every later `BEGIN` on that connection would be
/// refused ("non-zero transaction depth") until a restart. The ping waits for that queued
/// ROLLBACK to run; a connection still in a transaction after it is closed, not reused.
pub(super) async fn released_cleanly(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<bool> {
    use sqlx::Connection;

    if conn.is_in_transaction() {
        let _ = conn.ping().await;
    }
    Ok(!conn.is_in_transaction())
}

/// A write transaction holding the writer's turn until it commits or rolls back.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
    events: EventSignal,
    /// Set by `store::events::record`: the commit then wakes the event reader.
    wrote_events: bool,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        if self.wrote_events {
            self.events.notify();
        }
        Ok(())
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

    /// Opens the database at `url` only if its file exists, for the commands that administer a
    /// database rather than start one (`synapse admin`): a mistyped path is an error that says
    /// so, not a new empty database.
    pub async fn open_existing(url: &str) -> anyhow::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?;
        let path = options.get_filename();
        if !path.exists() {
            anyhow::bail!(
                "there is no database at {}: `synapse serve` creates it on its first start; \
                 otherwise check --database, SYNAPSE_DATABASE_URL and the config file",
                path.display()
            );
        }
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
        create_private(options.get_filename())?;
        // A load runs on one connection: it has one writer anyway, and with several, about
        // one seed in ten had a connection fail with "no such table: patients" on its first
        // insert right after another connection set the indexes aside (`bulk_load`).
        let pool = SqlitePoolOptions::new()
            .max_connections(if bulk { 1 } else { 8 })
            .min_connections(1)
            .after_release(|conn, _| Box::pin(released_cleanly(conn)))
            .connect_with(options.clone())
            .await?;
        migrator().run(&pool).await?;
        chain_unchained(&pool).await?;
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
        let reserve = Arc::new(audit_reserve::AuditReserve::new(audit_reserve::path_for(
            options.get_filename(),
        )));
        let audit = AuditQueue::start(audit_log::AuditLogSink {
            pool: audit_log.clone(),
            reserve: reserve.clone(),
            checkpoints: audit_checkpoint::AuditCheckpoints::new(&audit_log_path),
        });
        let store = SqliteStore {
            pool,
            readers,
            writer,
            audit,
            doctor_names: Default::default(),
            dense_prefix_candidates: patients::DENSE_PREFIX_CANDIDATES,
            audit_log_path: audit_log_path.into(),
            audit_log,
            events: EventSignal::default(),
            reserve,
        };
        let built = bulk_load::finish(&store).await?;
        if built > 0 {
            tracing::info!(
                indexes = built,
                "built the indexes an interrupted load set aside"
            );
        }
        log_refold(refold::run_if_due(&store).await?);
        let sealed = super::reseal::run_if_due(&store).await?;
        log_reseal(sealed);
        if sealed > 0 {
            // The clear values are gone from the rows but not from the pages they left (free
            // pages, the WAL): rewrite the file and empty the WAL so a copy holds none of them.
            sqlx::query("VACUUM").execute(&store.pool).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&store.pool)
                .await?;
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

    /// Keeps `megabytes` of the disk in reserve for the audit rows of reads, so that on a full
    /// disk reads go on while changes are refused (`audit_reserve`); 0 keeps none. `synapse
    /// serve` calls it once at start.
    pub async fn keep_audit_reserve(&self, megabytes: u64) {
        self.reserve
            .keep(megabytes.saturating_mul(1024 * 1024))
            .await;
    }

    async fn write_tx(&self) -> StoreResult<WriteTx> {
        self.reserve.admit_write().await?;
        let turn = self.writer.clone().lock_owned().await;
        Ok(WriteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _turn: turn,
            events: self.events.clone(),
            wrote_events: false,
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

    fn data_file_name(&self) -> String {
        self.pool
            .connect_options()
            .get_filename()
            .display()
            .to_string()
    }

    async fn check_writable(&self) -> StoreResult<()> {
        // Takes the audit file's write lock, as the audit queue does before each batch.
        let probe = async {
            let tx = self.audit_log.begin_with("BEGIN IMMEDIATE").await?;
            tx.rollback().await
        };
        probe
            .await
            .map_err(|error| crate::store::StoreError::NotWritable {
                file: self.audit_log_path.display().to_string(),
                reason: error.to_string(),
            })
    }

    fn write_pool(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    fn doctor_names(&self) -> &crate::store::doctor_names::DoctorNames {
        &self.doctor_names
    }

    fn event_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.events.subscribe()
    }

    async fn bulk_insert(
        &self,
        doctor_ids: &[Uuid],
        patients: &[synth::SynthPatient],
    ) -> StoreResult<()> {
        bulk::insert_synthetic(self, doctor_ids, patients).await
    }

    async fn bulk_prepare(&self) -> StoreResult<bool> {
        bulk_load::prepare(self).await
    }

    async fn bulk_finish(&self) -> StoreResult<usize> {
        let built = bulk_load::finish(self).await?;
        // A load checkpoints rarely (`open_for_bulk_load`), so the loaded rows are still in
        // the WAL; servers would read every page through the WAL's index until a checkpoint
        // they might never complete while reads keep coming. Moved into the file now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(built)
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

/// The megabytes of disk `synapse serve` keeps in reserve for the audit rows of reads when no
/// size is configured (`audit_reserve`).
pub const AUDIT_RESERVE_DEFAULT_MB: u64 = audit_reserve::DEFAULT_MB;

/// The audit log file kept beside the data file at `data` (`synapse.db` → `synapse.db-audit`),
/// for the commands that copy or check the files themselves (`synapse admin backup`).
pub fn audit_log_path(data: &std::path::Path) -> std::path::PathBuf {
    audit_log::path_for(data)
}

/// The embedded migrations of the audit log file (`open` runs them with the data file's).
pub fn audit_log_migrator() -> Migrator {
    audit_log::migrator()
}

/// The embedded migrations of the SQLite engine (`open` runs them; tests run them up to a
/// version, to make a database as an earlier release left it).
pub fn migrator() -> Migrator {
    Migrator {
        migrations: embedded_migrations(&MIGRATIONS),
        ..Migrator::DEFAULT
    }
}

/// Links the data file's audit rows stored before the audit chain existed (`audit_chain`),
/// at start.
async fn chain_unchained(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
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
            "linked the data file's earlier audit rows into its audit chain"
        );
    }
    Ok(())
}
