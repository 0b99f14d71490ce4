//! Checkpoints of the audit log file's WAL, off the path of the reads. SQLite checkpoints a WAL
//! inside the commit that takes it past 1,000 pages: it copies the pages into the file and
//! syncs both, a few milliseconds that every read of that batch waited for. One request at a
//! time that was about one read in a hundred, the p99 of every endpoint (docs/PERFORMANCE.md).
//! The audit log's connection turns those automatic checkpoints off (`audit_log::open`), and
//! after every `EVERY_BATCHES` stored batches a checkpoint runs here instead, on a connection of
//! its own on the blocking pool, beside the writer (a WAL checkpoint lets the writer go on), at
//! most one at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Batches between checkpoints: a batch adds a few pages to the WAL (its rows, their links
/// and the indexes), so about SQLite's own 1,000 pages.
const EVERY_BATCHES: u32 = 200;

pub(super) struct AuditCheckpoints {
    path: PathBuf,
    batches: AtomicU32,
    running: Arc<AtomicBool>,
}

impl AuditCheckpoints {
    /// For the audit log file at `path`.
    pub fn new(path: &Path) -> AuditCheckpoints {
        AuditCheckpoints {
            path: path.to_path_buf(),
            batches: AtomicU32::new(0),
            running: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Counts a stored batch, and starts a checkpoint when one is due and none is running
    /// (a checkpoint still running when the next is due leaves it to the batch after).
    pub fn after_batch(&self) {
        if self.batches.fetch_add(1, Ordering::Relaxed) + 1 < EVERY_BATCHES {
            return;
        }
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.batches.store(0, Ordering::Relaxed);
        let (path, running) = (self.path.clone(), self.running.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(error) = checkpoint(&path) {
                // A full disk, say: the WAL keeps the rows, and the next checkpoint tries again.
                tracing::warn!(%error, "could not checkpoint the audit log file; it is tried again later");
            }
            running.store(false, Ordering::Release);
        });
    }
}

/// A passive checkpoint: as much of the WAL as no reader still needs, without waiting for
/// the writer.
fn checkpoint(path: &Path) -> rusqlite::Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL of a file written without automatic checkpoints stops growing once
    /// `after_batch` is called, because the checkpoints let the writer start it over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_keep_the_wal_from_growing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x BLOB);",
            )
            .unwrap();
        let wal = dir.path().join("audit-wal");
        let write = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (randomblob(3000))", [])
                    .unwrap();
            }
        };
        write(1000);
        let unchecked = std::fs::metadata(&wal).unwrap().len();
        let checkpoints = AuditCheckpoints::new(&path);
        for _ in 0..5 {
            for _ in 0..EVERY_BATCHES {
                checkpoints.after_batch();
            }
            while checkpoints.running.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            write(1000);
        }
        let checked = std::fs::metadata(&wal).unwrap().len();
        assert!(
            checked <= unchecked + unchecked / 10,
            "the WAL grew from {unchecked} to {checked} bytes"
        );
    }
}
