//! Where the binary's logs go. `synapse serve` logs to standard error, for its supervisor to
//! keep. The workstation owns the terminal, so it logs (its own lines and an embedded server's,
//! which name requests and ids but no patient data) to files in the data directory, rotated by
//! tracing-appender: a file per day (UTC), `synapse.YYYY-MM-DD.log`, the last week of them
//! kept, `synapse.log` a link to today's. The files are readable by their owner only.

use std::path::Path;

use anyhow::Context;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Log files start with this…
const PREFIX: &str = "synapse";
/// …and end with this; the date is between.
const SUFFIX: &str = "log";
/// How many daily files are kept, today's included: a week.
pub const KEPT_FILES: usize = 7;
/// The name that always leads to the newest file (a symbolic link where there are those).
pub const LATEST: &str = "synapse.log";
/// What an older version's single log file is renamed to, so rotation keeps it with the others
/// (and drops it once it is the oldest) instead of replacing it by the link.
const PREVIOUS: &str = "synapse.previous.log";

/// A filter for `level` (a level or a tracing filter such as `synapse=debug,sqlx=warn`); one
/// that does not parse falls back to `info`. A bare level leaves the database driver at
/// `warn`: at `info` it repeats PostgreSQL's notices (a migration's "already exists,
/// skipping"), which say nothing an operator acts on; a filter that names `sqlx` decides.
fn filter(level: &str) -> EnvFilter {
    let level = level.trim();
    let directives = if level.contains("sqlx") || level.contains('=') {
        level.to_string()
    } else {
        format!("{level},sqlx=warn")
    };
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
}

/// How `synapse serve` writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: coloured on a terminal, plain text elsewhere (a file, journald).
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

/// `synapse serve` logs to standard error.
pub fn init_server(level: &str, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(std::io::stderr);
    let _ = match format {
        // Colour codes are for a terminal; in a file or a journal they are noise.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

/// The workstation logs to the rotated files in `dir` (see the module's doc).
pub fn init_workstation(dir: &Path, level: &str) -> anyhow::Result<()> {
    let appender = workstation_appender(dir)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_ansi(false)
        .with_writer(appender)
        .try_init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "workstation started");
    Ok(())
}

/// The scripting CLI's log: the workstation's files, one line per command to say which ran.
pub fn init_cli(dir: &Path, level: &str) -> anyhow::Result<()> {
    let appender = workstation_appender(dir)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_ansi(false)
        .with_writer(appender)
        .try_init();
    tracing::debug!(version = env!("CARGO_PKG_VERSION"), "CLI started");
    Ok(())
}

/// The daily rotated log files in `dir`, older ones beyond a week removed. Writes go straight to
/// the file (the workstation logs a few lines a minute: no writer thread is needed).
pub fn workstation_appender(dir: &Path) -> anyhow::Result<RollingFileAppender> {
    keep_previous_log(dir)?;
    let builder = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEPT_FILES);
    #[cfg(unix)]
    let builder = builder.latest_symlink(LATEST);
    let appender = builder
        .build(dir)
        .with_context(|| format!("cannot write the log in {}", dir.display()))?;
    restrict_log_files(dir)?;
    Ok(appender)
}

/// Renames an older version's plain `synapse.log` file out of the way of the link.
fn keep_previous_log(dir: &Path) -> anyhow::Result<()> {
    let latest = dir.join(LATEST);
    if std::fs::symlink_metadata(&latest).is_ok_and(|m| m.is_file()) {
        std::fs::rename(&latest, dir.join(PREVIOUS))
            .with_context(|| format!("cannot move the old log {} aside", latest.display()))?;
    }
    Ok(())
}

/// Makes every log file in `dir` readable and writable by its owner only (0600). The data
/// directory is already private when Synapse created it; this also covers one created by hand,
/// and files an older version left readable. A file made by a rotation while the workstation
/// runs gets the process's default mode until the next start, inside that directory.
fn restrict_log_files(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the log directory {}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_log =
                name.starts_with(&format!("{PREFIX}.")) && name.ends_with(&format!(".{SUFFIX}"));
            // `file_type` does not follow the link, so only the files themselves are changed.
            if is_log && entry.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot restrict {}", entry.path().display()))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tracing_subscriber::fmt::MakeWriter;

    /// The regular log files in `dir`, by name.
    fn log_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("synapse.") && n.ends_with(".log"))
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn lines_go_to_todays_file_readable_by_its_owner_only_and_synapse_log_leads_there() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let appender = workstation_appender(dir.path()).unwrap();
        appender
            .make_writer()
            .write_all(b"workstation started\n")
            .unwrap();
        let today = chrono::Utc::now()
            .format("synapse.%Y-%m-%d.log")
            .to_string();
        assert_eq!(log_files(dir.path()), std::slice::from_ref(&today));
        let mode = std::fs::metadata(dir.path().join(&today))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        let latest = std::fs::read_to_string(dir.path().join(LATEST)).unwrap();
        assert_eq!(latest, "workstation started\n");
    }

    #[test]
    fn a_week_of_files_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=10 {
            let name = format!("synapse.2020-01-{day:02}.log");
            std::fs::write(dir.path().join(name), "old\n").unwrap();
        }
        std::fs::write(dir.path().join("synapse.db"), "not a log").unwrap();
        let _appender = workstation_appender(dir.path()).unwrap();
        assert_eq!(log_files(dir.path()).len(), KEPT_FILES);
        assert!(dir.path().join("synapse.db").exists(), "pruned a non-log");
    }

    #[cfg(unix)]
    #[test]
    fn an_older_versions_single_log_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LATEST), "from before\n").unwrap();
        let _appender = workstation_appender(dir.path()).unwrap();
        let kept = std::fs::read_to_string(dir.path().join(PREVIOUS)).unwrap();
        assert_eq!(kept, "from before\n");
        let link = std::fs::symlink_metadata(dir.path().join(LATEST)).unwrap();
        assert!(link.file_type().is_symlink());
    }
}
