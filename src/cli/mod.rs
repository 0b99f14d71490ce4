//! The scripting CLI: `synapse login|logout|whoami|patients …|reports …`, the same typed client
//! as the workstation without the terminal UI. Human tables by default, `--json` for the API's
//! `data` exactly; exit codes say what went wrong (see [`Exit`]).

mod export;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Subcommand;
use uuid::Uuid;

use crate::client::settings::ClientSettings;
use crate::client::{ApiClient, ApiError, ErrorKind, SessionEvent};
use crate::console::table::{fields, or_dash, table};
use crate::console::{Exit, prompt};
use crate::credentials::{SavedLogin, TokenStore, TokenStoreChoice};
use crate::model::patient::{PatientSummary, Sex};
use crate::model::query::{PatientListParams, ReportListParams, ReportStatsParams};
use crate::model::report::{Report, ReportStatus, ReportSummary};

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
        #[arg(long)]
        all: bool,
    },
    /// Find patients by name, MRN, phone or email.
    Search { query: String },
    /// Show a patient's chart (by id or MRN).
    Show { id: String },
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
        /// Only this patient's reports (id).
        #[arg(long)]
        patient: Option<Uuid>,
        /// From this date (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Up to and including this date.
        #[arg(long)]
        to: Option<String>,
        /// Rows (1–100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show a report.
    Show { id: Uuid },
    /// Sign a completed report: the version you read (`reports show` prints it) and your
    /// password. A report changed since that version is not signed.
    Sign {
        id: Uuid,
        /// The version you read and are signing.
        #[arg(long)]
        version: u32,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Report counts by status, and the last 30 days.
    Stats,
    /// Export a report to a PDF or Markdown file.
    Export(export::ReportExport),
}

/// The CLI's commands, as `synapse` parses them (main.rs flattens them into its own).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a server and remember the session in the OS keyring.
    Login {
        /// Account email (prompted for when left out).
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// End the session on the server and forget it here.
    Logout,
    /// Show who is logged in, where, and how the session is kept.
    Whoami,
    /// Your patients.
    #[command(subcommand)]
    Patients(PatientsCommand),
    /// Your reports.
    #[command(subcommand)]
    Reports(ReportsCommand),
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
            ErrorKind::NotFound => Exit::NotFound,
            _ if error.is_offline() || error.kind == ErrorKind::Internal => Exit::Unreachable,
            ErrorKind::Protocol => Exit::Unreachable,
            _ => Exit::Failed,
        };
        let message = match (&error.kind, &error.request_id) {
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

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        exit: Exit::Usage,
        message: message.into(),
    }
}

/// Runs one command and returns its exit code.
pub async fn run(
    command: Command,
    settings: &ClientSettings,
    token_store: TokenStoreChoice,
    json: bool,
) -> ExitCode {
    match run_inner(command, settings, token_store, json).await {
        Ok(()) => Exit::Ok.into(),
        Err(failure) => {
            eprintln!("synapse: {}", failure.message);
            failure.exit.into()
        }
    }
}

async fn run_inner(
    command: Command,
    settings: &ClientSettings,
    token_store: TokenStoreChoice,
    json: bool,
) -> Result<(), Failure> {
    let server = settings.server_url.clone().ok_or_else(|| {
        usage("no server configured: pass --server URL, set SYNAPSE_SERVER, or set server in the [client] table of the config file")
    })?;
    let client = ApiClient::new(&settings.client_config(&server))?;
    let store = TokenStore::open(token_store).await;
    match command {
        Command::Login {
            email,
            password_stdin,
        } => login(&client, &store, email, password_stdin).await,
        Command::Logout => logout(&client, &store).await,
        Command::Whoami => {
            resume(&client, &store).await?;
            let outcome = whoami(&client, &store, json).await;
            persist(&client, &store).await;
            outcome
        }
        Command::Patients(command) => {
            resume(&client, &store).await?;
            let outcome = patients(&client, command, json).await;
            persist(&client, &store).await;
            outcome
        }
        Command::Reports(command) => {
            resume(&client, &store).await?;
            let outcome = reports(&client, command, json).await;
            persist(&client, &store).await;
            outcome
        }
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
             `synapse login`."
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

async fn login(
    client: &ApiClient,
    store: &TokenStore,
    email: Option<String>,
    password_stdin: bool,
) -> Result<(), Failure> {
    let email = match email {
        Some(email) => email,
        None if std::io::stdin().is_terminal() => read_line("Email: ")?,
        None => return Err(usage("pass --email when standard input is not a terminal")),
    };
    let password = read_password(password_stdin)?;
    let user = client.login(email.trim(), &password).await?;
    persist(client, store).await;
    let remembered = if store.remembers() {
        format!("Session kept in {}.", store.place())
    } else {
        format!("{}: log in again next time.", store.status())
    };
    println!(
        "Logged in to {} as {} ({}). {remembered}",
        client.server_url(),
        user.full_name,
        user.role.as_str()
    );
    Ok(())
}

async fn logout(client: &ApiClient, store: &TokenStore) -> Result<(), Failure> {
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
    println!("Logged out of {}.", client.server_url());
    Ok(())
}

async fn whoami(client: &ApiClient, store: &TokenStore, json: bool) -> Result<(), Failure> {
    let user = client.me().await?;
    if json {
        return print_json(&user);
    }
    let expires = client
        .access_expires_at()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string());
    print!(
        "{}",
        fields(&[
            ("user", format!("{} <{}>", user.full_name, user.email)),
            ("role", user.role.as_str().to_string()),
            ("server", client.server_url().to_string()),
            ("token store", store.status()),
            ("access until", or_dash(expires)),
        ])
    );
    Ok(())
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        exit: Exit::Failed,
        message: format!("cannot print JSON: {e}"),
    })?;
    println!("{text}");
    Ok(())
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

