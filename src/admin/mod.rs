//! `synapse admin`: the operator's commands on the database itself, with no server running:
//! accounts (create, list, unlock, disable, enable, reset a password or a second factor, end the, the
//! sessions), the export of the audit trail and the check of its chain (`verify`). The database is the one
//! `serve` opens (`--database`, else `SYNAPSE_DATABASE_URL`, else the config file). The commands call the store methods the API's
//! `/admin/*` calls, as a console operator (`store::ConsoleOperator`, the operating-system
//! account that ran the command), so each change leaves the audit row it leaves over the API.

pub mod backup;
pub mod export;
pub mod migrate;
pub mod verify;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::config::Environment;
use crate::console::output::{self, Data, OutputArgs, OutputError};
use crate::console::table::table;
use crate::console::{Exit, prompt};
use crate::model::admin::{AdminUser, NewUser};
use crate::model::auth::Role;
use crate::model::envelope::FieldError;
use crate::model::time::{format_timestamp, now, time_bound};
use crate::model::validate;
use crate::store::{
    Administrator, AuditQuery, ConsoleOperator, Store, StoreError, UserRecord, password,
};

/// `synapse admin` and its database.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Database URL, e.g. sqlite:///var/lib/synapse/synapse.db or postgres://user@host/synapse
    /// (else SYNAPSE_DATABASE_URL, else the config file: the database `serve` opens).
    #[arg(long, global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (the first administrator, too). The password is prompted for, or read
    /// from the first line of standard input with --password-stdin.
    CreateUser {
        /// The account's email, which it logs in with.
        #[arg(long)]
        email: String,
        /// The person's full name.
        #[arg(long)]
        full_name: String,
        /// doctor, admin or receptionist.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every account: role, and whether it is disabled or locked.
    ListUsers {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove an account's second factor (a lost phone): it logs in with its password alone
    /// and enrols again.
    ResetMfa {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Unlock an account locked by failed logins.
    Unlock {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Disable an account: its sessions end and it can no longer log in.
    Disable {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// Set a new password for an account: its sessions end and its lockout is cleared.
    ResetPassword {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// End every session of an account (it can log in again).
    RevokeSessions {
        /// The account's email.
        #[arg(long)]
        email: String,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy a SQLite database consistently while the server runs: the data file, the audit
    /// log file and the demo signing key, into a new directory (files readable by you only).
    /// On PostgreSQL, use pg_dump.
    Backup {
        /// The new (or empty) directory to write the copies to.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup back (`synapse admin backup --to` wrote it), with the server stopped: it
    /// refuses while a server has the database open. The files it replaces are kept beside it.
    Restore {
        /// The directory the backup was written to.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Write a new key file for field encryption (one data key and the search index key),
    /// readable by you only. Name it in the config (`key_file` under [server]) or in
    /// SYNAPSE_KEY_FILE, and keep a copy apart from the database's backups.
    Keygen {
        /// Where to write it; an existing file is never replaced.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Add a new data key to the key file (key_file / SYNAPSE_KEY_FILE) and seal every stored
    /// value again under it, in batches, while servers run. Servers read the key file again
    /// when they meet the new key, and write under it from then on; values under the old key
    /// keep opening until this is done. Keep the old key in the file.
    RotateKey {
        /// Passes over the data before giving up on values servers keep writing under the old
        /// key (a server that cannot read the key file again).
        #[arg(long, default_value_t = 20)]
        passes: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit rows between two dates to standard output, oldest first, as they are
    /// read (a year's trail needs no more memory than a day's).
    Export {
        /// From this date (YYYY-MM-DD, midnight UTC) or RFC 3339 time.
        #[arg(long)]
        from: String,
        /// Up to this date (YYYY-MM-DD: the whole day) or RFC 3339 time.
        #[arg(long)]
        to: String,
        /// Only the rows of this account's actions (email or id).
        #[arg(long)]
        user: Option<String>,
        /// Only the rows about this patient (id).
        #[arg(long)]
        patient: Option<String>,
        /// jsonl (one JSON object a line, the API's audit event) or csv.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
    /// Walk the audit chain and report the first row changed, deleted or inserted (and every
    /// other, up to 100). Exits 0 when the trail is intact, 6 when it was altered.
    Verify {
        /// A head the server logged ("audit chain head", at shutdown and every hour), as
        /// ID:HASH: a chain that ends before it had rows removed from its end. Repeatable.
        #[arg(long = "expect-head", value_name = "ID:HASH")]
        expect_head: Vec<String>,
    },
}

/// A failure with its exit code; the message goes to stderr.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        exit: Exit::Usage,
        message: message.into(),
    }
}

fn failed(message: impl Into<String>) -> Failure {
    Failure {
        exit: Exit::Failed,
        message: message.into(),
    }
}

/// The flag a field of the store's or the validation's errors came from.
fn flag_of(field: &str) -> String {
    match field {
        "password" => "the password".to_string(),
        field => format!("--{}", field.replace('_', "-")),
    }
}

/// Validation errors in the words of the command line: `--email must not be empty; …`.
fn field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} {}", flag_of(&e.field), e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        match error {
            StoreError::NotFound => Failure {
                exit: Exit::NotFound,
                message: "the account is no longer there; `synapse admin list-users` lists them"
                    .to_string(),
            },
            StoreError::Invalid(errors) => usage(field_errors(&errors)),
            StoreError::NoKeys => usage(crate::store::cipher::missing_keys_message()),
            error @ StoreError::Key { .. } => failed(format!(
                "{error}: add that key to the key file (key_file / SYNAPSE_KEY_FILE)"
            )),
            error => failed(format!("the database refused: {error}")),
        }
    }
}

/// The operating-system account running this command, as the audit trail records it: under
/// sudo the account that ran sudo, else `USER` or `LOGNAME`, else the user id. Only letters,
/// digits and `._-` are kept.
pub fn os_user(env: &Environment) -> String {
    let name = ["SUDO_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| env.get(var).filter(|v| !v.trim().is_empty()))
        .map(str::to_string)
        .or_else(process_uid)
        .unwrap_or_else(|| "unknown".to_string());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

#[cfg(unix)]
fn process_uid() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .ok()
        .map(|m| format!("uid-{}", m.uid()))
}

#[cfg(not(unix))]
fn process_uid() -> Option<String> {
    None
}

/// The command that creates the first administrator on the database at `database_url`, as
/// `serve` prints it when there is none. A URL with a password in it is left out (it would go
/// to the log): the command then finds the database as `serve` did.
pub fn first_admin_command(database_url: &str) -> String {
    let database = if url_has_password(database_url) {
        String::new()
    } else {
        format!(" --database {}", shell_quote(database_url))
    };
    format!(
        "synapse admin create-user{database} --role admin --email admin@clinic.example --full-name 'Your Name'"
    )
}

fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(user_info, _)| user_info.contains(':'))
}

/// `text` quoted for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs a command that works on the database's files rather than through the store (opening
/// the store would run migrations beside a running server): its exit code, or the command back
/// when it needs the store (`run`).
pub async fn run_on_files(
    database_url: &str,
    command: AdminCommand,
) -> Result<ExitCode, AdminCommand> {
    match command {
        AdminCommand::Backup { to } => Ok(match backup::backup(database_url, &to).await {
            Ok(written) => {
                println!("Backed up to {}:", to.display());
                for file in &written {
                    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                    let name = file.file_name().unwrap_or_default().to_string_lossy();
                    println!("  {name} ({size} bytes)");
                }
                println!(
                    "Every copy passed its integrity check. To restore: stop the server, put these \
                     files back beside each other (see docs/OPERATIONS.md), start it."
                );
                Exit::Ok.into()
            }
            Err(failure) => {
                eprintln!("synapse: {}", failure.message);
                failure.exit.into()
            }
        }),
        AdminCommand::Restore { from } => Ok(match backup::restore(database_url, &from).await {
            Ok((restored, set_aside)) => {
                println!("Restored from {}:", from.display());
                for file in &restored {
                    println!("  {}", file.display());
                }
                if !set_aside.is_empty() {
                    println!(
                        "The files it replaced are kept (delete them once the server is checked):"
                    );
                    for file in &set_aside {
                        println!("  {}", file.display());
                    }
                }
                println!(
                    "Start the server; if the backup is from an earlier release, it applies the pending migrations."
                );
                Exit::Ok.into()
            }
            Err(failure) => {
                eprintln!("synapse: {}", failure.message);
                failure.exit.into()
            }
        }),
        AdminCommand::Keygen { out } => Ok(match crate::store::cipher::write_new_key_file(&out) {
            Ok(()) => {
                println!(
                    "Wrote the key file {} (mode 0600). Name it in the config (key_file = \"{}\" under [server]) or in SYNAPSE_KEY_FILE, and keep a copy apart from the database's backups: without it the contacts, notes and reports cannot be read.",
                    out.display(),
                    out.display()
                );
                Exit::Ok.into()
            }
            Err(error) => {
                eprintln!(
                    "synapse: cannot write the key file --out {}: {error} (an existing file is never replaced)",
                    out.display()
                );
                Exit::Failed.into()
            }
        }),
        command => Err(command),
    }
}

/// Installs the data keys for a command on the store. `rotate-key` first adds a new key to the
/// key file and installs the file with it; other commands use the keys given, if any (account
/// commands need none; a command reading patients without them says which setting is missing).
pub fn prepare_keys(
    command: AdminCommand,
    keys: Option<crate::store::cipher::Keyring>,
    key_file: Option<std::path::PathBuf>,
) -> Result<AdminCommand, ExitCode> {
    use crate::store::cipher;
    if let AdminCommand::RotateKey { .. } = command {
        let Some(path) = key_file else {
            eprintln!(
                "synapse: rotate-key adds a key to the key file: name it with key_file under [server] or SYNAPSE_KEY_FILE (keys given in {} cannot be added to; make a file with `synapse admin keygen --out PATH`)",
                cipher::KEYS_VAR
            );
            return Err(Exit::Usage.into());
        };
        let added =
            cipher::add_key(&path).and_then(|id| Ok((id, cipher::Keyring::from_file(&path)?)));
        match added {
            Ok((id, keys)) => {
                eprintln!(
                    "Added key {id} to {}; sealing the stored values under it.",
                    path.display()
                );
                cipher::install(keys);
            }
            Err(error) => {
                eprintln!("synapse: {error}");
                return Err(Exit::Failed.into());
            }
        }
    } else if let Some(keys) = keys {
        cipher::install(keys);
    }
    Ok(command)
}

/// Runs one command on `store` as `operator` and returns its exit code.
pub async fn run(
    store: &dyn Store,
    command: AdminCommand,
    operator: ConsoleOperator,
    outer: &OutputArgs,
) -> ExitCode {
    let by = Administrator::Console(operator);
    match run_inner(store, command, &by, outer).await {
        Ok(()) => Exit::Ok.into(),
        Err(failure) => {
            eprintln!("synapse: {}", failure.message);
            failure.exit.into()
        }
    }
}

async fn run_inner(
    store: &dyn Store,
    command: AdminCommand,
    by: &Administrator,
    outer: &OutputArgs,
) -> Result<(), Failure> {
    match command {
        AdminCommand::CreateUser {
            email,
            full_name,
            role,
            password_stdin,
        } => create_user(store, by, email, full_name, &role, password_stdin).await,
        AdminCommand::ListUsers { output } => list_users(store, by, &output.or(outer)).await,
        AdminCommand::Unlock { email } => {
            let user = account(store, &email).await?;
            let user = store.unlock_user(by, user.user.id).await?;
            println!("Unlocked {}: it can log in again.", user.email);
            Ok(())
        }
        AdminCommand::ResetMfa { email } => {
            let user = account(store, &email).await?;
            if store.reset_mfa(by, user.user.id).await? {
                println!(
                    "Removed the second factor of {}: it logs in with its password and enrols again.",
                    user.user.email
                );
            } else {
                println!("{} had no second factor; nothing changed.", user.user.email);
            }
            Ok(())
        }
        AdminCommand::Disable { email } => {
            let user = account(store, &email).await?;
            let user = store.disable_user(by, user.user.id).await?;
            println!(
                "Disabled {}: its sessions have ended and it can no longer log in.",
                user.email
            );
            Ok(())
        }
        AdminCommand::Enable { email } => {
            let user = account(store, &email).await?;
            let user = store.enable_user(by, user.user.id).await?;
            println!("Enabled {}: it can log in again.", user.email);
            Ok(())
        }
        AdminCommand::ResetPassword {
            email,
            password_stdin,
        } => {
            let user = account(store, &email).await?;
            let password = prompt::read_new_password(password_stdin).map_err(usage)?;
            validate::reset_password("password", &password)
                .map_err(|errors| usage(field_errors(&errors)))?;
            let hash = hash(password).await?;
            let user = store.reset_password(by, user.user.id, &hash).await?;
            println!(
                "Set a new password for {}: its sessions have ended and it is unlocked.",
                user.email
            );
            Ok(())
        }
        AdminCommand::RevokeSessions { email } => {
            let user = account(store, &email).await?;
            let revoked = store.revoke_sessions(by, user.user.id).await?;
            let sessions = if revoked == 1 { "session" } else { "sessions" };
            println!("Ended {revoked} {sessions} of {}.", user.user.email);
            Ok(())
        }
        AdminCommand::Audit(AuditCommand::Export {
            from,
            to,
            user,
            patient,
            format,
        }) => {
            let query = export_query(store, &from, &to, user, patient).await?;
            let format = export::Format::parse(&format)
                .ok_or_else(|| usage("--format must be jsonl or csv"))?;
            let rows = export::export(store, by, query, format, std::io::stdout().lock()).await?;
            eprintln!("Exported {rows} audit rows.");
            Ok(())
        }
        AdminCommand::Audit(AuditCommand::Verify { expect_head }) => {
            let expected = expect_head
                .iter()
                .map(|text| {
                    verify::ExpectedHead::parse(text).ok_or_else(|| {
                        usage(format!(
                            "--expect-head must be ID:HASH as the server logged it (\"audit \
                             chain head\"), not {text:?}"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let verdict = verify::verify(store, &expected).await?;
            verify::report(&verdict)
        }
        AdminCommand::RotateKey { passes } => {
            let (pass, done) = store.reseal(passes).await?;
            let current = crate::store::cipher::installed()
                .map(|keys| keys.current_id().to_string())
                .unwrap_or_default();
            if done {
                println!(
                    "Sealed {} values under key {current}; every stored value is under it now.",
                    pass.sealed
                );
                Ok(())
            } else {
                Err(failed(format!(
                    "sealed {} values under key {current}, but {} were written under an older key meanwhile: a server that cannot read the key file again is still running. Restart the servers and run rotate-key again (it adds another key; or run with more --passes)",
                    pass.sealed, pass.skipped
                )))
            }
        }
        // `run_on_files` runs it, on the files themselves.
        AdminCommand::Keygen { .. }
        | AdminCommand::Backup { .. }
        | AdminCommand::Restore { .. } => Err(failed(
            "`synapse admin backup` and `restore` work on the database files, not the store",
        )),
    }
}

/// The account with `--email`, or a failure naming the flag.
async fn account(store: &dyn Store, email: &str) -> Result<UserRecord, Failure> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(usage("--email must not be empty"));
    }
    store.user_by_email(&email).await?.ok_or_else(|| Failure {
        exit: Exit::NotFound,
        message: format!(
            "no account has --email {email}; `synapse admin list-users` lists every account"
        ),
    })
}

/// Hashes a password off the async executor (argon2id takes a moment and memory on purpose).
async fn hash(password: String) -> Result<String, Failure> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| failed(format!("cannot hash the password: {e}")))?
        .map_err(|e| failed(format!("cannot hash the password: {e:#}")))
}

async fn create_user(
    store: &dyn Store,
    by: &Administrator,
    email: String,
    full_name: String,
    role: &str,
    password_stdin: bool,
) -> Result<(), Failure> {
    let role = Role::parse(role.trim())
        .ok_or_else(|| usage("--role must be doctor, admin or receptionist"))?;
    // Everything but the password is checked before asking for it.
    let unchecked = NewUser {
        email,
        full_name,
        role,
        password: String::new(),
    };
    if let Err(errors) = validate::new_user(unchecked.clone()) {
        let errors: Vec<FieldError> = errors
            .into_iter()
            .filter(|e| e.field != "password")
            .collect();
        if !errors.is_empty() {
            return Err(usage(field_errors(&errors)));
        }
    }
    let password = prompt::read_new_password(password_stdin).map_err(usage)?;
    let user = validate::new_user(NewUser {
        password,
        ..unchecked
    })
    .map_err(|errors| usage(field_errors(&errors)))?;
    if store.user_by_email(&user.email).await?.is_some() {
        return Err(failed(format!(
            "--email {} is already used by another account",
            user.email
        )));
    }
    let hash = hash(user.password.clone()).await?;
    let created = store.create_user(Some(by), &user, &hash).await?;
    println!(
        "Created the {} account {} ({}), id {}. It can log in now.",
        created.role.as_str(),
        created.email,
        created.full_name,
        created.id
    );
    Ok(())
}

/// How many accounts a page of `list-users` reads.
const USERS_PAGE: u32 = 500;

async fn list_users(
    store: &dyn Store,
    by: &Administrator,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let mut users = Vec::new();
    let mut page = loop {
        let mut page = store.list_users(by, USERS_PAGE, users.len() as u64).await?;
        let more = page.pagination.has_more && !page.items.is_empty();
        users.append(&mut page.items);
        if !more {
            break page;
        }
    };
    // The same shape as one page, as the other lists print with --all: the last page's
    // pagination, with every account.
    page.items = users;
    let data = output::Value::of(&page).map_err(|e| failed(format!("cannot print: {e}")))?;
    output::print(out, Data::List(data), || {
        let rows: Vec<Vec<String>> = page
            .items
            .iter()
            .map(|u| {
                vec![
                    u.email.clone(),
                    u.full_name.clone(),
                    u.role.as_str().to_string(),
                    account_state(u),
                    u.failed_logins.to_string(),
                    format_timestamp(u.created_at),
                    u.id.to_string(),
                ]
            })
            .collect();
        table(
            &["EMAIL", "NAME", "ROLE", "STATE", "FAILED", "CREATED", "ID"],
            &rows,
        )
    })
    .map_err(|error| match error {
        OutputError::UnknownField(message) => usage(message),
        OutputError::Write(message) => failed(message),
    })
}

/// `active`, `disabled`, or `locked until <time>`.
fn account_state(user: &AdminUser) -> String {
    match (user.disabled, user.locked_until) {
        (true, _) => "disabled".to_string(),
        (false, Some(until)) if until > now() => {
            format!("locked until {}", format_timestamp(until))
        }
        _ => "active".to_string(),
    }
}

/// The export's filters from its flags, each refused in the words of its flag.
async fn export_query(
    store: &dyn Store,
    from: &str,
    to: &str,
    user: Option<String>,
    patient: Option<String>,
) -> Result<AuditQuery, Failure> {
    let bound = |flag: &str, value: &str, end_of_day: bool| {
        time_bound(value.trim(), end_of_day).ok_or_else(|| {
            usage(format!(
                "{flag} must be a date (2026-11-26) or an RFC 3339 time (2026-11-26T08:00:00Z)"
            ))
        })
    };
    let since = bound("--from", from, false)?;
    let until = bound("--to", to, true)?;
    if since >= until {
        return Err(usage("--from must be before --to"));
    }
    let user_id = match user {
        None => None,
        Some(user) => match Uuid::parse_str(user.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                let email = user.trim().to_lowercase();
                let record = store.user_by_email(&email).await?.ok_or_else(|| Failure {
                    exit: Exit::NotFound,
                    message: format!(
                        "no account has the email given to --user ({email}); pass an email or a user id"
                    ),
                })?;
                Some(record.user.id)
            }
        },
    };
    let patient_id = patient
        .map(|p| {
            Uuid::parse_str(p.trim()).map_err(|_| usage("--patient must be a patient id (a UUID)"))
        })
        .transpose()?;
    Ok(AuditQuery {
        user_id,
        patient_id,
        action: None,
        outcome: None,
        since: Some(since),
        until: Some(until),
        limit: export::PAGE_ROWS,
        ..AuditQuery::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_admin_command_names_the_database_but_never_its_password() {
        assert_eq!(
            first_admin_command("sqlite:///var/lib/synapse/synapse.db"),
            "synapse admin create-user --database 'sqlite:///var/lib/synapse/synapse.db' \
             --role admin --email admin@clinic.example --full-name 'Your Name'"
        );
        assert!(
            first_admin_command("postgres://synapse@db.clinic/synapse")
                .contains("--database 'postgres://synapse@db.clinic/synapse'")
        );
        let secret = first_admin_command("postgres://synapse:s3cret@db.clinic/synapse");
        assert!(!secret.contains("s3cret"), "{secret}");
        assert!(!secret.contains("--database"), "{secret}");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_operator_is_the_person_behind_sudo_and_kept_to_safe_characters() {
        let env = |vars: &[(&str, &str)]| {
            Environment::from_os(vars.iter().map(|(k, v)| ((*k).into(), (*v).into())))
        };
        assert_eq!(os_user(&env(&[("USER", "alice")])), "alice");
        assert_eq!(
            os_user(&env(&[("USER", "root"), ("SUDO_USER", "bob")])),
            "bob"
        );
        assert_eq!(os_user(&env(&[("USER", "a b:c\n")])), "a_b_c_");
        assert!(!os_user(&env(&[])).is_empty());
    }

    #[test]
    fn field_errors_name_the_flags() {
        let errors = vec![
            FieldError::new("full_name", "must not be empty"),
            FieldError::new("password", "must be at least 8 characters"),
        ];
        assert_eq!(
            field_errors(&errors),
            "--full-name must not be empty; the password must be at least 8 characters"
        );
    }
}
