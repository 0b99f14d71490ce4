//! Reads on synchronous connections. sqlx's SQLite driver hands every statement and every row
//! between the async task and a worker thread per connection, and under load that hand-off,
//! not the SQL, took most of the server's time. Here all of a read's statements run in one
//! blocking task on a connection of a small pool of their own: a request pays one hand-off.
//! Writes stay on sqlx, behind the writer's turn (`SqliteStore::write_tx`); both drivers link
//! the same SQLite library and share the file through its WAL.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::conn::ReadConnection;
use crate::store::engine::ReadFn;
use crate::store::{StoreError, StoreResult};

/// Prepared statements kept per connection: every read statement the server makes, with room
/// for the shapes that filters and cursors add.
const CACHED_STATEMENTS: usize = 128;

/// How much of the database file each read connection maps into memory: all of it, for any
/// size Synapse expects. SQLite's own ceiling is raised to match (`.cargo/config.toml`).
const READ_MMAP_BYTES: i64 = 64 << 30;

/// How long a read waits for a connection before the server answers that it is busy: the same
/// as the sqlx pools' default.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

pub(super) struct Readers {
    idle: Mutex<Vec<ReadConnection>>,
    /// One permit per connection, so a read that holds one finds a connection idle.
    permits: Arc<Semaphore>,
}

impl Readers {
    /// Opens `connections` connections that only read (`query_only`) to the database file at
    /// `path`, each with the file `attach.0` attached as schema `attach.1`. Both files must
    /// already exist (the sqlx pools created and migrated them).
    pub fn open(path: &Path, attach: (&Path, &str), connections: usize) -> anyhow::Result<Readers> {
        let idle = (0..connections)
            .map(|_| open_connection(path, attach).map(ReadConnection))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Readers {
            idle: Mutex::new(idle),
            permits: Arc::new(Semaphore::new(connections)),
        })
    }

    /// Runs a read of the shared store code (`store::engine::Engine::read`) on an idle
    /// connection. Its statements complete when first polled (`ReadConnection`), so the whole
    /// read runs in one blocking task without an executor.
    pub async fn run<T, F>(self: &Arc<Self>, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: ReadFn<ReadConnection, T>,
    {
        self.with_connection(move |connection| {
            read(connection).now_or_never().unwrap_or_else(|| {
                Err(StoreError::ReadFailed(
                    "a read waited on something other than its connection".into(),
                ))
            })
        })
        .await
    }

    async fn with_connection<T, F>(self: &Arc<Self>, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut ReadConnection) -> StoreResult<T> + Send + 'static,
    {
        let permit =
            tokio::time::timeout(WAIT_FOR_CONNECTION, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| StoreError::Busy)?
                .map_err(|_| StoreError::ReadFailed("the read connections are closed".into()))?;
        let readers = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            // The permit moves in here: if the request is dropped while this runs, the
            // connection stays counted as busy until it is back.
            let _permit = permit;
            let mut connection = readers
                .idle()
                .pop()
                .ok_or_else(|| StoreError::ReadFailed("no read connection is idle".into()))?;
            // A panicking read must not take its connection with it.
            let result = catch_unwind(AssertUnwindSafe(|| read(&mut connection)));
            readers.idle().push(connection);
            result.map_err(|_| StoreError::ReadFailed("it panicked".into()))?
        });
        task.await
            .map_err(|e| StoreError::ReadFailed(e.to_string()))?
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<ReadConnection>> {
        // A panic while holding this lock cannot leave the list half-changed (push and pop).
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_connection(path: &Path, (attach, schema): (&Path, &str)) -> anyhow::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let attach = attach
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not a UTF-8 path", attach.display()))?;
    connection.execute(&format!("ATTACH DATABASE ?1 AS {schema}"), [attach])?;
    // These connections only read; a statement that would write fails instead.
    connection.pragma_update(None, "query_only", true)?;
    // Plans independent of the values bound: otherwise SQLite plans around some bound values
    // (a LIMIT, a LIKE pattern) and prepares the statement again whenever they change, which
    // was a sixth of a read's time. Searches compare index ranges explicitly, so they need
    // no plan built around a pattern.
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    // Pages read straight from the OS page cache, shared by every connection, instead of a
    // `pread` into each connection's own cache. This pays off now that the data file rarely
    // changes (reads store their audit rows in the audit log file): a commit to the file
    // unmaps it for every connection.
    connection.pragma_update(None, "mmap_size", READ_MMAP_BYTES)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::audit_log;

    /// The SQLite that Synapse links is built as `.cargo/config.toml` says: a build that lost
    /// those flags would still work, only slower, so nothing else would notice.
    #[test]
    fn sqlite_is_built_without_the_shared_page_cache_lock_and_maps_whole_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data.db");
        let audit = dir.path().join("audit.db");
        for file in [&data, &audit] {
            Connection::open(file).expect("create");
        }
        let connection = open_connection(&data, (&audit, audit_log::SCHEMA)).expect("open");
        let options: Vec<String> = connection
            .prepare("PRAGMA compile_options")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("compile options");
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        let mapped: i64 = connection
            .pragma_query_value(None, "mmap_size", |r| r.get(0))
            .expect("mmap_size");
        assert_eq!(mapped, READ_MMAP_BYTES);
        let attached: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM pragma_database_list WHERE name = ?1",
                [audit_log::SCHEMA],
                |r| r.get(0),
            )
            .expect("database list");
        assert_eq!(attached, 1);
    }
}
