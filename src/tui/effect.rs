//! Effects: what `update` asks the outside world to do. The runner performs each in a tokio
//! task and sends the outcome back as an `Action` tagged with the request number, so `update`
//! never waits and a superseded answer can be recognised and dropped.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::action::{Action, Response, Timer};
use crate::client::{ApiClient, ApiError, ErrorKind, EventStream};
use crate::model::admin::{AdminUser, NewUser};
use crate::model::auth::User;
use crate::model::consultation::StartConsultation;
use crate::model::patient::{NewPatient, PatientUpdate};
use crate::model::query::{
    AuditParams, PageParams, PatientListParams, ReportListParams, ReportStatsParams,
};
use crate::model::report::ReportContent;
use crate::tui::components::dialogs::AccountAction;
use crate::tui::screens::running::RunningConsultation;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Call the API; the answer comes back as `Action::Response { request, .. }`.
    Call { request: u64, call: Call },
    /// Send `Action::Timer(timer)` after a delay.
    After { delay_ms: u64, timer: Timer },
    /// Open the live event stream for the signed-in user, unless it is open already; its
    /// events come back as `Action::ServerEvent`.
    Subscribe,
    /// Leave the program.
    Quit,
}

/// What `x` exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTarget {
    Report(Uuid),
    Record(Uuid),
}

/// The API calls the workstation makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Login {
        email: String,
        password: String,
    },
    /// The second step of a login: the code with the token of the login's answer.
    VerifyMfa {
        mfa_token: String,
        code: String,
    },
    Unlock {
        email: String,
        password: String,
    },
    /// Unlocking's second step, for an account with a second factor: the code with the token
    /// the password's answer gave.
    UnlockCode {
        mfa_token: String,
        code: String,
    },
    Logout,
    /// Starts setting up a second factor: a new secret.
    EnrollMfa,
    /// Turns the second factor on with the app's first code.
    ConfirmMfa {
        code: String,
    },
    ListPatients(PatientListParams),
    Search(String),
    Patient(Uuid),
    /// The patient a report is about, for the banner pinned above it.
    BannerPatient(Uuid),
    History(Uuid),
    PatientReports(Uuid),
    Reports(ReportListParams),
    Report(Uuid),
    ReportPreview(Uuid),
    PollReport(Uuid),
    EditReport {
        id: Uuid,
        content: ReportContent,
        version: u32,
    },
    Sign {
        id: Uuid,
        /// The version the doctor was shown.
        version: u32,
        password: String,
        /// The authenticator's code, when the doctor has a second factor.
        code: Option<String>,
    },
    Addendum {
        id: Uuid,
        text: String,
    },
    Start(StartConsultation),
    Consultation(Uuid),
    /// The open consultation looked at again after an event, keeping the notes on screen.
    ConsultationChanged(Uuid),
    SaveNotes {
        id: Uuid,
        notes: String,
    },
    Stop {
        id: Uuid,
        notes: String,
    },
    Cancel {
        id: Uuid,
        reason: String,
    },
    Active,
    /// The running consultations, each with its patient's summary.
    Running,
    /// A consultation with its notes, to read.
    PastConsultation(Uuid),
    Stats(ReportStatsParams),
    Unsigned,
    /// Who is logged in (see `Response::Me`).
    Me,
    /// Every account (each page of the list).
    Users,
    CreateUser(NewUser),
    /// Unlock, enable or disable an account.
    Account(AccountAction, Uuid),
    ResetPassword {
        id: Uuid,
        password: String,
    },
    EndSessions(Uuid),
    /// The user's own open sessions.
    OwnSessions,
    /// Ends one of the user's own sessions.
    EndOwnSession(Uuid),
    Audit(AuditParams),
    /// Every row `params` keeps, written to `path` as JSON lines.
    /// A report or a patient's record as a PDF, saved in the directory under the server's
    /// file name (a number added rather than a file replaced).
    Export(ExportTarget, PathBuf),
    ExportAudit {
        params: AuditParams,
        path: PathBuf,
    },
    /// The active doctors, whom a receptionist registers a patient with.
    Doctors,
    /// Patients found by a name, to warn before registering the same patient twice.
    FindDuplicates(String),
    /// Boxed, as the update below: the largest calls, they would size every effect.
    CreatePatient(Box<NewPatient>),
    UpdatePatient {
        id: Uuid,
        update: Box<PatientUpdate>,
    },
}