async fn patients(client: &ApiClient, command: PatientsCommand, json: bool) -> Result<(), Failure> {
    match command {
        PatientsCommand::Export(args) => export::patient(client, args).await,
        PatientsCommand::List { search, limit, all } => {
            let mut params = PatientListParams {
                limit: Some(limit),
                search,
                ..PatientListParams::default()
            };
            let mut page = client.list_patients(&params).await?;
            if !all {
                if json {
                    return print_json(&page);
                }
                print!("{}", table(&PATIENT_HEADERS, &patient_rows(&page.items)));
                if page.pagination.has_more {
                    eprintln!(
                        "{} of {} shown; --all for every page",
                        page.items.len(),
                        page.pagination.total
                    );
                }
                return Ok(());
            }
            let mut items = std::mem::take(&mut page.items);
            while let Some(cursor) = page.pagination.next_cursor.take() {
                params.cursor = Some(cursor);
                page = client.list_patients(&params).await?;
                items.append(&mut page.items);
            }
            if json {
                return print_json(&items);
            }
            print!("{}", table(&PATIENT_HEADERS, &patient_rows(&items)));
            Ok(())
        }
        PatientsCommand::Search { query } => {
            let found = client.search_patients(&query, None).await?;
            if json {
                return print_json(&found);
            }
            print!("{}", table(&PATIENT_HEADERS, &patient_rows(&found.items)));
            Ok(())
        }
        PatientsCommand::Show { id } => {
            let id = patient_id(client, &id).await?;
            let p = client.get_patient(id).await?;
            if json {
                return print_json(&p);
            }
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
            print!(
                "{}",
                fields(&[
                    ("name", s.full_name.clone()),
                    ("MRN", s.mrn.clone()),
                    ("born", format!("{} (age {})", s.date_of_birth, s.age)),
                    ("sex", s.sex.as_str().to_string()),
                    ("allergies", allergies),
                    (
                        "alerts",
                        or_dash((!p.alerts.is_empty()).then(|| p.alerts.join("; ")))
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
                                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        )
                    ),
                    ("id", s.id.to_string()),
                ])
            );
            Ok(())
        }
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

async fn reports(client: &ApiClient, command: ReportsCommand, json: bool) -> Result<(), Failure> {
    match command {
        ReportsCommand::Export(args) => export::report(client, args).await,
        ReportsCommand::List {
            status,
            patient,
            from,
            to,
            limit,
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
            let params = ReportListParams {
                patient_id: patient,
                status,
                date_from: from,
                date_to: to,
                limit: Some(limit),
                ..ReportListParams::default()
            };
            let page = client.list_reports(&params).await?;
            if json {
                return print_json(&page);
            }
            print!(
                "{}",
                table(
                    &["CREATED", "STATUS", "PATIENT", "MRN", "TYPE", "CONF", "ID"],
                    &report_rows(&page.items)
                )
            );
            Ok(())
        }
        ReportsCommand::Show { id } => {
            let report = client.get_report(id).await?;
            if json {
                return print_json(&report);
            }
            print!("{}", report_text(&report));
            Ok(())
        }
        ReportsCommand::Sign {
            id,
            version,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let report = match client.sign_report(id, version, &password).await {
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
            if json {
                return print_json(&report);
            }
            println!(
                "Signed version {} of report {id} ({}, {}).",
                report.version, report.summary.patient.full_name, report.summary.patient.mrn
            );
            Ok(())
        }
        ReportsCommand::Stats => {
            let stats = client.report_stats(&ReportStatsParams::default()).await?;
            if json {
                return print_json(&stats);
            }
            let b = &stats.by_status;
            print!(
                "{}",
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
                                .map(|c| format!("{:.0}% on average", c * 100.0))
                        )
                    ),
                    (
                        "last 30 days",
                        stats
                            .daily
                            .iter()
                            .map(|d| d.count.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ])
            );
            Ok(())
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
}
