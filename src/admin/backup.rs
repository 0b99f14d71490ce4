//! `synapse admin backup --to DIR`: a consistent copy of a SQLite database while the server
//! runs and writes: the data file, the audit log file beside it, and the demo signing key
//! (`jwt-secret`) if there is one, each under its own name in a new directory, so restoring is
//! putting the files back.
//!
//! Each SQLite file is copied with `VACUUM INTO`, which reads it in one read transaction: the
//! copy holds every transaction committed before it began and none after, however many are
//! committed meanwhile (in WAL mode the writers are not held up). The two files are copied one
//! after the other, so the audit log may hold a few rows more than the data file's moment;
//! neither refers to the other. On PostgreSQL the command names `pg_dump` instead.
//!
//! `synapse admin restore --from DIR` puts such a copy back, and refuses while a server has the
//! database open.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};

use super::{Failure, failed, usage};
use crate::console::Exit;
use crate::store::sqlite;

/// The demo signing key's name beside the data file (`server::settings`).
const DEMO_KEY: &str = "jwt-secret";

/// What `pg_dump` line the docs and the refusal give for PostgreSQL.
pub const PG_DUMP: &str = "pg_dump --format=custom --file synapse.dump \"$SYNAPSE_DATABASE_URL\"";

/// Copies the database at `url` into the new (or empty) directory `to`; returns what it wrote.
pub async fn backup(url: &str, to: &Path) -> Result<Vec<PathBuf>, Failure> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(usage(format!(
            "the database is PostgreSQL, which `synapse admin backup` does not copy: back it up \
             with pg_dump, e.g. `{PG_DUMP}`, and restore it with pg_restore (see the backups \
             section of docs/OPERATIONS.md)"
        )));
    }
    let data = SqliteConnectOptions::from_str(url)
        .map(|options| options.get_filename().to_path_buf())
        .map_err(|error| {
            usage(format!(
                "unsupported database URL {url:?} ({error}): use sqlite:///path/to/synapse.db"
            ))
        })?;
    if !data.is_file() {
        return Err(Failure {
            exit: Exit::Unreachable,
            message: format!(
                "there is no database at {}: check --database, SYNAPSE_DATABASE_URL and the \
                 config file",
                data.display()
            ),
        });
    }
    let created_dir = prepare_dir(to)?;
    let mut written = Vec::new();
    match copy_all(&data, to, &mut written).await {
        Ok(()) => Ok(written),
        Err(failure) => {
            // Leave no half backup that could be mistaken for a whole one.
            for file in &written {
                let _ = std::fs::remove_file(file);
            }
            if created_dir {
                let _ = std::fs::remove_dir(to);
            }
            Err(failure)
        }
    }
}

async fn copy_all(data: &Path, to: &Path, written: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let target = to.join(file_name(data)?);
    copy_database(data, &target, written).await?;
    let audit = sqlite::audit_log_path(data);
    if audit.is_file() {
        copy_database(&audit, &to.join(file_name(&audit)?), written).await?;
    }
    if let Some(key) = data.parent().map(|dir| dir.join(DEMO_KEY))
        && key.is_file()
    {
        let bytes = std::fs::read(&key)
            .map_err(|error| failed(format!("cannot read {}: {error}", key.display())))?;
        let copy = to.join(DEMO_KEY);
        create_private(&copy)?;
        written.push(copy.clone());
        std::fs::write(&copy, bytes)
            .map_err(|error| failed(format!("cannot write {}: {error}", copy.display())))?;
    }
    Ok(())
}

fn file_name(path: &Path) -> Result<&std::ffi::OsStr, Failure> {
    path.file_name()
        .ok_or_else(|| usage(format!("{} is not a file", path.display())))
}

/// Makes `to` ready: created (mode 0700) when missing, else it must be an empty directory, so
/// a backup never writes over another. Returns whether it was created.
fn prepare_dir(to: &Path) -> Result<bool, Failure> {
    if to.exists() {
        let mut entries = std::fs::read_dir(to).map_err(|error| {
            usage(format!(
                "--to {} is not a directory this command can read ({error}): give a new \
                 directory",
                to.display()
            ))
        })?;
        if entries.next().is_some() {
            return Err(usage(format!(
                "--to {} is not empty: give a new directory (a backup never writes over \
                 another)",
                to.display()
            )));
        }
        return Ok(false);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(to).map_err(|error| {
        failed(format!(
            "cannot create --to {} ({error}): give a directory you may write to",
            to.display()
        ))
    })?;
    Ok(true)
}

/// Creates the empty file `path` readable by its owner only: the copies hold patient data and
/// the signing key. `VACUUM INTO` writes into an empty file and keeps its mode.
fn create_private(path: &Path) -> Result<(), Failure> {
    crate::private_file::options()
        .create_new(true)
        .open(path)
        .map(drop)
        .map_err(|error| failed(format!("cannot create {}: {error}", path.display())))
}

/// Copies the SQLite file `from` into the new file `to` in one read transaction, then checks
/// the copy and leaves it a single file (rollback journal; the server turns WAL on at start).
async fn copy_database(from: &Path, to: &Path, written: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let target = to
        .to_str()
        .ok_or_else(|| usage(format!("--to {} must be a UTF-8 path", to.display())))?
        .to_string();
    create_private(to)?;
    written.push(to.to_path_buf());
    let source = SqliteConnectOptions::new()
        .filename(from)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Wal)
        // The server's writes are short; a copy waits for one in progress, not for them all.
        .busy_timeout(Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&source)
        .await
        .map_err(|error| failed(format!("cannot open {}: {error}", from.display())))?;
    sqlx::query("VACUUM INTO $1")
        .bind(&target)
        .execute(&mut conn)
        .await
        .map_err(|error| failed(format!("copying {} failed: {error}", from.display())))?;
    let _ = conn.close().await;

    let copy = SqliteConnectOptions::new()
        .filename(to)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Delete);
    let mut conn = SqliteConnection::connect_with(&copy)
        .await
        .map_err(|error| failed(format!("cannot open the copy {}: {error}", to.display())))?;
    let checked: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|error| failed(format!("cannot check the copy {}: {error}", to.display())))?;
    let _ = conn.close().await;
    if checked != ["ok"] {
        return Err(failed(format!(
            "the copy of {} failed its integrity check ({}): the source may be damaged; run \
             `sqlite3 {} 'PRAGMA integrity_check'`",
            from.display(),
            checked.join("; "),
            from.display()
        )));
    }
    Ok(())
}