/// Runs effects against one client, sending results back on `actions`.
#[derive(Clone)]
pub struct Runner {
    pub client: ApiClient,
    pub actions: UnboundedSender<Action>,
    /// The task reading the live event stream, while one runs.
    events: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Runner {
    pub fn new(client: ApiClient, actions: UnboundedSender<Action>) -> Runner {
        Runner {
            client,
            actions,
            events: Arc::default(),
        }
    }

    pub fn run(&self, effect: Effect) {
        match effect {
            Effect::Call { request, call } => {
                let client = self.client.clone();
                let actions = self.actions.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let response = perform(&client, call).await;
                    let latency_ms = started.elapsed().as_millis() as u64;
                    let _ = actions.send(Action::Response {
                        request,
                        latency_ms,
                        response: Box::new(response),
                    });
                });
            }
            Effect::After { delay_ms, timer } => {
                let actions = self.actions.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    let _ = actions.send(Action::Timer(timer));
                });
            }
            Effect::Subscribe => self.subscribe(),
            // The event loop handles quitting itself.
            Effect::Quit => {}
        }
    }

    /// Starts the task that reads the live event stream, unless one runs already (it keeps
    /// its place in the stream across dropped connections by itself).
    fn subscribe(&self) {
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        if events.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let stream = self.client.events(None);
        let actions = self.actions.clone();
        *events = Some(tokio::spawn(follow_events(stream, actions)));
    }
}

/// Passes each live event to `update`. Passing failures (the server unreachable or
/// restarting) are reported and the stream is read again, which waits a little longer each
/// time and resumes where it was; a lasting one (the session ended, no event stream on this
/// server) ends the task until the next sign-in subscribes again.
async fn follow_events(mut stream: EventStream, actions: UnboundedSender<Action>) {
    loop {
        let action = match stream.next().await {
            Ok(event) => Action::ServerEvent(event),
            Err(error) => {
                let lasting =
                    !error.is_offline() && !matches!(error.kind, ErrorKind::RateLimited { .. });
                if actions.send(Action::EventsDown { lasting }).is_err() || lasting {
                    return;
                }
                continue;
            }
        };
        if actions.send(action).is_err() {
            return;
        }
    }
}

