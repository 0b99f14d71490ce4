//! Everything that can happen to the workstation: a key, a paste, a resize, a clock tick, the
//! answer to an API call, a signal. `update` turns each into state changes and effects.

use crossterm::event::{KeyEvent, MouseEvent};
use uuid::Uuid;

use crate::client::ApiError;
use crate::model::admin::{AdminUser, AuditEvent, SessionsRevoked};
use crate::model::auth::{MfaEnrollment, MfaRecoveryCodes, SessionEnded, SessionList, User};
use crate::model::consultation::{ActiveConsultations, Consultation, ConsultationHistory};
use crate::model::event::Event;
use crate::model::page::{Page, SearchResults};
use crate::model::patient::{DoctorSummary, Patient, PatientSummary};
use crate::model::report::{Report, ReportPage, ReportStats};
use crate::tui::components::dialogs::AccountAction;
use crate::tui::screens::running::RunningConsultation;

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    /// Only when the mouse is enabled in the config.
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The clock: milliseconds since the workstation started.
    Tick(u64),
    /// An API call finished.
    Response {
        request: u64,
        latency_ms: u64,
        // Boxed: answers are large and actions are moved through a channel.
        response: Box<Response>,
    },
    /// A debounce timer set by an effect ran out.
    Timer(Timer),
    /// The connection came back after being offline.
    Online,
    /// The server said something changed in the doctor's records (the live event stream).
    ServerEvent(Event),
    /// The live event stream broke. `lasting` when it will not come back by itself (the
    /// session ended, or the server has no event stream): then it is opened again only
    /// after the next sign-in.
    EventsDown {
        lasting: bool,
    },
    /// SIGTERM or SIGHUP (the SSH link dropped): log out and leave.
    Terminate,
}

/// The debounce timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Search after the doctor paused typing; carries the input's edit number.
    Search(u64),
    /// The wait the server asked for (429) is over: search for what is typed now.
    SearchResume,
    /// Save the notes after the doctor paused typing; carries the notes' edit number.
    SaveNotes(u64),
    /// Look again at a report that is being generated.
    PollReport(Uuid),
    /// Try the server again while offline.
    Reconnect,
    /// Reload what live events marked as changed (a burst of events is one reload).
    LiveRefresh,
}

