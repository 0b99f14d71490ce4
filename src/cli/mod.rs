//! The scripting CLI: `synapse login|logout|whoami|auth …|patients …|reports …`, the same typed
//! client as the workstation without the terminal UI. Human tables by default, `--json` for the
//! API's `data` exactly; exit codes say what went wrong (see [`Exit`]). `login` remembers its
//! server under a profile (see [`profiles`]); `SYNAPSE_TOKEN` lets a script without a keyring
//! use an access token instead of a saved session.

pub mod help;
pub mod profiles;

mod export;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::client::settings::ClientSettings;
use crate::client::{ApiClient, ApiError, ErrorKind, SessionEvent};
use crate::config::{ClientFile, Environment};
use crate::console::output::{self, Data, OutputArgs, OutputError};
use crate::console::table::{fields, or_dash, table};
use crate::console::{Exit, prompt};
use crate::credentials::{SavedLogin, TokenStore, TokenStoreChoice};
use crate::model::auth::User;
use crate::model::patient::{PatientSummary, Sex};
use crate::model::query::{PatientListParams, ReportListParams, ReportStatsParams};
use crate::model::report::{Report, ReportStatus, ReportSummary};
use profiles::Profiles;

/// The variable a script sets to an access token (from `synapse auth token`) to run commands
/// without a saved session.
pub const TOKEN_VAR: &str = "SYNAPSE_TOKEN";