async fn perform(client: &ApiClient, call: Call) -> Response {
    match call {
        Call::Login { email, password } => signed_in(
            client,
            client.login(&email, &password).await,
            Response::Login,
        ),
        Call::VerifyMfa { mfa_token, code } => signed_in(
            client,
            client.verify_mfa(&mfa_token, &code).await,
            Response::Login,
        ),
        Call::EnrollMfa => Response::MfaEnrolment(client.enroll_mfa().await),
        Call::ConfirmMfa { code } => Response::MfaConfirmed(client.confirm_mfa(&code).await),
        Call::Unlock { email, password } => Response::Unlock(client.login(&email, &password).await),
        Call::UnlockCode { mfa_token, code } => {
            Response::Unlock(client.verify_mfa(&mfa_token, &code).await)
        }
        Call::Logout => {
            let _ = client.logout().await;
            Response::LoggedOut
        }
        Call::ListPatients(params) => Response::Patients(client.list_patients(&params).await),
        Call::Search(q) => Response::Search(client.search_patients(&q, Some(20)).await),
        Call::Patient(id) => Response::Patient(client.get_patient(id).await),
        Call::BannerPatient(id) => Response::BannerPatient(client.get_patient(id).await),
        Call::History(id) => Response::History(
            client
                .consultation_history(
                    id,
                    &PageParams {
                        limit: Some(50),
                        offset: None,
                    },
                )
                .await,
        ),
        Call::PatientReports(id) => Response::PatientReports(
            client
                .list_reports(&ReportListParams {
                    patient_id: Some(id),
                    limit: Some(50),
                    ..ReportListParams::default()
                })
                .await,
        ),
        Call::Reports(params) => Response::Reports(client.list_reports(&params).await),
        Call::Report(id) => Response::Report(client.get_report(id).await),
        Call::ReportPreview(id) => Response::ReportPreview(client.get_report(id).await),
        Call::PollReport(id) => Response::Polled(client.get_report(id).await),
        Call::EditReport {
            id,
            content,
            version,
        } => Response::ReportSaved(client.edit_report(id, &content, version).await),
        Call::Sign {
            id,
            version,
            password,
            code,
        } => Response::Signed(
            client
                .sign_report(id, version, &password, code.as_deref())
                .await,
        ),
        Call::Addendum { id, text } => {
            Response::AddendumAdded(client.add_addendum(id, &text).await)
        }
        Call::Start(start) => Response::Consultation(client.start_consultation(&start).await),
        Call::Consultation(id) => Response::Consultation(client.get_consultation(id).await),
        Call::ConsultationChanged(id) => {
            Response::ConsultationChanged(client.get_consultation(id).await)
        }
        Call::SaveNotes { id, notes } => {
            Response::NotesSaved(client.update_notes(id, &notes).await)
        }
        Call::Stop { id, notes } => {
            Response::Stopped(client.stop_consultation(id, Some(&notes)).await)
        }
        Call::Cancel { id, reason } => {
            Response::Cancelled(client.cancel_consultation(id, &reason).await)
        }
        Call::Active => Response::Active(client.active_consultations().await),
        Call::Running => Response::Running(running(client).await),
        Call::PastConsultation(id) => Response::PastConsultation(client.get_consultation(id).await),
        Call::Stats(params) => Response::Stats(client.report_stats(&params).await),
        Call::Doctors => Response::Doctors(client.list_doctors().await),
        Call::FindDuplicates(name) => Response::Duplicates(
            client
                .search_patients(&name, Some(crate::model::page::MAX_SEARCH_LIMIT))
                .await,
        ),
        Call::CreatePatient(patient) => {
            Response::PatientSaved(client.create_patient(&patient).await)
        }
        Call::UpdatePatient { id, update } => {
            Response::PatientSaved(client.update_patient(id, &update).await)
        }
        Call::Unsigned => Response::Unsigned(
            client
                .report_stats(&ReportStatsParams {
                    patient_id: None,
                    days: Some(1),
                })
                .await,
        ),
        Call::Me => Response::Me(client.me().await),
        Call::Users => Response::Users(all_users(client).await),
        Call::CreateUser(user) => Response::UserCreated(client.create_user(&user).await),
        Call::Account(action, id) => Response::AccountChanged(
            action,
            match action {
                AccountAction::Unlock => client.unlock_user(id).await,
                AccountAction::Enable => client.enable_user(id).await,
                // Ending sessions has its own call; this arm is not reached with it.
                AccountAction::Disable | AccountAction::EndSessions => {
                    client.disable_user(id).await
                }
            },
        ),
        Call::ResetPassword { id, password } => {
            Response::PasswordReset(client.reset_password(id, &password).await)
        }
        Call::EndSessions(id) => Response::SessionsEnded(client.revoke_sessions(id).await),
        Call::OwnSessions => Response::OwnSessions(client.list_sessions().await),
        Call::EndOwnSession(id) => Response::OwnSessionEnded(id, client.end_session(id).await),
        Call::Audit(params) => Response::Audit(client.audit(&params).await),
        Call::Export(target, dir) => Response::Exported(export_pdf(client, target, &dir).await),
        Call::ExportAudit { params, path } => {
            Response::AuditExported(export_audit(client, params, &path).await)
        }
    }
}

/// The answer of a login or a resumed session: `MustEnrol` when the server said the account's
/// role needs a second factor it has not got (the session can do nothing else), else `answer`.
pub(crate) fn signed_in(
    client: &ApiClient,
    result: Result<User, ApiError>,
    answer: fn(Result<User, ApiError>) -> Response,
) -> Response {
    match result {
        Ok(user) if client.enrolment_due() => Response::MustEnrol(user),
        result => answer(result),
    }
}