/// The typed answers of the API calls the workstation makes.
#[derive(Debug, Clone)]
pub enum Response {
    Login(Result<User, ApiError>),
    Unlock(Result<User, ApiError>),
    Resumed(Result<User, ApiError>),
    /// Logged in (or resumed), and the role needs a second factor the account has not got.
    MustEnrol(User),
    LoggedOut,
    /// A new secret to set up a second factor with.
    MfaEnrolment(Result<MfaEnrollment, ApiError>),
    /// The second factor is on: the recovery codes.
    MfaConfirmed(Result<MfaRecoveryCodes, ApiError>),
    Patients(Result<Page<PatientSummary>, ApiError>),
    Search(Result<SearchResults<PatientSummary>, ApiError>),
    Patient(Result<Patient, ApiError>),
    BannerPatient(Result<Patient, ApiError>),
    History(Result<ConsultationHistory, ApiError>),
    PatientReports(Result<ReportPage, ApiError>),
    Reports(Result<ReportPage, ApiError>),
    Report(Result<Report, ApiError>),
    ReportPreview(Result<Report, ApiError>),
    Polled(Result<Report, ApiError>),
    ReportSaved(Result<Report, ApiError>),
    Signed(Result<Report, ApiError>),
    AddendumAdded(Result<Report, ApiError>),
    Consultation(Result<Consultation, ApiError>),
    ConsultationChanged(Result<Consultation, ApiError>),
    NotesSaved(Result<Consultation, ApiError>),
    Stopped(Result<Consultation, ApiError>),
    Cancelled(Result<Consultation, ApiError>),
    Active(Result<ActiveConsultations, ApiError>),
    /// The running consultations with their patients, for their list.
    Running(Result<Vec<RunningConsultation>, ApiError>),
    /// A past consultation with its notes, to read.
    PastConsultation(Result<Consultation, ApiError>),
    Stats(Result<ReportStats, ApiError>),
    Unsigned(Result<ReportStats, ApiError>),
    /// Who is logged in: whether the server answers, for a role without the unsigned count.
    Me(Result<User, ApiError>),
    /// Every account, for the administrator's users screen.
    Users(Result<Vec<AdminUser>, ApiError>),
    /// The account just created.
    UserCreated(Result<AdminUser, ApiError>),
    /// An account after an action on it.
    AccountChanged(AccountAction, Result<AdminUser, ApiError>),
    /// An account after its password was reset.
    PasswordReset(Result<AdminUser, ApiError>),
    /// How many sessions of an account were ended.
    SessionsEnded(Result<SessionsRevoked, ApiError>),
    /// The user's own open sessions.
    OwnSessions(Result<SessionList, ApiError>),
    /// One of the user's sessions was ended (its id), or why not.
    OwnSessionEnded(Uuid, Result<SessionEnded, ApiError>),
    /// A page of the audit trail.
    Audit(Result<Page<AuditEvent>, ApiError>),
    /// The file the audit rows were written to and how many, or why none were.
    AuditExported(Result<(String, u64), String>),
    /// The path an export (`x`) was written to, or why it was not.
    Exported(Result<String, String>),
    Doctors(Result<Vec<DoctorSummary>, ApiError>),
    /// The search before registering, for a patient of the same name and date of birth.
    Duplicates(Result<SearchResults<PatientSummary>, ApiError>),
    /// A patient registered or changed through the patient form.
    PatientSaved(Result<Patient, ApiError>),
}

impl Response {
    /// Whether the call succeeded (any success while offline means online again).
    pub fn is_ok(&self) -> bool {
        match self {
            Response::Login(r) | Response::Unlock(r) | Response::Resumed(r) | Response::Me(r) => {
                r.is_ok()
            }
            Response::LoggedOut | Response::MustEnrol(_) => true,
            Response::MfaEnrolment(r) => r.is_ok(),
            Response::MfaConfirmed(r) => r.is_ok(),
            Response::Patients(r) => r.is_ok(),
            Response::Search(r) => r.is_ok(),
            Response::Patient(r) | Response::BannerPatient(r) => r.is_ok(),
            Response::History(r) => r.is_ok(),
            Response::PatientReports(r) | Response::Reports(r) => r.is_ok(),
            Response::Report(r)
            | Response::ReportPreview(r)
            | Response::Polled(r)
            | Response::ReportSaved(r)
            | Response::Signed(r)
            | Response::AddendumAdded(r) => r.is_ok(),
            Response::Consultation(r)
            | Response::ConsultationChanged(r)
            | Response::NotesSaved(r)
            | Response::Stopped(r)
            | Response::Cancelled(r) => r.is_ok(),
            Response::Active(r) => r.is_ok(),
            Response::Running(r) => r.is_ok(),
            Response::PastConsultation(r) => r.is_ok(),
            Response::Stats(r) | Response::Unsigned(r) => r.is_ok(),
            Response::Users(r) => r.is_ok(),
            Response::AccountChanged(_, r)
            | Response::PasswordReset(r)
            | Response::UserCreated(r) => r.is_ok(),
            Response::SessionsEnded(r) => r.is_ok(),
            Response::OwnSessions(r) => r.is_ok(),
            Response::OwnSessionEnded(_, r) => r.is_ok(),
            Response::Audit(r) => r.is_ok(),
            // Writing the file is not the server's answer.
            Response::AuditExported(_) | Response::Exported(_) => false,
            Response::Doctors(r) => r.is_ok(),
            Response::Duplicates(r) => r.is_ok(),
            Response::PatientSaved(r) => r.is_ok(),
        }
    }
}
