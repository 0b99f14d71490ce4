//! The audit log file: the audit rows that the audit queue stores (reads, refused accesses,
//! sign-ins) live in a SQLite file of their own beside the data file, `<data file>-audit`.
//!
//! Why a second file: in WAL mode every commit to a database file empties the page cache of
//! every other connection to it, and reads commit their audit rows all the time. In the data
//! file those commits made every read start from a cold cache; in a file of their own they
//! leave the readers' caches alone. The audit row of a write stays in the data file, in the
//! same transaction as the change, so a change and its row are stored together or not at all.
//!
//! The audit query reads both files: the read connections attach this one as `audit_log`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use uuid::Uuid;

use crate::model::time::format_timestamp;
use crate::store::audit_queue::{AuditRow, AuditSink};
use crate::store::{StoreResult, embedded_migrations};

/// The schema name the read connections attach the audit log file under.
pub(super) const SCHEMA: &str = "audit_log";

/// The embedded migrations of the audit log file, in order: version, description, SQL.
const MIGRATIONS: [(i64, &str, &str); 3] = [
    (
        1,
        "audit events",
        include_str!("../../../migrations/sqlite_audit_log/0001_audit_events.sql"),
    ),
    (
        2,
        "client request id",
        include_str!("../../../migrations/sqlite_audit_log/0002_client_request_id.sql"),
    ),
    (
        3,
        "audit chain",
        include_str!("../../../migrations/sqlite_audit_log/0003_audit_chain.sql"),
    ),
];

/// Rows per INSERT statement: 11 values each, well under SQLite's limit of bound values.
const ROWS_PER_INSERT: usize = 200;

/// The audit log file beside the data file at `data`: its name with `-audit` appended, as
/// SQLite names its own `-wal` and `-shm` files, so `synapse.db*` names every file to back up.
pub(super) fn path_for(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_os_string();
    name.push("-audit");
    PathBuf::from(name)
}

/// Opens (creating if missing) the audit log file at `path` and brings its schema up to date.
/// One connection: the audit queue stores one batch at a time.
pub(super) async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // As the data file: a process crash loses nothing committed; a power loss may roll
        // back the last commits, and never corrupts the file.
        .synchronous(SqliteSynchronous::Normal)
        // Checkpointed beside the writer, not inside a batch's commit (`audit_checkpoint`).
        .pragma("wal_autocheckpoint", "0")
        .busy_timeout(Duration::from_secs(5));
    super::create_private(path)?;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .after_release(|conn, _| Box::pin(super::released_cleanly(conn)))
        .connect_with(options)
        .await
        .with_context(|| {
            format!(
                "cannot open the audit log file {} (it is kept beside the database file, \
                 which must be in a directory the server can write to)",
                path.display()
            )
        })?;
    migrator().run(&pool).await?;
    chain_unchained(&pool).await?;
    Ok(pool)
}

/// Links the audit rows stored before the audit chain existed (`audit_chain`), at start.
async fn chain_unchained(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let chained = crate::store::audit_chain::chain_if_due(
        &mut *tx,
        &crate::store::audit_chain::DUE_IN_AUDIT_LOG,
        "audit_events",
        "audit_chain",
    )
    .await?;
    tx.commit().await?;
    if chained > 0 {
        tracing::info!(
            rows = chained,
            "linked the audit log file's earlier rows into its audit chain"
        );
    }
    Ok(())
}

/// The embedded migrations of the audit log file.
pub(super) fn migrator() -> Migrator {
    Migrator {
        migrations: embedded_migrations(&MIGRATIONS),
        ..Migrator::DEFAULT
    }
}

/// The key in the data file's `settings` that names its audit log file's id.
const PAIR_SETTING: &str = "audit_log_id";

/// How the audit log file found at start relates to the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pairing {
    /// The two files carry the same id.
    Matched,
    /// Neither carried an id (a new database, or one from before the audit log file): they
    /// are paired now.
    Paired,
    /// The data file names an audit log, but this one is new: the file was missing (a data
    /// file restored or moved without it) and the rows stored before are not in it.
    Recreated,
    /// The audit log belongs to another data file.
    Foreign,
}

