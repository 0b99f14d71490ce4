//! The workstation's state: plain data, changed only by `update`. One patient at most is in
//! context (`chart`); every screen's data lives here so rendering is a pure function of it.
//! Each screen's and component's own part is defined in its module and named here.

use super::keymap::Keymap;
use super::theme::Theme;
use crate::model::auth::User;
use crate::model::patient::Patient;
use uuid::Uuid;

pub use super::components::Overlay;
pub use super::components::dialogs::{Dialog, Section, SignDialog};
pub use super::components::lock::LockState;
pub use super::components::search::SearchState;
pub use super::live::LiveState;
pub use super::screens::audit::AuditBrowser;
pub use super::screens::chart::ChartState;
pub use super::screens::consultation::ConsultationState;
pub use super::screens::login::{LoginFocus, LoginState};
pub use super::screens::mfa_enroll::{EnrolStep, MfaEnroll};
pub use super::screens::past_notes::PastNotes;
pub use super::screens::patients::PatientList;
pub use super::screens::recent::RecentPatients;
pub use super::screens::report::ReportView;
pub use super::screens::reports::ReportBrowser;
pub use super::screens::running::RunningList;
pub use super::screens::stats::StatsState;
pub use super::screens::users::UserList;

/// The workstation's screens; which of them a role may be on is `tui::roles`'s to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Patients,
    Chart,
    Reports,
    Report,
    Consultation,
    Stats,
    /// The doctor's consultations still in progress.
    Running,
    /// The patients whose charts were opened this session.
    Recent,
    /// A past consultation's notes, read-only.
    PastNotes,
    /// The administrator's accounts.
    Users,
    /// The administrator's view of the audit trail.
    Audit,
    /// The user's own sessions, on every workstation and script.
    Sessions,
    /// Setting up a second factor: the QR code, the first code, the recovery codes.
    MfaEnroll,
}

/// Something loading, loaded, or failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// How long a notice shows.
const TOAST_MS: u64 = 4_000;
/// How long a notice with something to open shows.
const NOTICE_MS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub kind: ToastKind,
    pub until_ms: u64,
    /// What the notice's key (`open_notice`) opens: the object the notice is about, never
    /// whatever happens to be selected on the screen.
    pub open: Option<Jump>,
}

/// An object a notice can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    Report(Uuid),
}

/// Facts about the session shown in the status bar.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    pub user: Option<User>,
    pub server: String,
    pub token_store: String,
    pub remembered: bool,
    pub expires_at: Option<i64>,
    /// Demo accounts to show on the login screen (embedded demo server only).
    pub demo_accounts: Vec<String>,
    /// The account is known to have a second factor: it logged in with a code, or set one up
    /// here. A resumed session does not say, and the palette offers the setup (the server
    /// answers that one is on already).
    pub second_factor: bool,
}

/// Settings that shape behaviour, from the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub lock_after_ms: u64,
    pub search_debounce_ms: u64,
    pub notes_debounce_ms: u64,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Whether the mouse is captured (scroll moves the selection, a click selects a row).
    pub mouse: bool,
    /// Where an audit export goes unless the administrator types another path (the data
    /// directory).
    pub export_dir: std::path::PathBuf,
    /// Where `x` writes a report's or a record's PDF: `export_dir` of the config file's `[tui]`
    /// table, else the user's documents directory.
    pub documents_dir: std::path::PathBuf,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            lock_after_ms: 10 * 60 * 1000,
            search_debounce_ms: 120,
            notes_debounce_ms: 800,
            keymap: Keymap::default(),
            theme: Theme::default(),
            mouse: false,
            export_dir: std::path::PathBuf::from("."),
            documents_dir: std::path::PathBuf::from("."),
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub screen: Screen,
    /// Where Esc goes back to.
    pub history: Vec<Screen>,
    pub overlay: Option<Overlay>,
    pub dialog: Option<Dialog>,
    pub login: LoginState,
    pub patients: PatientList,
    pub search: SearchState,
    pub chart: ChartState,
    pub reports: ReportBrowser,
    pub report: ReportView,
    pub consultation: ConsultationState,
    pub stats: StatsState,
    pub running: RunningList,
    /// In memory only: never written anywhere, gone when the workstation closes.
    pub recent: RecentPatients,
    pub own_sessions: super::screens::sessions::OwnSessions,
    pub mfa_enroll: MfaEnroll,
    pub past_notes: PastNotes,
    pub users: UserList,
    pub audit: AuditBrowser,
    pub lock: LockState,
    /// The live event stream and what its events marked as changed.
    pub live: LiveState,
    /// Failed tries to reach the server since it went away, for the wait before the next.
    pub reconnects: u32,
    pub session: SessionInfo,
    pub settings: Settings,
    pub privacy: bool,
    pub offline: Option<String>,
    pub unsigned: Option<u64>,
    pub latency_ms: Option<u64>,
    pub toast: Option<Toast>,
    pub now_ms: u64,
    /// The wall clock at the last frame, for "today" and elapsed times (set by the event loop,
    /// fixed in tests so renders are repeatable).
    pub wall_now: chrono::DateTime<chrono::Utc>,
    pub last_activity_ms: u64,
    pub width: u16,
    pub height: u16,
    /// Numbers API requests so answers can be matched and stale ones dropped.
    pub next_request: u64,
    /// Whether something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
    /// Quitting was asked for with typed text not saved: the question is up.
    pub quit_asked: bool,
}

impl State {
    pub fn new(session: SessionInfo, settings: Settings) -> State {
        State {
            screen: Screen::Login,
            history: Vec::new(),
            overlay: None,
            dialog: None,
            login: LoginState::default(),
            patients: PatientList::default(),
            search: SearchState::default(),
            chart: ChartState::default(),
            reports: ReportBrowser::default(),
            report: ReportView::default(),
            consultation: ConsultationState::default(),
            stats: StatsState::default(),
            running: RunningList::default(),
            recent: RecentPatients::default(),
            own_sessions: Default::default(),
            mfa_enroll: MfaEnroll::default(),
            past_notes: PastNotes::default(),
            users: UserList::default(),
            audit: AuditBrowser::default(),
            lock: LockState::default(),
            live: LiveState::default(),
            reconnects: 0,
            session,
            settings,
            privacy: false,
            offline: None,
            unsigned: None,
            latency_ms: None,
            toast: None,
            now_ms: 0,
            wall_now: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            last_activity_ms: 0,
            width: 80,
            height: 24,
            next_request: 1,
            dirty: true,
            quit: false,
            quit_asked: false,
        }
    }

    /// A fresh request number.
    pub fn request(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    pub fn toast(&mut self, text: impl Into<String>, kind: ToastKind) {
        self.toast = Some(Toast {
            text: text.into(),
            kind,
            until_ms: self.now_ms + TOAST_MS,
            open: None,
        });
    }

    /// A notice about one object, which its key opens while it shows (a little longer than
    /// other notices, so there is time to reach for the key).
    pub fn notice(&mut self, text: impl Into<String>, kind: ToastKind, open: Jump) {
        self.toast = Some(Toast {
            text: text.into(),
            kind,
            until_ms: self.now_ms + NOTICE_MS,
            open: Some(open),
        });
    }

    /// Goes to a screen, remembering where the doctor was.
    pub fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            if self.screen != Screen::Login {
                self.history.push(self.screen);
            }
            self.screen = screen;
        }
    }

    /// The patient in context, if loaded.
    pub fn patient(&self) -> Option<&Patient> {
        self.chart.patient.ready()
    }
}
