//! The audit reserve: disk space the embedded engine holds back in a file of its own beside
//! the data file (`<data file>-reserve`), so that reads go on when the disk fills up.
//!
//! Why: a read is answered only once its audit row is stored (docs/SECURITY.md), so on a full
//! disk every read would be refused with the writes. When a batch of the audit queue fails for
//! want of space, the reserve is deleted, which gives its space to the audit log file, and the
//! batch is stored again. From then on the data file takes no writes (`admit_write` refuses
//! them with `StoreError::DiskFull` before they start), so the space freed is left to the
//! audit rows of reads. Once the disk has room again (twice the reserve), the next write puts
//! the reserve back and goes ahead, in the same process.
//!
//! The space is allocated, not merely promised: `fallocate` on file systems that have it,
//! zeros written and synced on the others, so a sparse file cannot pretend to hold it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::store::{StoreError, StoreResult};

/// What `synapse serve` keeps when no size is configured (`audit_reserve_mb`): room for the
/// audit rows of some hundred thousand reads.
pub const DEFAULT_MB: u64 = 32;

/// The reserve beside a data file at `data`: its name with `-reserve` appended, as the audit
/// log file is named (`-audit`).
pub(super) fn path_for(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_os_string();
    name.push("-reserve");
    PathBuf::from(name)
}

/// The reserve of one data file, and whether its space has been given to the audit log.
pub(super) struct AuditReserve {
    path: PathBuf,
    /// The size kept; 0 keeps none (`synapse admin`, `synapse seed`, or configured so).
    bytes: AtomicU64,
    /// Set once the reserve is released: data writes are refused until it is back.
    released: AtomicBool,
    /// One restore at a time; the writes that arrive meanwhile are refused, not queued.
    restoring: tokio::sync::Mutex<()>,
}

impl AuditReserve {
    /// The reserve at `path`, keeping nothing until `keep` is called.
    pub fn new(path: PathBuf) -> AuditReserve {
        AuditReserve {
            path,
            bytes: AtomicU64::new(0),
            released: AtomicBool::new(false),
            restoring: tokio::sync::Mutex::new(()),
        }
    }

    /// Keeps `bytes` of the disk (0: none, and a reserve left by an earlier start is deleted).
    /// When the disk has not that much free, the server starts with its data writes refused
    /// until it has; a reserve that cannot be made for another reason is logged and skipped.
    pub async fn keep(&self, bytes: u64) {
        self.bytes.store(bytes, Ordering::Relaxed);
        if bytes == 0 {
            let _ = std::fs::remove_file(&self.path);
            return;
        }
        match allocate(self.path.clone(), bytes).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::StorageFull => {
                self.released.store(true, Ordering::Relaxed);
                tracing::error!(
                    reserve = %self.path.display(),
                    needed_mb = 2 * bytes / MB,
                    "the disk of the database is full: changes are refused and reads go on \
                     until the disk has room again; free disk space where the database lives"
                );
            }
            Err(error) => {
                self.bytes.store(0, Ordering::Relaxed);
                tracing::warn!(
                    reserve = %self.path.display(),
                    %error,
                    "cannot keep disk space in reserve for the audit trail, so on a full \
                     disk reads are refused with the changes; give the server's user write \
                     access to the database's directory, or set audit_reserve_mb = 0"
                );
            }
        }
    }

    /// Gives the reserve's space to the audit log file, after a batch of audit rows failed for
    /// want of it. True when space was freed now, so the batch is worth storing again.
    pub fn release(&self) -> bool {
        if self.bytes.load(Ordering::Relaxed) == 0 || self.released.swap(true, Ordering::AcqRel) {
            return false;
        }
        if let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(reserve = %self.path.display(), %error, "cannot delete the audit reserve");
            return false;
        }
        tracing::error!(
            reserve = %self.path.display(),
            "the disk of the database is full: its reserve now holds the audit rows of reads, \
             so reads go on; changes are refused until the disk has room again. Free disk \
             space where the database lives"
        );
        true
    }

    /// Whether a write to the data file may start: yes, unless the reserve was released and
    /// the disk has not room enough to put it back (twice its size) yet.
    pub async fn admit_write(&self) -> StoreResult<()> {
        if !self.released.load(Ordering::Acquire) {
            return Ok(());
        }
        let Ok(_restoring) = self.restoring.try_lock() else {
            return Err(StoreError::DiskFull);
        };
        if !self.released.load(Ordering::Acquire) {
            return Ok(());
        }
        let bytes = self.bytes.load(Ordering::Relaxed);
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let free = fs4::available_space(&directory).unwrap_or(0);
        if free < bytes.saturating_mul(2) {
            return Err(StoreError::DiskFull);
        }
        if let Err(error) = allocate(self.path.clone(), bytes).await {
            tracing::warn!(reserve = %self.path.display(), %error, "cannot put the audit reserve back yet");
            return Err(StoreError::DiskFull);
        }
        self.released.store(false, Ordering::Release);
        tracing::info!(
            reserve = %self.path.display(),
            "the disk of the database has room again: the audit reserve is back and changes \
             are taken again"
        );
        Ok(())
    }
}

const MB: u64 = 1024 * 1024;

/// Makes the file at `path` hold `bytes` of disk (private to the server's user), or leaves no
/// file at all.
async fn allocate(path: PathBuf, bytes: u64) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || {
        let made = allocate_now(&path, bytes);
        if made.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        made
    })
    .await
    .map_err(std::io::Error::other)?
}

fn allocate_now(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut file = crate::private_file::options()
        .create(true)
        .truncate(false)
        .open(path)?;
    if file.metadata()?.len() > bytes {
        file.set_len(bytes)?;
    }
    match fs4::FileExt::allocate(&file, bytes) {
        Ok(()) => {}
        // No fallocate here (some network and older file systems): real zeros take the space.
        Err(error) if error.kind() != std::io::ErrorKind::StorageFull => {
            let chunk = vec![0u8; MB as usize];
            let mut left = bytes.saturating_sub(file.metadata()?.len());
            while left > 0 {
                let n = left.min(MB) as usize;
                file.write_all(&chunk[..n])?;
                left -= n as u64;
            }
        }
        Err(error) => return Err(error),
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_released_reserve_refuses_writes_until_it_is_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reserve = AuditReserve::new(path_for(&dir.path().join("synapse.db")));
        reserve.keep(MB).await;
        let on_disk = std::fs::metadata(&reserve.path).expect("made");
        assert_eq!(on_disk.len(), MB);
        assert!(reserve.admit_write().await.is_ok());

        assert!(reserve.release(), "the first release frees the space");
        assert!(!reserve.path.exists());
        assert!(!reserve.release(), "a second one has nothing to free");

        // This disk has room, so the next write puts the reserve back and goes ahead.
        assert!(reserve.admit_write().await.is_ok());
        assert!(reserve.path.exists());
        assert!(!reserve.released.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn a_reserve_larger_than_the_free_space_keeps_refusing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reserve = AuditReserve::new(path_for(&dir.path().join("synapse.db")));
        reserve.keep(MB).await;
        assert!(reserve.release());
        // More than any disk here has: the reserve cannot come back, so writes stay refused.
        reserve.bytes.store(u64::MAX / 4, Ordering::Relaxed);
        assert!(matches!(
            reserve.admit_write().await,
            Err(StoreError::DiskFull)
        ));
    }

    #[tokio::test]
    async fn no_reserve_refuses_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reserve = AuditReserve::new(path_for(&dir.path().join("synapse.db")));
        reserve.keep(0).await;
        assert!(!reserve.release());
        assert!(reserve.admit_write().await.is_ok());
    }
}