/// Checks that the audit log (`audit_log`) belongs to the data file (`data`), pairing them
/// when neither names the other yet. A new audit log beside a data file that had one takes
/// the data file's id, so the warning that follows (`warn_unless_paired`) is given once.
pub(super) async fn pair(data: &SqlitePool, audit_log: &SqlitePool) -> StoreResult<Pairing> {
    let data_id: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(PAIR_SETTING)
        .fetch_optional(data)
        .await?;
    let log_id: Option<String> = sqlx::query_scalar("SELECT id FROM audit_log_identity")
        .fetch_optional(audit_log)
        .await?;
    let record_in_log = |id: String| async move {
        sqlx::query("INSERT INTO audit_log_identity (id) VALUES ($1)")
            .bind(id)
            .execute(audit_log)
            .await
    };
    match (data_id, log_id) {
        (Some(data_id), Some(log_id)) if data_id == log_id => Ok(Pairing::Matched),
        (Some(_), Some(_)) => Ok(Pairing::Foreign),
        (Some(data_id), None) => {
            record_in_log(data_id).await?;
            Ok(Pairing::Recreated)
        }
        (None, log_id) => {
            let id = log_id.clone().unwrap_or_else(|| Uuid::now_v7().to_string());
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                .bind(PAIR_SETTING)
                .bind(&id)
                .execute(data)
                .await?;
            if log_id.is_none() {
                record_in_log(id).await?;
            }
            Ok(Pairing::Paired)
        }
    }
}

/// Tells the operator, in the server's log, when the audit log at `path` is not the one its
/// data file was written with. The server still starts: refusing would stop the clinic, and
/// the audit rows from now on are stored either way.
pub(super) fn warn_unless_paired(pairing: Pairing, path: &Path) {
    match pairing {
        Pairing::Matched | Pairing::Paired => {}
        Pairing::Recreated => tracing::warn!(
            audit_log = %path.display(),
            "the audit log file was missing and has been created empty: the audit rows of \
             reads, refusals and sign-ins stored before are not in it. If the database was \
             restored from a backup, stop the server and restore this file from the same backup"
        ),
        Pairing::Foreign => tracing::warn!(
            audit_log = %path.display(),
            "the audit log file belongs to another database: the audit query will mix their \
             rows. Stop the server and put this database's own audit log file beside it"
        ),
    }
}

/// Stores the audit queue's batches in the audit log file, one transaction each. It takes no
/// turn from the data file's writer: the two files lock apart.
pub(super) struct AuditLogSink {
    pub pool: SqlitePool,
    /// Given to this file when the disk is full, so the batch can still be stored.
    pub reserve: std::sync::Arc<super::audit_reserve::AuditReserve>,
    pub checkpoints: super::audit_checkpoint::AuditCheckpoints,
}

#[async_trait]
impl AuditSink for AuditLogSink {
    async fn write_batch(&self, batch: &[AuditRow]) -> StoreResult<()> {
        let stored = match self.store(batch).await {
            Err(full) if full.is_disk_full() && self.reserve.release() => self.store(batch).await,
            stored => stored,
        };
        self.checkpoints.after_batch();
        stored
    }
}