#[derive(Debug, Subcommand)]
pub enum PatientsCommand {
    /// List your patients, most recently seen first.
    List {
        /// Only patients matching this (name, MRN, phone, email).
        #[arg(long)]
        search: Option<String>,
        /// Rows per page (1–100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Every page, not just the first.
        #[arg(long, conflicts_with = "cursor")]
        all: bool,
        /// Start at this page (the `next_cursor` of the previous page's JSON).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Find patients by name, MRN, phone or email.
    Search {
        query: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a patient's chart (by id or MRN).
    Show {
        /// The patient's MRN or id.
        id: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Export a patient's record (chart, consultations, reports) to a PDF or Markdown file.
    Export(export::PatientExport),
}

#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// List your reports, newest first.
    List {
        /// pending, generating, completed, signed or failed.
        #[arg(long)]
        status: Option<String>,
        /// Only this patient's reports (id or MRN).
        #[arg(long)]
        patient: Option<String>,
        /// From this date (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Up to and including this date.
        #[arg(long)]
        to: Option<String>,
        /// Rows per page (1–100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Every page, not just the first.
        #[arg(long, conflicts_with = "cursor")]
        all: bool,
        /// Start at this page (the `next_cursor` of the previous page's JSON).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show a report.
    Show {
        /// The report's id.
        id: Uuid,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Sign a completed report: the version you read (`reports show` prints it) and your
    /// password. A report changed since that version is not signed.
    Sign {
        id: Uuid,
        /// The version you read and are signing.
        #[arg(long)]
        version: u32,
        /// Read the password from the first line of standard input instead of prompting (and,
        /// when your account has a second factor and --code is left out, the code from the
        /// second line).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        output: OutputArgs,
        /// The current code of your authenticator app (or a recovery code), when your account
        /// has a second factor; prompted for when needed and left out.
        #[arg(long)]
        code: Option<String>,
    },
    /// Report counts by status, and the last 30 days.
    Stats {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Export a report to a PDF or Markdown file.
    Export(export::ReportExport),
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Show the profile, the server, who is logged in and where the session is kept; exits 3
    /// when not logged in.
    Status {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Print an access token for `SYNAPSE_TOKEN` (good for the server's access-token lifetime,
    /// 15 minutes by default).
    Token {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The second factor (TOTP, an authenticator app): `auth mfa enroll`, `auth mfa confirm`.
    #[command(subcommand)]
    Mfa(MfaCommand),
}

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Make a new secret for your authenticator app: prints it as a QR code and as text, then
    /// asks the app's first code to turn it on (or run `auth mfa confirm --code` later), and
    /// prints the ten recovery codes once.
    Enroll {
        /// The app's first code, to confirm at once without a prompt.
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Turn on the secret of `auth mfa enroll` with the app's current code; prints the ten
    /// recovery codes once.
    Confirm {
        /// The current code of your authenticator app (prompted for when left out).
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// The flags of the commands that talk to a server: which server, and where its session is
/// kept. Given on a group (`synapse reports --server URL list`) they reach its commands.
#[derive(Debug, Clone, Default, Args)]
pub struct Connection {
    /// Server to talk to, e.g. https://synapse.clinic.example (else SYNAPSE_SERVER, else the
    /// profile's, else the config file).
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// The named profile (a remembered server) to use: else SYNAPSE_PROFILE, else the one the
    /// last `synapse login` used.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Where the session is remembered: auto, secret-service, keyutils or memory (else
    /// SYNAPSE_TOKEN_STORE).
    #[arg(long, global = true, value_name = "STORE")]
    pub token_store: Option<String>,
}

impl Connection {
    /// These flags, with `outer`'s (given before the command's name) filling the gaps.
    pub fn or(self, outer: &Connection) -> Connection {
        Connection {
            server: self.server.or_else(|| outer.server.clone()),
            profile: self.profile.or_else(|| outer.profile.clone()),
            token_store: self.token_store.or_else(|| outer.token_store.clone()),
        }
    }
}

/// `synapse auth …`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// `synapse patients …`.
#[derive(Debug, Args)]
pub struct PatientsArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: PatientsCommand,
}

/// `synapse reports …`.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: ReportsCommand,
}

/// The CLI's commands, as `synapse` parses them (main.rs flattens them into its own).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a server and remember the session in the OS keyring.
    Login {
        /// Account email (prompted for when left out).
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input instead of prompting (and,
        /// when the account has a second factor and --code is left out, the code from the
        /// second line).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        output: OutputArgs,
        /// The current code of the authenticator app (or a recovery code), when the account
        /// has a second factor; prompted for ("Code:") when needed and left out.
        #[arg(long)]
        code: Option<String>,
    },
    /// End the session on the server and forget it here.
    Logout {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show who is logged in, where, and how the session is kept.
    Whoami {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The session and the token: `auth status`, `auth token`.
    Auth(AuthArgs),
    /// Your patients.
    Patients(PatientsArgs),
    /// Your reports.
    Reports(ReportsArgs),
}

impl Command {
    /// The connection flags given to the command (or its group).
    fn connection(&self) -> &Connection {
        match self {
            Command::Login { connection, .. }
            | Command::Logout { connection, .. }
            | Command::Whoami { connection, .. } => connection,
            Command::Auth(args) => &args.connection,
            Command::Patients(args) => &args.connection,
            Command::Reports(args) => &args.connection,
        }
    }
}

/// A failure with its exit code; the message goes to stderr.
struct Failure {
    exit: Exit,
    message: String,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        let exit = match error.kind {
            _ if error.needs_login() => Exit::NotLoggedIn,
            ErrorKind::InvalidCredentials
            | ErrorKind::AccountLocked { .. }
            | ErrorKind::AccountDisabled
            | ErrorKind::Forbidden => Exit::NotLoggedIn,
            ErrorKind::NotFound => Exit::NotFound,
            // The server refused a value the command line gave it: a usage error.
            ErrorKind::Validation { .. } => Exit::Usage,
            _ if error.is_offline() || error.kind == ErrorKind::Internal => Exit::Unreachable,
            ErrorKind::Protocol | ErrorKind::Server { .. } => Exit::Unreachable,
            _ => Exit::Failed,
        };
        let message = match (&error.kind, &error.request_id) {
            // The client's own words are the workstation's, which retries and asks for the
            // password; a command does neither, so it says what to run.
            (ErrorKind::Unreachable, _) => "the server is unreachable: check its address \
                (--server, SYNAPSE_SERVER or the profile's) and your connection, then run the \
                command again"
                .to_string(),
            (ErrorKind::SessionEnded, _) => {
                "the session has ended: run `synapse login` again".to_string()
            }
            (ErrorKind::Internal | ErrorKind::Server { .. }, Some(id)) => {
                format!("{} (request id {id})", error.message)
            }
            (ErrorKind::RateLimited { retry_after_s }, _) => format!(
                "too many requests: the server asks to wait {retry_after_s} seconds; run the command again then"
            ),
            _ => error.message.clone(),
        };
        Failure { exit, message }
    }
}

/// The API's query fields and the flags that set them, so an error names what was typed.
const FLAG_OF_FIELD: [(&str, &str); 7] = [
    ("date_from", "--from"),
    ("date_to", "--to"),
    ("patient_id", "--patient"),
    ("status", "--status"),
    ("limit", "--limit"),
    ("cursor", "--cursor"),
    ("search", "--search"),
];

/// A failure for an API error, a value the server refused named by its flag.
fn flag_failure(error: ApiError) -> Failure {
    if let ErrorKind::Validation { fields } = &error.kind
        && !fields.is_empty()
    {
        let problems = fields
            .iter()
            .map(|f| {
                let name = FLAG_OF_FIELD
                    .iter()
                    .find(|(field, _)| *field == f.field)
                    .map_or(f.field.as_str(), |(_, flag)| flag);
                format!("{name} {}", f.message)
            })
            .collect::<Vec<_>>()
            .join("; ");
        return usage(format!("{problems} (see --help)"));
    }
    error.into()
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        exit: Exit::Usage,
        message: message.into(),
    }
}

/// A setting that could not be resolved (a bad flag, variable or config file) is a usage error.
fn usage_from(error: anyhow::Error) -> Failure {
    usage(format!("{error:#}"))
}

/// The flags given before the command's name (`synapse --server URL whoami`), as main.rs
/// parsed them; the command's own win over them.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub connection: Connection,
    pub output: OutputArgs,
}

/// Where a command's session comes from.
enum Auth {
    /// The token store (a session `login` saved, rotated by each command).
    Store(TokenStore),
    /// `SYNAPSE_TOKEN`: an access token used as is, nothing saved.
    Token(String),
}

/// Runs one command and returns its exit code.
pub async fn run(
    command: Command,
    globals: Globals,
    file: &ClientFile,
    env: &Environment,
) -> ExitCode {
    match run_inner(command, globals, file, env).await {
        Ok(()) => Exit::Ok.into(),
        Err(failure) => {
            tracing::info!(exit = failure.exit as u8, "command failed");
            eprintln!("synapse: {}", failure.message);
            failure.exit.into()
        }
    }
}

/// The profile and server a command uses: the server is `--server`, else `SYNAPSE_SERVER`,
/// else the profile's remembered server, else `server` in the config file.
struct Target {
    profiles_path: std::path::PathBuf,
    profiles: Profiles,
    profile: String,
    settings: ClientSettings,
}

fn target(globals: &Connection, file: &ClientFile, env: &Environment) -> Result<Target, Failure> {
    let profiles_path = profiles::path(env).map_err(usage_from)?;
    let profiles = Profiles::load(&profiles_path).map_err(usage_from)?;
    let profile = profiles
        .choose(globals.profile.clone(), env)
        .map_err(usage_from)?;
    let server = globals
        .server
        .clone()
        .or_else(|| env.string("SYNAPSE_SERVER"))
        .or_else(|| profiles.server(&profile).map(str::to_string));
    let settings = crate::client::settings::resolve(file, server, env).map_err(usage_from)?;
    Ok(Target {
        profiles_path,
        profiles,
        profile,
        settings,
    })
}

/// Opens the token store the settings choose. One that was asked for by name and cannot be
/// used is an authentication failure with its reason, never a silent fall back to memory.
async fn open_store(
    globals: &Connection,
    file: &ClientFile,
    env: &Environment,
) -> Result<TokenStore, Failure> {
    let choice = crate::credentials::settings::resolve(file, globals.token_store.clone(), env)
        .map_err(usage_from)?;
    let store = TokenStore::open(choice).await;
    if matches!(
        choice,
        TokenStoreChoice::SecretService | TokenStoreChoice::Keyutils
    ) && let Some(why) = store.fallback_reason()
    {
        return Err(Failure {
            exit: Exit::NotLoggedIn,
            message: format!(
                "the token store {choice} cannot be used here ({why}). Choose another with \
                 --token-store (or SYNAPSE_TOKEN_STORE), or set {TOKEN_VAR} to an access token \
                 (see `synapse help environment`)."
            ),
        });
    }
    Ok(store)
}

async fn run_inner(
    command: Command,
    globals: Globals,
    file: &ClientFile,
    env: &Environment,
) -> Result<(), Failure> {
    let output_flags = globals.output.clone();
    let connection = command.connection().clone().or(&globals.connection);
    let globals = &connection;
    let outer = &output_flags;
    let mut target = target(globals, file, env)?;
    let server = target.settings.server_url.clone().ok_or_else(|| {
        usage(format!(
            "no server configured for profile {:?}: run `synapse login --server URL` (the server \
             is remembered), pass --server, set SYNAPSE_SERVER, or set server in the [client] \
             table of the config file",
            target.profile
        ))
    })?;
    let client = ApiClient::new(&target.settings.client_config(&server))?;
    tracing::info!(profile = %target.profile, server = %server, "CLI command");
    if let Command::Login {
        email,
        password_stdin,
        output,
        code,
        ..
    } = command
    {
        let store = open_store(globals, file, env).await?;
        let out = output.or(outer);
        let typed = Typed {
            password_stdin,
            code,
        };
        return login(&client, &store, &mut target, email, typed, &out).await;
    }
    if let Command::Logout { output, .. } = command {
        let store = open_store(globals, file, env).await?;
        return logout(&client, &store, &output.or(outer)).await;
    }
    let auth = match env.string(TOKEN_VAR).filter(|t| !t.trim().is_empty()) {
        Some(token) => Auth::Token(token),
        None => Auth::Store(open_store(globals, file, env).await?),
    };
    match &auth {
        Auth::Store(store) => resume(&client, store).await?,
        Auth::Token(token) => adopt_token(&client, token).await?,
    }
    let outcome = match command {
        Command::Login { .. } | Command::Logout { .. } => Ok(()),
        Command::Whoami { output, .. } => whoami(&client, &auth, &output.or(outer)).await,
        Command::Auth(args) => match args.command {
            AuthCommand::Status { output } => {
                auth_status(&client, &auth, &target, &output.or(outer)).await
            }
            AuthCommand::Token { output } => auth_token(&client, &output.or(outer)).await,
            AuthCommand::Mfa(command) => mfa(&client, command, outer).await,
        },
        Command::Patients(args) => patients(&client, args.command, outer).await,
        Command::Reports(args) => reports(&client, args.command, outer).await,
    };
    if let Auth::Store(store) = &auth {
        persist(&client, store).await;
    }
    outcome
}

/// Checks `SYNAPSE_TOKEN` with the server and uses it.
async fn adopt_token(client: &ApiClient, token: &str) -> Result<(), Failure> {
    match client.adopt_access_token(token).await {
        Ok(_) => Ok(()),
        Err(error) if error.needs_login() || error.kind == ErrorKind::Unauthenticated => {
            Err(Failure {
                exit: Exit::NotLoggedIn,
                message: format!(
                    "{TOKEN_VAR} was refused by {} ({}): access tokens last the server's \
                     access-token lifetime (15 minutes by default); get a new one with \
                     `synapse auth token`, or unset {TOKEN_VAR} to use the saved session.",
                    client.server_url(),
                    error.message
                ),
            })
        }
        Err(error) => Err(error.into()),
    }
}

/// Picks up the saved session for this server (its refresh token is used, and rotated).
async fn resume(client: &ApiClient, store: &TokenStore) -> Result<(), Failure> {
    let saved = store.load(client.server_url()).await.map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot read the token store: {e:#}"),
    })?;
    let Some(saved) = saved else {
        return Err(Failure {
            exit: Exit::NotLoggedIn,
            message: not_logged_in(client.server_url(), store).await,
        });
    };
    match client.resume(&saved.refresh_token).await {
        Ok(_) => Ok(()),
        Err(error) => {
            if error.needs_login() {
                let _ = store.forget(client.server_url()).await;
                // The workstation ended this session when its terminal went away: say that.
                if let Some(sign_out) = store
                    .last_sign_out(client.server_url())
                    .await
                    .ok()
                    .flatten()
                {
                    return Err(Failure {
                        exit: Exit::NotLoggedIn,
                        message: sign_out.explain(client.server_url()),
                    });
                }
            }
            Err(error.into())
        }
    }
}

/// Why there is no saved session, and what to run: the workstation signed out when its terminal
/// went away, or nothing can be kept here (and why), or nobody logged in.
async fn not_logged_in(server_url: &str, store: &TokenStore) -> String {
    if let Some(sign_out) = store.last_sign_out(server_url).await.ok().flatten() {
        return sign_out.explain(server_url);
    }
    match store.not_kept_because() {
        Some(why) => format!(
            "not logged in to {server_url}, and no login can be kept for the next command \
             here ({why}). Make a keyring usable (or pass --token-store), then run \
             `synapse login`; or set {TOKEN_VAR} to an access token (`synapse help \
             environment`)."
        ),
        None => format!("not logged in to {server_url}. Run `synapse login` first."),
    }
}

/// Saves the newest refresh token (each is single use) or forgets an ended session.
async fn persist(client: &ApiClient, store: &TokenStore) {
    let event = client.session_events().borrow().clone();
    let outcome = match event {
        SessionEvent::Renewed {
            email,
            refresh_token,
        } => {
            store
                .save(
                    client.server_url(),
                    &SavedLogin {
                        email,
                        refresh_token,
                    },
                )
                .await
        }
        SessionEvent::Ended => store.forget(client.server_url()).await,
        SessionEvent::None => Ok(()),
    };
    if let Err(error) = outcome {
        eprintln!("synapse: warning: the session could not be saved: {error:#}");
    }
}

fn read_line(question: &str) -> Result<String, Failure> {
    prompt::read_line(question).map_err(usage)
}

fn read_password(password_stdin: bool) -> Result<String, Failure> {
    prompt::read_password(password_stdin, "Password: ").map_err(usage)
}

/// How a command gets what the person types: the password, and a second factor's code.
struct Typed {
    password_stdin: bool,
    code: Option<String>,
}

impl Typed {
    /// The code: `--code`, else the next line of standard input after the password, else
    /// prompted for.
    fn code(&self) -> Result<String, Failure> {
        if let Some(code) = &self.code {
            return Ok(code.trim().to_string());
        }
        if self.password_stdin {
            let code = read_line("")?;
            if !code.trim().is_empty() {
                return Ok(code.trim().to_string());
            }
        }
        if prompt::interactive() {
            return Ok(read_line("Code: ")?.trim().to_string());
        }
        Err(usage(
            "this account has a second factor: pass --code with the current code of your authenticator app (or a recovery code), or give it on the line after the password with --password-stdin",
        ))
    }
}

async fn login(
    client: &ApiClient,
    store: &TokenStore,
    target: &mut Target,
    email: Option<String>,
    typed: Typed,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let email = match email {
        Some(email) => email,
        None if std::io::stdin().is_terminal() => read_line("Email: ")?,
        None => return Err(usage("pass --email when standard input is not a terminal")),
    };
    let password = read_password(typed.password_stdin)?;
    let user = match client.login(email.trim(), &password).await {
        Err(ApiError {
            kind: ErrorKind::MfaRequired { mfa_token },
            ..
        }) => {
            let code = typed.code()?;
            client.verify_mfa(&mfa_token, &code).await?
        }
        other => other?,
    };
    persist(client, store).await;
    // The server is remembered whether or not the session can be: the next command (or a
    // `SYNAPSE_TOKEN`) needs no --server.
    target
        .profiles
        .remember(&target.profile, client.server_url());
    if let Err(error) = target.profiles.save(&target.profiles_path) {
        eprintln!("synapse: warning: the server is not remembered: {error:#}");
    }
    if !store.remembers() {
        eprintln!(
            "synapse: warning: {}; the next command will not be logged in. Make a keyring \
             usable, or use {TOKEN_VAR} (see `synapse help environment`).",
            store.not_kept_because().unwrap_or_else(|| store.status())
        );
    }
    let data = serde_json::json!({
        "server": client.server_url(),
        "profile": target.profile,
        "user": user,
        "session_kept": store.remembers(),
        "token_store": store.status(),
        "mfa_enrollment_required": client.enrolment_due(),
    });
    print(out, Data::One(to_value(&data)?), || {
        let remembered = if store.remembers() {
            format!("Session kept in {}.", store.place())
        } else {
            format!("{}: log in again next time.", store.status())
        };
        let due = if client.enrolment_due() {
            "Your role needs a second factor: run `synapse auth mfa enroll` before anything else.\n"
        } else {
            ""
        };
        format!(
            "Logged in to {} as {} ({}). {remembered}\n{due}",
            client.server_url(),
            user.full_name,
            user.role.as_str()
        )
    })
}

/// `auth mfa enroll|confirm`.
async fn mfa(client: &ApiClient, command: MfaCommand, outer: &OutputArgs) -> Result<(), Failure> {
    let (code, out) = match command {
        MfaCommand::Enroll { code, output } => {
            let out = output.or(outer);
            let for_a_person = out.format() == output::Format::Table;
            let enrolment = client.enroll_mfa().await?;
            if !for_a_person && code.is_none() {
                return print(&out, Data::One(to_value(&enrolment)?), String::new);
            }
            if for_a_person {
                println!("Scan this with your authenticator app, or type the secret in by hand.\n");
                println!("{}", crate::client::qr::text(&enrolment.otpauth_uri, true));
                println!("Secret: {}", enrolment.secret);
                println!("URI:    {}\n", enrolment.otpauth_uri);
            }
            let code = match code {
                Some(code) => code,
                None if prompt::interactive() => read_line("Code shown by the app: ")?,
                None => {
                    println!(
                        "Then run `synapse auth mfa confirm --code CODE` with the app's code."
                    );
                    return Ok(());
                }
            };
            (code, out)
        }
        MfaCommand::Confirm { code, output } => {
            let code = match code {
                Some(code) => code,
                None if prompt::interactive() => read_line("Code: ")?,
                None => {
                    return Err(usage(
                        "pass --code with the current code of your authenticator app",
                    ));
                }
            };
            (code, output.or(outer))
        }
    };
    let codes = client
        .confirm_mfa(code.trim())
        .await
        .map_err(|e| with_flags(e, &[("code", "--code")]))?;
    print(&out, Data::One(to_value(&codes)?), || {
        let mut text = String::from(
            "The second factor is on: logging in and signing now need a code.\n\
             Recovery codes (each works once; keep them somewhere safe, they are not shown again):\n",
        );
        for code in &codes.recovery_codes {
            text.push_str(&format!("  {code}\n"));
        }
        text
    })
}

/// A validation error whose fields are named as this command's flags.
fn with_flags(error: ApiError, flags: &[(&str, &str)]) -> Failure {
    if let ErrorKind::Validation { fields } = &error.kind
        && let Some(field) = fields.first()
        && let Some((_, flag)) = flags.iter().find(|(name, _)| *name == field.field)
    {
        return usage(format!("{flag} {}", field.message));
    }
    error.into()
}

async fn logout(client: &ApiClient, store: &TokenStore, out: &OutputArgs) -> Result<(), Failure> {
    let saved = store.load(client.server_url()).await.ok().flatten();
    if let Some(saved) = saved
        && client.resume(&saved.refresh_token).await.is_ok()
    {
        // The server ends the session at once; a failure here still forgets it locally.
        let _ = client.logout().await;
    }
    let forgotten = match store.forget(client.server_url()).await {
        Ok(()) => store.clear_sign_out(client.server_url()).await,
        Err(error) => Err(error),
    };
    forgotten.map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot clear the token store: {e:#}"),
    })?;
    let data = serde_json::json!({
        "server": client.server_url(),
        "logged_out": true,
    });
    print(out, Data::One(to_value(&data)?), || {
        format!("Logged out of {}.\n", client.server_url())
    })
}

/// Where the session is kept, in a few words.
fn auth_place(auth: &Auth) -> String {
    match auth {
        Auth::Store(store) => store.status(),
        Auth::Token(_) => format!("access token from {TOKEN_VAR} (not kept)"),
    }
}

fn access_until(client: &ApiClient) -> Option<String> {
    client
        .access_expires_at()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
}

async fn whoami(client: &ApiClient, auth: &Auth, out: &OutputArgs) -> Result<(), Failure> {
    let user = client.me().await?;
    print(out, Data::One(to_value(&user)?), || {
        fields(&[
            ("user", format!("{} <{}>", user.full_name, user.email)),
            ("role", user.role.as_str().to_string()),
            ("server", client.server_url().to_string()),
            ("token store", auth_place(auth)),
            ("access until", or_dash(access_until(client))),
        ])
    })
}

async fn auth_status(
    client: &ApiClient,
    auth: &Auth,
    target: &Target,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let user: User = client.me().await?;
    let data = serde_json::json!({
        "profile": target.profile,
        "server": client.server_url(),
        "user": user,
        "token_store": auth_place(auth),
        "access_expires_at": client.access_expires_at(),
    });
    print(out, Data::One(to_value(&data)?), || {
        fields(&[
            ("profile", target.profile.clone()),
            ("server", client.server_url().to_string()),
            (
                "logged in as",
                format!(
                    "{} <{}> ({})",
                    user.full_name,
                    user.email,
                    user.role.as_str()
                ),
            ),
            ("token store", auth_place(auth)),
            ("access until", or_dash(access_until(client))),
        ])
    })
}

async fn auth_token(client: &ApiClient, out: &OutputArgs) -> Result<(), Failure> {
    let token = client.access_token().await?;
    let data = serde_json::json!({
        "access_token": token,
        "expires_at": client.access_expires_at(),
    });
    print(out, Data::One(to_value(&data)?), || format!("{token}\n"))
}

/// The API's data as JSON, for [`print`].
fn to_value<T: serde::Serialize>(value: &T) -> Result<output::Value, Failure> {
    output::Value::of(value).map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot print JSON: {e}"),
    })
}

/// Prints `data` as `--format` and `--fields` say (see [`output`]); `table` is the human form.
fn print(out: &OutputArgs, data: Data, table: impl FnOnce() -> String) -> Result<(), Failure> {
    output::print(out, data, table).map_err(|error| match error {
        OutputError::UnknownField(message) => usage(message),
        OutputError::Write(message) => Failure {
            exit: Exit::Failed,
            message,
        },
    })
}

fn sex_letter(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "F",
        Sex::Male => "M",
        Sex::Other => "X",
        Sex::Unknown => "?",
    }
}

fn patient_rows(items: &[PatientSummary]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|p| {
            vec![
                p.mrn.clone(),
                p.full_name.clone(),
                p.date_of_birth.to_string(),
                p.age.to_string(),
                sex_letter(p.sex).to_string(),
                or_dash(p.phone.as_ref()),
                or_dash(p.last_visit_at.map(|t| t.format("%Y-%m-%d").to_string())),
                p.id.to_string(),
            ]
        })
        .collect()
}

const PATIENT_HEADERS: [&str; 8] = [
    "MRN",
    "NAME",
    "BORN",
    "AGE",
    "SEX",
    "PHONE",
    "LAST VISIT",
    "ID",
];

/// On stderr, when a list stopped before the end: how to see the rest.
fn more_hint(shown: usize, pagination: &crate::model::page::Pagination) {
    if let (true, Some(cursor)) = (pagination.has_more, &pagination.next_cursor) {
        eprintln!(
            "{shown} of {} shown; --all for every page, or --cursor {cursor} for the next",
            pagination.total
        );
    }
}

/// A patient id, or an MRN looked up by exact match.
async fn patient_id(client: &ApiClient, id: &str) -> Result<Uuid, Failure> {
    if let Ok(id) = Uuid::parse_str(id) {
        return Ok(id);
    }
    let found = client.search_patients(id, Some(10)).await?;
    found
        .items
        .iter()
        .find(|p| p.mrn.eq_ignore_ascii_case(id.trim()))
        .map(|p| p.id)
        .ok_or_else(|| Failure {
            exit: Exit::NotFound,
            message: format!("no patient with id or MRN {id:?}"),
        })
}

async fn patients(
    client: &ApiClient,
    command: PatientsCommand,
    outer: &OutputArgs,
) -> Result<(), Failure> {
    match command {
        PatientsCommand::Export(args) => export::patient(client, args).await,
        PatientsCommand::List {
            search,
            limit,
            all,
            cursor,
            output,
        } => {
            let mut params = PatientListParams {
                limit: Some(limit),
                search,
                cursor,
                ..PatientListParams::default()
            };
            let mut page = client.list_patients(&params).await.map_err(flag_failure)?;
            if all {
                let mut items = std::mem::take(&mut page.items);
                while let Some(cursor) = page.pagination.next_cursor.take() {
                    params.cursor = Some(cursor);
                    page = client.list_patients(&params).await.map_err(flag_failure)?;
                    items.append(&mut page.items);
                }
                // The same shape as one page: the last page's pagination, with every item.
                page.items = items;
            }
            print(&output.or(outer), Data::List(to_value(&page)?), || {
                table(&PATIENT_HEADERS, &patient_rows(&page.items))
            })?;
            more_hint(page.items.len(), &page.pagination);
            Ok(())
        }
        PatientsCommand::Search { query, output } => {
            let found = client.search_patients(&query, None).await?;
            print(&output.or(outer), Data::List(to_value(&found)?), || {
                table(&PATIENT_HEADERS, &patient_rows(&found.items))
            })
        }
        PatientsCommand::Show { id, output } => {
            let id = patient_id(client, &id).await?;
            let p = client.get_patient(id).await?;
            print(&output.or(outer), Data::One(to_value(&p)?), || {
                patient_text(&p)
            })
        }
    }
}

fn patient_text(p: &crate::model::patient::Patient) -> String {
    {
        let allergies = match p.allergies.status {
            crate::model::patient::AllergyStatus::Known => p
                .allergies
                .items
                .iter()
                .map(|a| match &a.reaction {
                    Some(r) => format!("{} ({r})", a.substance),
                    None => a.substance.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            crate::model::patient::AllergyStatus::NoneKnown => "none known".into(),
            crate::model::patient::AllergyStatus::NotRecorded => "not recorded".into(),
        };
        let s = &p.summary;
        fields(&[
            ("name", s.full_name.clone()),
            ("MRN", s.mrn.clone()),
            ("born", format!("{} (age {})", s.date_of_birth, s.age)),
            ("sex", s.sex.as_str().to_string()),
            ("allergies", allergies),
            (
                "alerts",
                or_dash((!p.alerts.is_empty()).then(|| p.alerts.join("; "))),
            ),
            ("phone", or_dash(s.phone.as_ref())),
            ("email", or_dash(s.email.as_ref())),
            ("address", or_dash(p.address.as_ref())),
            (
                "symptoms",
                or_dash((!p.symptoms.is_empty()).then(|| {
                    p.symptoms
                        .iter()
                        .map(|x| x.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })),
            ),
            ("consultations", p.consultation_count.to_string()),
            (
                "last visit",
                or_dash(
                    s.last_visit_at
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                ),
            ),
            ("id", s.id.to_string()),
        ])
    }
}

fn report_rows(items: &[ReportSummary]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|r| {
            vec![
                r.created_at.format("%Y-%m-%d %H:%M").to_string(),
                r.status.as_str().to_string(),
                r.patient.full_name.clone(),
                r.patient.mrn.clone(),
                r.consultation.session_type.as_str().to_string(),
                or_dash(r.confidence.map(|c| format!("{:.0}%", c * 100.0))),
                r.id.to_string(),
            ]
        })
        .collect()
}

fn report_text(r: &Report) -> String {
    let s = &r.summary;
    let c = &r.content;
    let list = |items: Vec<String>| or_dash((!items.is_empty()).then(|| items.join("\n")));
    let mut pairs = vec![
        (
            "patient",
            format!(
                "{} ({}, {} y, {})",
                s.patient.full_name,
                s.patient.mrn,
                s.patient.age,
                s.patient.sex.as_str()
            ),
        ),
        ("status", s.status.as_str().to_string()),
        ("version", r.version.to_string()),
        (
            "session",
            format!(
                "{} {}",
                s.consultation.session_code,
                s.consultation.session_type.as_str()
            ),
        ),
        (
            "complaint",
            or_dash(s.consultation.chief_complaint.as_ref()),
        ),
        ("created", s.created_at.format("%Y-%m-%d %H:%M").to_string()),
        (
            "confidence",
            or_dash(s.confidence.map(|c| format!("{:.0}%", c * 100.0))),
        ),
        ("history", or_dash(c.history.as_ref())),
        ("mental status", or_dash(c.mental_status.as_ref())),
        ("assessment", or_dash(c.assessment.as_ref())),
        (
            "diagnoses",
            list(
                c.diagnoses
                    .iter()
                    .map(|d| match &d.code {
                        Some(code) => format!("{code} {}", d.description),
                        None => d.description.clone(),
                    })
                    .collect(),
            ),
        ),
        (
            "medications",
            list(
                c.medication_plan
                    .iter()
                    .map(crate::model::report::Medication::summary)
                    .collect(),
            ),
        ),
        ("plan", list(c.recommendations.clone())),
        ("follow-up", or_dash(c.follow_up.as_ref())),
    ];
    if let Some(signer) = &r.signed_by {
        let at = or_dash(s.signed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()));
        pairs.push(("signed", format!("{} at {at}", signer.full_name)));
    }
    for addendum in &r.addenda {
        pairs.push((
            "addendum",
            format!(
                "{} ({}, {})",
                addendum.text,
                addendum.author.full_name,
                addendum.created_at.format("%Y-%m-%d")
            ),
        ));
    }
    if let Some(reason) = &r.failure_reason {
        pairs.push(("failed", reason.clone()));
    }
    pairs.push(("id", s.id.to_string()));
    fields(&pairs)
}

async fn reports(
    client: &ApiClient,
    command: ReportsCommand,
    outer: &OutputArgs,
) -> Result<(), Failure> {
    match command {
        ReportsCommand::Export(args) => export::report(client, args).await,
        ReportsCommand::List {
            status,
            patient,
            from,
            to,
            limit,
            all,
            cursor,
            output,
        } => {
            let status = status
                .map(|s| {
                    ReportStatus::parse(&s).ok_or_else(|| {
                        usage(format!(
                            "--status {s:?} is not one of pending, generating, completed, signed, failed"
                        ))
                    })
                })
                .transpose()?;
            let patient_id = match patient {
                Some(key) => Some(patient_id(client, &key).await?),
                None => None,
            };
            let mut params = ReportListParams {
                patient_id,
                status,
                date_from: from,
                date_to: to,
                limit: Some(limit),
                cursor,
                ..ReportListParams::default()
            };
            let mut page = client.list_reports(&params).await.map_err(flag_failure)?;
            if all {
                let mut items = std::mem::take(&mut page.items);
                while let Some(cursor) = page.pagination.next_cursor.take() {
                    params.cursor = Some(cursor);
                    page = client.list_reports(&params).await.map_err(flag_failure)?;
                    items.append(&mut page.items);
                }
                page.items = items;
            }
            print(&output.or(outer), Data::List(to_value(&page)?), || {
                table(
                    &["CREATED", "STATUS", "PATIENT", "MRN", "TYPE", "CONF", "ID"],
                    &report_rows(&page.items),
                )
            })?;
            more_hint(page.items.len(), &page.pagination);
            Ok(())
        }
        ReportsCommand::Show { id, output } => {
            let report = client.get_report(id).await?;
            print(&output.or(outer), Data::One(to_value(&report)?), || {
                report_text(&report)
            })
        }
        ReportsCommand::Sign {
            id,
            version,
            password_stdin,
            output,
            code,
        } => {
            let password = read_password(password_stdin)?;
            let typed = Typed {
                password_stdin,
                code,
            };
            let mut result = client
                .sign_report(id, version, &password, typed.code.as_deref())
                .await;
            // The server names `code` when the doctor has a second factor: ask for it then.
            if typed.code.is_none()
                && let Err(ApiError {
                    kind: ErrorKind::Validation { fields },
                    ..
                }) = &result
                && fields.iter().any(|f| f.field == "code")
            {
                let code = typed.code()?;
                result = client
                    .sign_report(id, version, &password, Some(&code))
                    .await;
            }
            let report = match result {
                Ok(report) => report,
                Err(error) => {
                    if let ErrorKind::VersionConflict { current_version } = error.kind {
                        return Err(Failure {
                            exit: Exit::Failed,
                            message: format!(
                                "Report {id} changed since version {version} (it is at version {}); nothing was signed. Read it again with `synapse reports show {id}` and sign the version you read.",
                                current_version.map_or("a later".to_string(), |v| v.to_string())
                            ),
                        });
                    }
                    return Err(error.into());
                }
            };
            print(&output.or(outer), Data::One(to_value(&report)?), || {
                format!(
                    "Signed version {} of report {id} ({}, {}).\n",
                    report.version, report.summary.patient.full_name, report.summary.patient.mrn
                )
            })
        }
        ReportsCommand::Stats { output } => {
            let stats = client.report_stats(&ReportStatsParams::default()).await?;
            print(&output.or(outer), Data::One(to_value(&stats)?), || {
                let b = &stats.by_status;
                fields(&[
                    ("total", stats.total.to_string()),
                    ("unsigned", stats.unsigned.to_string()),
                    ("last 7 days", stats.recent_7d.to_string()),
                    ("pending", b.pending.to_string()),
                    ("generating", b.generating.to_string()),
                    ("completed", b.completed.to_string()),
                    ("signed", b.signed.to_string()),
                    ("failed", b.failed.to_string()),
                    (
                        "confidence",
                        or_dash(
                            stats
                                .average_confidence
                                .map(|c| format!("{:.0}% on average", c * 100.0)),
                        ),
                    ),
                    (
                        "last 30 days",
                        stats
                            .daily
                            .iter()
                            .map(|d| d.count.to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                ])
            })
        }
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn a_rate_limit_says_how_long_to_wait() {
        let error = ApiError::new(
            ErrorKind::RateLimited { retry_after_s: 12 },
            "Too many requests",
            None,
        );
        let failure = Failure::from(error);
        assert!(
            failure.message.contains("wait 12 seconds"),
            "{}",
            failure.message
        );
        assert!(matches!(failure.exit, Exit::Failed));
    }

    #[test]
    fn errors_speak_of_what_a_command_does() {
        for error in [
            ApiError::unreachable("r1"),
            ApiError::session_ended(),
            ApiError::timeout("r2"),
        ] {
            let failure = Failure::from(error);
            let message = failure.message.to_lowercase();
            assert!(!message.contains("retrying"), "{message}");
            assert!(!message.contains("enter your password"), "{message}");
        }
    }
}
