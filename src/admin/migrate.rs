//! `synapse migrate`: the schema migrations a database still lacks, reported without touching
//! it (`--check`) or applied (without `--check`), so an operator upgrading the binary sees
//! before the first start what that start would change. `serve` applies the same migrations
//! when it opens the database; this command only lets that happen, or be seen, on its own.
//!
//! A SQLite database is two files (the data file and the audit log file beside it, see
//! `store::sqlite`), each with its own migrations; PostgreSQL is one database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::config::{self, ConfigFile, Environment};
use crate::console::Exit;
use crate::store::{postgres, sqlite};

/// The exit code of `synapse migrate --check` when migrations are pending.
pub const PENDING_EXIT: u8 = 10;

/// The flags of `synapse migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Database URL, e.g. sqlite:///var/lib/synapse/synapse.db or postgres://user@host/synapse
    /// (else SYNAPSE_DATABASE_URL, else the config file: the database `serve` opens).
    #[arg(long)]
    pub database: Option<String>,
    /// Only report the pending migrations, applying none: exit 0 when there are none, 10 when
    /// some are pending.
    #[arg(long)]
    pub check: bool,
}

/// The migration state of one database file (or the PostgreSQL database).
#[derive(Debug)]
struct Part {
    /// What the operator calls it: "the database /var/lib/synapse/synapse.db".
    name: String,
    applied: usize,
    /// Known to this binary and not applied yet: version and description.
    pending: Vec<(i64, String)>,
    /// Recorded in the database and unknown to this binary: a newer release migrated it.
    unknown: Vec<i64>,
    /// Recorded as started and not finished, or applied with other SQL than this binary's.
    broken: Vec<String>,
}