impl AuditLogSink {
    async fn store(&self, batch: &[AuditRow]) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO audit_events (id, at, user_id, action, resource_type, resource_id, \
                 patient_id, outcome, request_id, ip, client_request_id) ",
            );
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.to_string())
                    .push_bind(format_timestamp(row.at))
                    .push_bind(row.user_id.map(|u| u.to_string()))
                    .push_bind(row.action.as_str())
                    .push_bind(row.resource_type.as_deref())
                    .push_bind(row.resource_id.as_deref())
                    .push_bind(row.patient_id.map(|p| p.to_string()))
                    .push_bind(row.outcome.as_str())
                    .push_bind(row.request_id.as_str())
                    .push_bind(row.ip.as_deref())
                    .push_bind(row.client_request_id.as_deref());
            });
            insert.build().execute(&mut *tx).await?;
        }
        crate::store::audit_chain::append(&mut *tx, "audit_chain", batch).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test]
    async fn a_start_tells_its_own_audit_log_from_a_missing_or_foreign_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_path = dir.path().join("synapse.db");
        let store = SqliteStore::open(&format!("sqlite://{}", data_path.display()))
            .await
            .expect("open");
        let data = store.pool();

        // Opening the store paired the two; they match from then on.
        let own = open(&path_for(&data_path)).await.expect("own audit log");
        assert_eq!(pair(data, &own).await.expect("pair"), Pairing::Matched);

        // A data file moved without its audit log finds a new, empty one: reported once.
        let moved = open(&dir.path().join("moved.db-audit"))
            .await
            .expect("new audit log");
        assert_eq!(pair(data, &moved).await.expect("pair"), Pairing::Recreated);
        assert_eq!(pair(data, &moved).await.expect("pair"), Pairing::Matched);

        // Another database's audit log is never taken for this one's.
        let other_path = dir.path().join("other.db");
        let _other = SqliteStore::open(&format!("sqlite://{}", other_path.display()))
            .await
            .expect("open the other");
        let foreign = open(&path_for(&other_path)).await.expect("its audit log");
        assert_eq!(pair(data, &foreign).await.expect("pair"), Pairing::Foreign);
        assert_eq!(pair(data, &foreign).await.expect("pair"), Pairing::Foreign);
    }

    /// What the chain costs the batch writer: the same batches stored with their links
    /// (`AuditLogSink`, as the server does) and without (the rows only, as before the chain).
    /// A measurement, not a check: `cargo test --lib audit_batch_cost -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore]
    async fn audit_batch_cost_with_and_without_the_chain() {
        use crate::store::RequestContext;
        use crate::store::audit_queue::audit_row;
        const BATCHES: usize = 400;
        const ROWS: usize = 32;
        let dir = tempfile::tempdir().expect("temp dir");
        let batch = || -> Vec<AuditRow> {
            let context = RequestContext {
                request_id: "req".into(),
                client_request_id: None,
                ip: Some("127.0.0.1".into()),
            };
            let entry = crate::store::AuditEntry {
                user_id: Some(Uuid::now_v7()),
                action: "patient.read",
                resource_type: Some("patient"),
                resource_id: Some(Uuid::now_v7().to_string()),
                patient_id: Some(Uuid::now_v7()),
                outcome: "success",
            };
            (0..ROWS).map(|_| audit_row(&context, &entry)).collect()
        };
        let chained = AuditLogSink {
            pool: open(&dir.path().join("chained")).await.expect("open"),
            reserve: std::sync::Arc::new(crate::store::sqlite::audit_reserve::AuditReserve::new(
                dir.path().join("reserve"),
            )),
            checkpoints: crate::store::sqlite::audit_checkpoint::AuditCheckpoints::new(
                &dir.path().join("chained"),
            ),
        };
        let plain = open(&dir.path().join("plain")).await.expect("open");
        for round in 0..2 {
            let started = std::time::Instant::now();
            for _ in 0..BATCHES {
                chained.write_batch(&batch()).await.expect("batch");
            }
            let with_chain = started.elapsed();
            let started = std::time::Instant::now();
            for _ in 0..BATCHES {
                let rows = batch();
                let mut tx = plain.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO audit_events (id, at, user_id, action, resource_type, \
                     resource_id, patient_id, outcome, request_id, ip, client_request_id) ",
                );
                insert.push_values(&rows, |mut values, row| {
                    values
                        .push_bind(row.id.to_string())
                        .push_bind(format_timestamp(row.at))
                        .push_bind(row.user_id.map(|u| u.to_string()))
                        .push_bind(row.action.as_str())
                        .push_bind(row.resource_type.as_deref())
                        .push_bind(row.resource_id.as_deref())
                        .push_bind(row.patient_id.map(|p| p.to_string()))
                        .push_bind(row.outcome.as_str())
                        .push_bind(row.request_id.as_str())
                        .push_bind(row.ip.as_deref())
                        .push_bind(row.client_request_id.as_deref());
                });
                insert.build().execute(&mut *tx).await.expect("insert");
                tx.commit().await.expect("commit");
            }
            let without = started.elapsed();
            let started = std::time::Instant::now();
            for _ in 0..BATCHES {
                for (n, row) in batch().iter().enumerate() {
                    std::hint::black_box(crate::store::audit_chain::link_hash(
                        crate::store::audit_chain::GENESIS,
                        n as i64,
                        row,
                    ));
                }
            }
            let hashing = started.elapsed();
            println!(
                "round {round}: {BATCHES} batches of {ROWS} rows: with the chain {:.1} ms a \
                 batch, without {:.1} ms; making the rows and hashing them {:.1} ms",
                with_chain.as_secs_f64() * 1000.0 / BATCHES as f64,
                without.as_secs_f64() * 1000.0 / BATCHES as f64,
                hashing.as_secs_f64() * 1000.0 / BATCHES as f64,
            );
        }
    }

    #[test]
    fn the_audit_log_file_sits_beside_the_data_file() {
        assert_eq!(
            path_for(Path::new("/var/lib/synapse/synapse.db")),
            PathBuf::from("/var/lib/synapse/synapse.db-audit")
        );
    }
}