/// Puts the backup in `from` back as the database at `url`, refusing while a server has the
/// database open. The files it replaces are kept beside it, renamed `<name>.before-restore-<time>`.
/// Returns what it restored and what it set aside.
pub async fn restore(url: &str, from: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(usage(
            "the database is PostgreSQL, which `synapse admin restore` does not restore: stop \
             the server and use pg_restore into an empty database (see the restore section of \
             docs/OPERATIONS.md)",
        ));
    }
    let data = SqliteConnectOptions::from_str(url)
        .map(|options| options.get_filename().to_path_buf())
        .map_err(|error| {
            usage(format!(
                "unsupported database URL {url:?} ({error}): use sqlite:///path/to/synapse.db"
            ))
        })?;
    let dir = data
        .parent()
        .filter(|dir| dir.is_dir())
        .ok_or_else(|| {
            usage(format!(
                "the directory of {} does not exist: create it, or check --database",
                data.display()
            ))
        })?
        .to_path_buf();
    let audit = sqlite::audit_log_path(&data);
    let key = dir.join(DEMO_KEY);
    // What the backup holds, by the names the database uses.
    let mut pairs = vec![(from.join(file_name(&data)?), data.clone())];
    if !pairs[0].0.is_file() {
        return Err(usage(format!(
            "--from {} holds no {}: give the directory `synapse admin backup --to` wrote",
            from.display(),
            file_name(&data)?.to_string_lossy()
        )));
    }
    let audit_copy = from.join(file_name(&audit)?);
    if !audit_copy.is_file() {
        return Err(usage(format!(
            "--from {} holds no {}: a backup holds both files; give the directory \
             `synapse admin backup --to` wrote",
            from.display(),
            audit_copy.file_name().unwrap_or_default().to_string_lossy()
        )));
    }
    pairs.push((audit_copy, audit.clone()));
    for (copy, _) in &pairs {
        check_copy(copy).await?;
    }
    if from.join(DEMO_KEY).is_file() {
        pairs.push((from.join(DEMO_KEY), key));
    }

    // A server holds each file it has open in WAL mode; leaving WAL mode needs every other
    // connection gone, so it fails while a server runs, and otherwise folds the WAL back into
    // the file, so nothing of it is left to be applied to the restored one.
    for file in [&data, &audit] {
        if file.is_file() {
            release_wal(file).await?;
        }
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut set_aside = Vec::new();
    for (_, target) in &pairs {
        for file in [
            target.clone(),
            suffixed(target, "-wal"),
            suffixed(target, "-shm"),
        ] {
            if file.exists() {
                let aside = suffixed(&file, &format!(".before-restore-{stamp}"));
                std::fs::rename(&file, &aside).map_err(|error| {
                    failed(format!(
                        "cannot move {} aside ({error}): run this as the account the server \
                         runs as",
                        file.display()
                    ))
                })?;
                set_aside.push(aside);
            }
        }
    }
    let mut restored = Vec::new();
    for (copy, target) in &pairs {
        let partial = suffixed(target, ".restoring");
        let _ = std::fs::remove_file(&partial);
        create_private(&partial)?;
        std::fs::copy(copy, &partial)
            .and_then(|_| std::fs::rename(&partial, target))
            .map_err(|error| {
                let _ = std::fs::remove_file(&partial);
                failed(format!(
                    "cannot write {} ({error}); the files it replaces are kept as \
                     *.before-restore-{stamp}",
                    target.display()
                ))
            })?;
        restored.push(target.clone());
    }
    Ok((restored, set_aside))
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Checks a backup's copy without changing it.
async fn check_copy(copy: &Path) -> Result<(), Failure> {
    let options = SqliteConnectOptions::new()
        .filename(copy)
        .create_if_missing(false)
        .read_only(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|error| failed(format!("cannot open {}: {error}", copy.display())))?;
    let checked: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|error| failed(format!("cannot check {}: {error}", copy.display())))?;
    let _ = conn.close().await;
    if checked != ["ok"] {
        return Err(failed(format!(
            "{} failed its integrity check ({}): restore another backup",
            copy.display(),
            checked.join("; ")
        )));
    }
    Ok(())
}

/// Takes `file` out of WAL mode, which only works when no other connection has it open.
async fn release_wal(file: &Path) -> Result<(), Failure> {
    let in_use = || {
        failed(format!(
            "a server has {} open: stop it first (e.g. `sudo systemctl stop synapse`), then run \
             this again",
            file.display()
        ))
    };
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(1));
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|error| failed(format!("cannot open {}: {error}", file.display())))?;
    let mode: Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    match mode {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => Ok(()),
        _ => Err(in_use()),
    }
}
