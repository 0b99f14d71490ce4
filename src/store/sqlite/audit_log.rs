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

use crate::model::time::format_timestamp;
use crate::store::audit_queue::{AuditRow, AuditSink};
use crate::store::{StoreResult, embedded_migrations};

/// The schema name the read connections attach the audit log file under.
pub(super) const SCHEMA: &str = "audit_log";

/// The embedded migrations of the audit log file, in order: version, description, SQL.
const MIGRATIONS: [(i64, &str, &str); 1] = [(
    1,
    "audit events",
    include_str!("../../../migrations/sqlite_audit_log/0001_audit_events.sql"),
)];

/// Rows per INSERT statement: 10 values each, well under SQLite's limit of bound values.
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
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(options)
        .await
        .with_context(|| {
            format!(
                "cannot open the audit log file {} (it is kept beside the database file, \
                 which must be in a directory the server can write to)",
                path.display()
            )
        })?;
    Migrator {
        migrations: embedded_migrations(&MIGRATIONS),
        ..Migrator::DEFAULT
    }
    .run(&pool)
    .await?;
    Ok(pool)
}

/// Stores the audit queue's batches in the audit log file, one transaction each. It takes no
/// turn from the data file's writer: the two files lock apart.
pub(super) struct AuditLogSink {
    pub pool: SqlitePool,
}

#[async_trait]
impl AuditSink for AuditLogSink {
    async fn write_batch(&self, batch: &[AuditRow]) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO audit_events (id, at, user_id, action, resource_type, resource_id, \
                 patient_id, outcome, request_id, ip) ",
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
                    .push_bind(row.ip.as_deref());
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_log_file_sits_beside_the_data_file() {
        assert_eq!(
            path_for(Path::new("/var/lib/synapse/synapse.db")),
            PathBuf::from("/var/lib/synapse/synapse.db-audit")
        );
    }
}