impl Part {
    fn print(&self) {
        if self.pending.is_empty() {
            let migrations = if self.applied == 1 {
                "migration"
            } else {
                "migrations"
            };
            println!(
                "{}: up to date ({} {migrations} applied).",
                capitalised(&self.name),
                self.applied
            );
            return;
        }
        println!(
            "{}: {} applied, {} pending:",
            capitalised(&self.name),
            self.applied,
            self.pending.len()
        );
        for (version, description) in &self.pending {
            println!("  {version:>4} {description}");
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A failure of the command: its exit code and what to tell the operator.
struct Refusal(Exit, String);

/// Runs `synapse migrate` and returns its exit code.
pub async fn run(args: MigrateArgs, file: &ConfigFile, env: &Environment) -> ExitCode {
    match run_inner(args, file, env).await {
        Ok(code) => code,
        Err(Refusal(exit, message)) => {
            eprintln!("synapse: {message}");
            exit.into()
        }
    }
}

async fn run_inner(
    args: MigrateArgs,
    file: &ConfigFile,
    env: &Environment,
) -> Result<ExitCode, Refusal> {
    let url = config::database_url(args.database, file, env)
        .map_err(|error| Refusal(Exit::Failed, format!("{error:#}")))?;
    let parts = status(&url).await?;
    refuse_unless_sound(&parts)?;
    let pending: usize = parts.iter().map(|part| part.pending.len()).sum();
    if args.check || pending == 0 {
        for part in &parts {
            part.print();
        }
        if pending == 0 {
            return Ok(Exit::Ok.into());
        }
        println!("Run `synapse migrate` (or start `synapse serve`) to apply them.");
        return Ok(ExitCode::from(PENDING_EXIT));
    }
    apply(&url).await?;
    let after = status(&url).await?;
    refuse_unless_sound(&after)?;
    for part in &after {
        part.print();
    }
    println!("Applied {pending} migrations.");
    Ok(Exit::Ok.into())
}

/// Applies the pending migrations the way `serve` does: by opening the store.
async fn apply(url: &str) -> Result<(), Refusal> {
    if url.starts_with("sqlite:") {
        sqlite::SqliteStore::open_existing(url)
            .await
            .map(drop)
            .map_err(|error| Refusal(Exit::Failed, format!("migrating failed: {error:#}")))
    } else {
        postgres::PgStore::open(url).await.map(drop).map_err(|_| {
            Refusal(
                Exit::Failed,
                "migrating the PostgreSQL database failed (check that the user may create \
                 tables, and that no other migration holds its lock)"
                    .to_string(),
            )
        })
    }
}

/// Refuses a database this binary cannot safely migrate: migrated by a newer release, or with
/// a migration started and not finished, or changed.
fn refuse_unless_sound(parts: &[Part]) -> Result<(), Refusal> {
    for part in parts {
        if let Some(newest) = part.unknown.iter().max() {
            return Err(Refusal(
                Exit::Failed,
                format!(
                    "{} was migrated by a newer Synapse (migration {newest}, which this binary \
                     does not know): install that release or a later one, or restore the \
                     backup taken before the upgrade",
                    part.name
                ),
            ));
        }
        if let Some(problem) = part.broken.first() {
            return Err(Refusal(
                Exit::Failed,
                format!(
                    "{}: {problem}; restore the backup taken before the upgrade",
                    part.name
                ),
            ));
        }
    }
    Ok(())
}

/// The migration state of every part of the database at `url`, changing nothing.
async fn status(url: &str) -> Result<Vec<Part>, Refusal> {
    if url.starts_with("sqlite:") {
        let data = sqlite_path(url)?;
        if !data.exists() {
            return Err(Refusal(
                Exit::Unreachable,
                format!(
                    "there is no database at {}: `synapse serve` creates it on its first start; \
                     otherwise check --database, SYNAPSE_DATABASE_URL and the config file",
                    data.display()
                ),
            ));
        }
        let audit = sqlite::audit_log_path(&data);
        let mut parts = vec![sqlite_part(&data, "the database", &sqlite::migrator()).await?];
        let audit_name = "the audit log file";
        parts.push(if audit.exists() {
            sqlite_part(&audit, audit_name, &sqlite::audit_log_migrator()).await?
        } else {
            // `serve` creates a missing audit log file with its schema on start.
            compare(
                format!("{audit_name} {} (missing)", audit.display()),
                &sqlite::audit_log_migrator(),
                Vec::new(),
            )
        });
        Ok(parts)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // The URL may carry a password: name only the engine in what is printed.
        let mut conn = sqlx::PgConnection::connect(url).await.map_err(|_| {
            Refusal(
                Exit::Unreachable,
                "cannot connect to the PostgreSQL database: check --database (or \
                 SYNAPSE_DATABASE_URL), that the server runs and that the database exists"
                    .to_string(),
            )
        })?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .map_err(read_failed)?;
        let applied = if exists {
            sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
                "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(&mut conn)
            .await
            .map_err(read_failed)?
        } else {
            Vec::new()
        };
        let _ = conn.close().await;
        Ok(vec![compare(
            "the PostgreSQL database".to_string(),
            &postgres::migrator(),
            applied,
        )])
    } else {
        Err(Refusal(
            Exit::Usage,
            format!(
                "unsupported database URL {url:?}: use sqlite:///path/to/synapse.db or \
                 postgres://user@host/database"
            ),
        ))
    }
}

fn read_failed(error: sqlx::Error) -> Refusal {
    Refusal(
        Exit::Failed,
        format!("cannot read the migrations the database records: {error}"),
    )
}

fn sqlite_path(url: &str) -> Result<PathBuf, Refusal> {
    SqliteConnectOptions::from_str(url)
        .map(|options| options.get_filename().to_path_buf())
        .map_err(|error| {
            Refusal(
                Exit::Usage,
                format!(
                    "--database is not a SQLite URL ({error}): use sqlite:///path/to/synapse.db"
                ),
            )
        })
}

/// The state of the SQLite file at `path`, read on a connection that creates nothing.
async fn sqlite_part(path: &Path, what: &str, migrator: &Migrator) -> Result<Part, Refusal> {
    let name = format!("{what} {}", path.display());
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(5));
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|error| Refusal(Exit::Unreachable, format!("cannot open {name}: {error}")))?;
    let exists: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(read_failed)?;
    let applied = if exists > 0 {
        sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
            "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(read_failed)?
    } else {
        Vec::new()
    };
    let _ = conn.close().await;
    Ok(compare(name, migrator, applied))
}

/// What the binary's migrations and the recorded ones (version, finished, checksum) say.
fn compare(name: String, migrator: &Migrator, recorded: Vec<(i64, bool, Vec<u8>)>) -> Part {
    let known = migrator.iter().collect::<Vec<_>>();
    let mut part = Part {
        name,
        applied: 0,
        pending: Vec::new(),
        unknown: Vec::new(),
        broken: Vec::new(),
    };
    for (version, success, checksum) in &recorded {
        match known.iter().find(|m| m.version == *version) {
            None => part.unknown.push(*version),
            Some(_) if !success => part.broken.push(format!(
                "migration {version} was started and did not finish"
            )),
            Some(migration) if migration.checksum.as_ref() != checksum.as_slice() => {
                part.broken.push(format!(
                    "migration {version} was applied with other SQL than this release's"
                ))
            }
            Some(_) => part.applied += 1,
        }
    }
    for migration in known {
        if !recorded
            .iter()
            .any(|(version, ..)| *version == migration.version)
        {
            part.pending
                .push((migration.version, migration.description.to_string()));
        }
    }
    part
}