/// Downloads the PDF and writes it into `dir` without replacing a file: `NAME.pdf`, else
/// `NAME-2.pdf`, `NAME-3.pdf`…; answers the path written.
async fn export_pdf(
    client: &ApiClient,
    target: ExportTarget,
    dir: &std::path::Path,
) -> Result<String, String> {
    use crate::model::export::ExportFormat;
    use tokio::io::AsyncWriteExt;
    let file = match target {
        ExportTarget::Report(id) => client.export_report(id, ExportFormat::Pdf).await,
        ExportTarget::Record(id) => client.export_patient_record(id, ExportFormat::Pdf).await,
    }
    .map_err(|e| e.message)?;
    let cannot_write = |path: &std::path::Path, e: std::io::Error| {
        format!(
            "Cannot write {}: {e}. Set export_dir in the [tui] table of the config file.",
            path.display()
        )
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| cannot_write(dir, e))?;
    let stem = file.file_name.trim_end_matches(".pdf").to_string();
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{stem}.pdf")
        } else {
            format!("{stem}-{n}.pdf")
        };
        let path = dir.join(name);
        // Private: an export is a patient's record.
        match tokio::fs::OpenOptions::from(crate::private_file::options())
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(mut out) => {
                out.write_all(&file.bytes)
                    .await
                    .map_err(|e| cannot_write(&path, e))?;
                out.flush().await.map_err(|e| cannot_write(&path, e))?;
                return Ok(path.display().to_string());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(cannot_write(&path, e)),
        }
    }
    Err(format!(
        "{} has too many exports named {stem}; move some away.",
        dir.display()
    ))
}

/// Every account, page after page (an organisation has tens or hundreds).
async fn all_users(client: &ApiClient) -> Result<Vec<AdminUser>, ApiError> {
    let mut users = Vec::new();
    loop {
        let page = client
            .list_users(&PageParams {
                limit: Some(crate::model::page::MAX_LIMIT),
                offset: Some(users.len() as u64),
            })
            .await?;
        let done = !page.pagination.has_more || page.items.is_empty();
        users.extend(page.items);
        if done {
            return Ok(users);
        }
    }
}

/// Writes every row `params` keeps to `path`, one JSON object a line, newest first, a page at
/// a time (a long trail never sits in memory whole); returns the path and the count. A file
/// left half written by a failure is removed. Pages follow the server's cursors, so rows
/// written meanwhile shift no row; without an end of its own, the export still ends when it
/// starts, so the file is the trail as it was then.
async fn export_audit(
    client: &ApiClient,
    mut params: AuditParams,
    path: &std::path::Path,
) -> Result<(String, u64), String> {
    use tokio::io::AsyncWriteExt;
    if params.until.is_none() {
        params.until = Some(chrono::Utc::now().to_rfc3339());
    }
    let cannot_write =
        |e: std::io::Error| format!("Cannot write {}: {e}. Type another path.", path.display());
    let mut file = tokio::fs::File::create(path).await.map_err(cannot_write)?;
    let mut count: u64 = 0;
    let written: Result<(), String> = async {
        loop {
            let page = client.audit(&params).await.map_err(|e| e.message)?;
            params.offset = None;
            params.cursor = page.pagination.next_cursor.clone();
            let done =
                !page.pagination.has_more || page.items.is_empty() || params.cursor.is_none();
            let mut lines = String::new();
            for event in &page.items {
                lines.push_str(&serde_json::to_string(event).map_err(|e| e.to_string())?);
                lines.push('\n');
                count += 1;
            }
            file.write_all(lines.as_bytes())
                .await
                .map_err(cannot_write)?;
            if done {
                return file.flush().await.map_err(cannot_write);
            }
        }
    }
    .await;
    if let Err(error) = written {
        drop(file);
        let _ = tokio::fs::remove_file(path).await;
        return Err(error);
    }
    Ok((path.display().to_string(), count))
}

/// The running consultations with their patients: the list, then each patient's record at
/// once (a doctor has a handful running; each patient has at most one). A patient that cannot
/// be read leaves its row without a name rather than failing the list.
async fn running(client: &ApiClient) -> Result<Vec<RunningConsultation>, ApiError> {
    let active = client.active_consultations().await?;
    let patients = futures_util::future::join_all(
        active
            .items
            .iter()
            .map(|c| client.get_patient(c.patient_id)),
    )
    .await;
    Ok(active
        .items
        .into_iter()
        .zip(patients)
        .map(|(consultation, patient)| RunningConsultation {
            consultation,
            patient: patient.ok().map(|p| p.summary),
        })
        .collect())
}
